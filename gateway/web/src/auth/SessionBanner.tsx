/** Warns shortly before the session expires and signs out when it has. */
import { useEffect, useState } from 'preact/hooks';
import { session, sessionState, type Session } from './session';

export function SessionBanner({ current }: { current: Session }) {
  const [now, setNow] = useState(Date.now());
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);

  const state = sessionState(current, now);
  useEffect(() => {
    if (state === 'expired') session.clear('Your session has expired. Please sign in again.');
  }, [state]);

  // Re-check exactly at expiry rather than up to 15 s later.
  useEffect(() => {
    const left = current.expiresAt - Date.now();
    if (left <= 0 || left > 2 ** 31 - 1) return;
    const timer = setTimeout(() => setNow(Date.now()), left + 50);
    return () => clearTimeout(timer);
  }, [current.expiresAt]);

  if (state !== 'expiring' || dismissedAt !== null) return null;
  const minutes = Math.max(1, Math.ceil((current.expiresAt - now) / 60_000));
  return (
    <div class="session-banner" role="alert" data-testid="session-warning">
      <p>
        Your session ends in about {minutes} minute{minutes === 1 ? '' : 's'}. Finish or save what you are editing, then sign in again.
      </p>
      <div class="session-banner-actions">
        <button type="button" class="button button-small" onClick={() => session.clear('Signed out. Sign in again to continue.')}>
          Sign in again now
        </button>
        <button type="button" class="button button-small" onClick={() => setDismissedAt(Date.now())}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
