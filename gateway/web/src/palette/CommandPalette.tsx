/**
 * Ctrl/Cmd+K: jump to any page, instance, pair or mirror, or run a quick action. Pages,
 * actions and the loaded instances/pairs match at once; mirrors come from `/api/search`.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useData } from '../app/data';
import { navigate } from '../app/router';
import { ROUTES } from '../app/routes';
import { toggleTheme } from '../theme/theme';
import { Dialog } from '../ui/Dialog';
import { hitsToItems, useRemoteSearch } from './remote';
import { rankItems, type PaletteItem } from './search';

function usePaletteItems(close: () => void): PaletteItem[] {
  const { instances, pairs } = useData();
  return useMemo(() => {
    const go = (path: string, params?: Record<string, string | number>) => () => {
      close();
      navigate(path, params);
    };
    const names = new Map(instances.items.map((i) => [i.id, i.name]));
    const items: PaletteItem[] = [];
    for (const i of instances.items) {
      items.push({ id: `instance-${i.id}`, group: 'Instance', label: i.name, detail: i.url, keywords: i.description, run: go('/instances', { focus: i.id }) });
    }
    for (const p of pairs.items) {
      const route = `${names.get(p.source_instance_id) ?? '?'} → ${names.get(p.target_instance_id) ?? '?'}`;
      items.push({ id: `pair-${p.id}`, group: 'Pair', label: p.name, detail: `${route} · ${p.mirror_direction}`, keywords: p.description, run: go('/pairs', { focus: p.id }) });
    }
    for (const r of ROUTES.filter((r) => r.nav)) {
      items.push({ id: `page-${r.id}`, group: 'Page', label: r.label, keywords: 'open tab', run: go(r.path) });
    }
    items.push(
      { id: 'action-add-instance', group: 'Action', label: 'Add instance', keywords: 'new create gitlab', run: go('/instances', { new: 1 }) },
      { id: 'action-create-pair', group: 'Action', label: 'Create pair', keywords: 'new add', run: go('/pairs', { new: 1 }) },
      {
        id: 'action-theme',
        group: 'Action',
        label: 'Toggle dark mode',
        keywords: 'theme light dark colour color',
        run: () => {
          close();
          toggleTheme();
        },
      },
    );
    return items;
  }, [instances.items, pairs.items, close]);
}

export function CommandPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const items = usePaletteItems(onClose);
  const remote = useRemoteSearch(open ? query : '');
  const results = useMemo(() => {
    const known = new Set(items.map((i) => i.id));
    const found = remote.response ? hitsToItems(remote.response, onClose).filter((i) => !known.has(i.id)) : [];
    return rankItems([...items, ...found], query, 30);
  }, [items, query, remote.response, onClose]);

  useEffect(() => {
    if (open) {
      setQuery('');
      setActive(0);
      requestAnimationFrame(() => inputRef.current?.focus());
    }
  }, [open]);

  useEffect(() => setActive(0), [query]);

  useEffect(() => {
    document.getElementById(`palette-option-${active}`)?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => (results.length ? (a + 1) % results.length : 0));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (results.length ? (a - 1 + results.length) % results.length : 0));
    } else if (e.key === 'Home' && e.ctrlKey) {
      setActive(0);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      results[active]?.run();
    }
  };

  return (
    <Dialog open={open} title="Go to…" onClose={onClose} class="palette">
      <div class="palette-search">
        <label for="palette-input" class="visually-hidden">
          Search instances, pairs, mirrors, pages and actions
        </label>
        <input
          ref={inputRef}
          id="palette-input"
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-autocomplete="list"
          aria-activedescendant={results.length ? `palette-option-${active}` : undefined}
          placeholder="Search mirrors, pairs, instances, pages…"
          autoComplete="off"
          spellcheck={false}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
      </div>
      <ul id="palette-list" role="listbox" aria-label="Results" class="palette-list">
        {results.map((item, index) => (
          <li
            key={item.id}
            id={`palette-option-${index}`}
            role="option"
            aria-selected={index === active}
            class={`palette-option${index === active ? ' active' : ''}`}
            data-testid="palette-option"
            onMouseMove={() => setActive(index)}
            onClick={() => item.run()}
          >
            <span class="palette-group">{item.group}</span>
            <span class="palette-label">{item.label}</span>
            {item.detail ? <span class="palette-detail">{item.detail}</span> : null}
          </li>
        ))}
      </ul>
      {remote.loading ? (
        <p class="palette-empty" role="status">
          Searching mirrors…
        </p>
      ) : results.length === 0 ? (
        <p class="palette-empty">Nothing matches “{query}”.</p>
      ) : null}
      {remote.error && query.trim() ? <p class="palette-empty">Mirror search failed: {remote.error}</p> : null}
      <p class="palette-help" aria-hidden="true">
        ↑↓ to move · Enter to open · Esc to close
      </p>
    </Dialog>
  );
}
