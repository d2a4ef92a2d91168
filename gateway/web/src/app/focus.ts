/** `?focus=<id>` on a list page scrolls to that row and highlights it for a few seconds. */
import { useEffect, useState } from 'preact/hooks';

export function useFocusParam(params: URLSearchParams, kind: 'instance' | 'pair' | 'mirror'): number | null {
  const raw = params.get('focus');
  const id = raw && /^\d+$/.test(raw) ? Number(raw) : null;
  const [active, setActive] = useState<number | null>(id);
  useEffect(() => {
    setActive(id);
    if (id === null) return;
    let tries = 0;
    // The row may render only once the list has loaded.
    const timer = setInterval(() => {
      const row = document.getElementById(`${kind}-row-${id}`);
      if (row || ++tries > 20) {
        clearInterval(timer);
        if (row) {
          row.scrollIntoView({ block: 'center' });
          const target = row.querySelector<HTMLElement>('button, a') ?? row;
          target.focus({ preventScroll: true });
        }
      }
    }, 100);
    const clear = setTimeout(() => setActive(null), 4000);
    return () => {
      clearInterval(timer);
      clearTimeout(clear);
    };
  }, [id, kind, params]);
  return active;
}
