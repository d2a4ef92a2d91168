/**
 * Instances and pairs shared by every page (tables, dashboard counts, the command palette).
 * Lists are loaded whole (they are small) and reloaded after each change.
 */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../api';
import type { Instance, Pair } from '../api/types';
import { listInstances } from '../instances/api';
import { listPairs } from '../pairs/api';

interface Collection<T> {
  items: T[];
  loaded: boolean;
  error: string | null;
}

export interface DataState {
  instances: Collection<Instance>;
  pairs: Collection<Pair>;
  reloadInstances: () => Promise<void>;
  reloadPairs: () => Promise<void>;
  reloadAll: () => Promise<void>;
}

const empty = <T,>(): Collection<T> => ({ items: [], loaded: false, error: null });

const DataContext = createContext<DataState | null>(null);

export function useData(): DataState {
  const value = useContext(DataContext);
  if (!value) throw new Error('useData outside DataProvider');
  return value;
}

export function DataProvider({ children }: { children: ComponentChildren }) {
  const [instances, setInstances] = useState<Collection<Instance>>(empty);
  const [pairs, setPairs] = useState<Collection<Pair>>(empty);

  const reloadInstances = useCallback(async () => {
    try {
      const items = await listInstances();
      setInstances({ items, loaded: true, error: null });
    } catch (error) {
      setInstances((prev) => ({ ...prev, loaded: true, error: describeError(error) }));
    }
  }, []);

  const reloadPairs = useCallback(async () => {
    try {
      const items = await listPairs();
      setPairs({ items, loaded: true, error: null });
    } catch (error) {
      setPairs((prev) => ({ ...prev, loaded: true, error: describeError(error) }));
    }
  }, []);

  const reloadAll = useCallback(async () => {
    await Promise.all([reloadInstances(), reloadPairs()]);
  }, [reloadInstances, reloadPairs]);

  useEffect(() => {
    void reloadAll();
  }, [reloadAll]);

  const value = useMemo(
    () => ({ instances, pairs, reloadInstances, reloadPairs, reloadAll }),
    [instances, pairs, reloadInstances, reloadPairs, reloadAll],
  );
  return <DataContext.Provider value={value}>{children}</DataContext.Provider>;
}
