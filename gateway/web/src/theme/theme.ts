/**
 * Light/dark theme. An explicit choice is kept in localStorage; without one the system
 * preference (`prefers-color-scheme`) applies and is followed live.
 */
export type Theme = 'light' | 'dark';

const KEY = 'mm.theme';

function stored(): Theme | null {
  try {
    const value = globalThis.localStorage?.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

function systemTheme(): Theme {
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function currentTheme(): Theme {
  return stored() ?? systemTheme();
}

export function applyTheme(theme: Theme = currentTheme()): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  root.style.colorScheme = theme;
}

const listeners = new Set<(theme: Theme) => void>();

export function setTheme(theme: Theme): void {
  try {
    globalThis.localStorage?.setItem(KEY, theme);
  } catch {
    // Storage may be unavailable (private mode); the choice then lasts for this page only.
  }
  applyTheme(theme);
  for (const listener of listeners) listener(theme);
}

export function toggleTheme(): Theme {
  const next: Theme = currentTheme() === 'dark' ? 'light' : 'dark';
  setTheme(next);
  return next;
}

export function onThemeChange(listener: (theme: Theme) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Applies the theme now and follows the system preference while no choice is stored. */
export function initTheme(): void {
  applyTheme();
  globalThis.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', () => {
    if (stored()) return;
    const theme = systemTheme();
    applyTheme(theme);
    for (const listener of listeners) listener(theme);
  });
}
