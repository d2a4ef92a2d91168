/** Sign-in form. A failed attempt keeps the username and says why. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, mapFieldErrors } from '../api';
import { ThemeToggle } from '../theme/ThemeToggle';
import { Field, FormErrors } from '../ui/Field';
import { login } from './api';
import { session, sessionFromLogin } from './session';

export function LoginPage({ notice }: { notice?: string | undefined }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const userRef = useRef<HTMLInputElement>(null);

  useEffect(() => userRef.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!username.trim()) found.username = 'Enter your username.';
    if (!password) found.password = 'Enter your password.';
    setErrors(found);
    setGeneral([]);
    if (Object.keys(found).length) {
      document.getElementById(found.username ? 'login-username' : 'login-password')?.focus();
      return;
    }
    setBusy(true);
    try {
      const response = await login(username.trim(), password);
      session.set(sessionFromLogin(response));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setGeneral(['Incorrect username or password.']);
      } else if (error instanceof ApiError && error.status === 429) {
        setGeneral(['Too many sign-in attempts. Wait a minute and try again.']);
      } else {
        const mapped = mapFieldErrors(error, ['username', 'password']);
        setErrors(mapped.byField);
        setGeneral(mapped.general.length ? mapped.general : Object.keys(mapped.byField).length ? [] : [describeError(error)]);
      }
      setPassword('');
      document.getElementById('login-password')?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-screen">
      <div class="login-theme">
        <ThemeToggle />
      </div>
      <main class="login-card" id="main">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true">
            ⇆
          </span>
          <span>Mirror Maestro</span>
        </div>
        <h1>Sign in</h1>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <form class="form" onSubmit={submit} noValidate aria-busy={busy} data-testid="login-form">
          <FormErrors messages={general} />
          <Field id="login-username" label="Username" error={errors.username}>
            {(describedBy, invalid) => (
              <input ref={userRef} id="login-username" name="username" autoComplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} />
            )}
          </Field>
          <Field id="login-password" label="Password" error={errors.password}>
            {(describedBy, invalid) => (
              <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} />
            )}
          </Field>
          <button type="submit" class="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  );
}
