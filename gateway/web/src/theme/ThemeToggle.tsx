import { useEffect, useState } from 'preact/hooks';
import { Icon } from '../ui/icons';
import { currentTheme, onThemeChange, toggleTheme, type Theme } from './theme';

export function useTheme(): Theme {
  const [theme, setThemeState] = useState<Theme>(currentTheme());
  useEffect(() => onThemeChange(setThemeState), []);
  return theme;
}

export function ThemeToggle() {
  const theme = useTheme();
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      class="icon-button"
      id="theme-toggle"
      aria-pressed={dark}
      title={dark ? 'Switch to light mode' : 'Switch to dark mode'}
      onClick={() => toggleTheme()}
    >
      <Icon name={dark ? 'moon' : 'sun'} />
      <span class="visually-hidden">Dark mode</span>
    </button>
  );
}
