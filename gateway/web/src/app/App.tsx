/** Top level: the login page, or the signed-in console. */
import { useEffect, useState } from 'preact/hooks';
import { LoginPage } from '../auth/LoginPage';
import { me } from '../auth/api';
import { session, type Session } from '../auth/session';
import { ToastProvider } from '../ui/toast';
import { DataProvider } from './data';
import { Shell } from './Shell';

export function App() {
  const [current, setCurrent] = useState<Session | null>(session.get());
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(
    () =>
      session.subscribe((next, reason) => {
        setCurrent(next);
        setNotice(next ? undefined : reason);
      }),
    [],
  );

  // A stored token may have been revoked or the server restarted with a new key: check it.
  useEffect(() => {
    if (current) me().catch(() => undefined);
  }, [current?.token]);

  if (!current) {
    document.title = 'Sign in · Mirror Maestro';
    return <LoginPage notice={notice} />;
  }
  return (
    <ToastProvider>
      <DataProvider key={current.token}>
        <Shell current={current} />
      </DataProvider>
    </ToastProvider>
  );
}
