/** The signed-in layout: header, navigation, session warning, routed page, command palette. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { SessionBanner } from '../auth/SessionBanner';
import { session, type Session } from '../auth/session';
import { CommandPalette } from '../palette/CommandPalette';
import { HeaderSearch } from '../palette/HeaderSearch';
import { ThemeToggle } from '../theme/ThemeToggle';
import { Icon } from '../ui/icons';
import { Page } from './Page';
import { href, useLocation } from './router';
import { ROUTES } from './routes';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

export function Shell({ current }: { current: Session }) {
  const loc = useLocation();
  const [paletteOpen, setPaletteOpen] = useState(false);
  const closePalette = useCallback(() => setPaletteOpen(false), []);
  const firstRender = useRef(true);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPaletteOpen((open) => !open);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    document.title = `${loc.route?.label ?? 'Not found'} · Mirror Maestro`;
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    // Move focus to the new page's heading unless a row is about to be focused.
    if (!loc.params.get('focus') && !loc.params.get('new')) {
      requestAnimationFrame(() => document.getElementById('page-title')?.focus());
    }
  }, [loc.path, loc.params]);

  return (
    <div class="app">
      <a class="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href('/')}>
          <span class="brand-mark" aria-hidden="true">
            ⇆
          </span>
          <span class="brand-name">Mirror Maestro</span>
        </a>
        <button type="button" class="palette-trigger" id="palette-trigger" onClick={() => setPaletteOpen(true)} aria-haspopup="dialog" aria-keyshortcuts={isMac ? 'Meta+K' : 'Control+K'}>
          <Icon name="search" size={16} />
          <span class="palette-trigger-text">Go to…</span>
          <kbd>{isMac ? '⌘K' : 'Ctrl K'}</kbd>
        </button>
        <HeaderSearch />
        <div class="topbar-actions">
          <ThemeToggle />
          <span class="user-name" title={current.user.is_admin ? 'Administrator' : 'User'}>
            <Icon name="user" size={16} />
            <span class="visually-hidden">Signed in as </span>
            {current.user.username}
          </span>
          <button type="button" class="button button-small" id="sign-out" onClick={() => session.clear('You have signed out.')}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="tabs" aria-label="Main">
        <ul>
          {ROUTES.filter((r) => r.nav).map((r) => (
            <li key={r.id}>
              <a href={href(r.path)} class="tab" aria-current={loc.route?.id === r.id ? 'page' : undefined} data-tab={r.id}>
                {r.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <SessionBanner current={current} />
      <main id="main" class="main" tabIndex={-1}>
        <Page loc={loc} user={current.user} />
      </main>
      <CommandPalette open={paletteOpen} onClose={closePalette} />
    </div>
  );
}
