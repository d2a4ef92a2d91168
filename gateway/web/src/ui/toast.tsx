/** Transient notifications in a polite live region. */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useMemo, useState } from 'preact/hooks';

export type ToastKind = 'info' | 'success' | 'warning' | 'error';

/** A link shown after the text, e.g. to the job an action started. */
export interface ToastLink {
  href: string;
  label: string;
}

interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
  link?: ToastLink | undefined;
}

type Notify = (kind: ToastKind, text: string, link?: ToastLink) => void;

const ToastContext = createContext<Notify>(() => undefined);

export function useToast(): Notify {
  return useContext(ToastContext);
}

let nextId = 1;

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const notify = useCallback<Notify>(
    (kind, text, link) => {
      const id = nextId++;
      setToasts((list) => [...list.slice(-3), { id, kind, text, link }]);
      // Errors and warnings stay until dismissed so they can be read at leisure.
      // A link (to a job) gets longer to be reached.
      if (kind === 'info' || kind === 'success') setTimeout(() => dismiss(id), link ? 12000 : 6000);
    },
    [dismiss],
  );
  const value = useMemo(() => notify, [notify]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} data-testid="toast">
            <span class="toast-text">
              {t.text}
              {t.link ? (
                <>
                  {' '}
                  <a href={t.link.href}>{t.link.label}</a>
                </>
              ) : null}
            </span>
            <button type="button" class="icon-button" onClick={() => dismiss(t.id)} aria-label="Dismiss notification">
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
