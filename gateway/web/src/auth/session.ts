/** The signed-in session: bearer token, expiry and user, kept in sessionStorage. */
import type { LoginResponse, User } from '../api/types';

export interface Session {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  user: User;
}

const KEY = 'mm.session';
/** How long before expiry the console warns. */
export const WARN_BEFORE_MS = 5 * 60 * 1000;

type Listener = (session: Session | null, reason?: string) => void;

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export function sessionFromLogin(response: LoginResponse, now = Date.now()): Session {
  const seconds = Number.isFinite(response.expires_in) && response.expires_in > 0 ? response.expires_in : 3600;
  return { token: response.access_token, expiresAt: now + seconds * 1000, user: response.user };
}

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    if (typeof value.token !== 'string' || typeof value.expiresAt !== 'number' || !value.user) return null;
    return value as Session;
  } catch {
    return null;
  }
}

export type SessionState = 'valid' | 'expiring' | 'expired';

export function sessionState(session: Session, now = Date.now()): SessionState {
  const left = session.expiresAt - now;
  if (left <= 0) return 'expired';
  if (left <= WARN_BEFORE_MS) return 'expiring';
  return 'valid';
}

class SessionStore {
  private current: Session | null;
  private readonly listeners = new Set<Listener>();

  constructor() {
    const stored = parse(storage()?.getItem(KEY) ?? null);
    this.current = stored && sessionState(stored) !== 'expired' ? stored : null;
  }

  get(): Session | null {
    return this.current;
  }

  token(): string | null {
    return this.current?.token ?? null;
  }

  set(session: Session): void {
    this.current = session;
    storage()?.setItem(KEY, JSON.stringify(session));
    this.emit();
  }

  /** Ends the session; `reason` is shown on the login page. */
  clear(reason?: string): void {
    const had = this.current !== null;
    this.current = null;
    storage()?.removeItem(KEY);
    if (had || reason) this.emit(reason);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(reason?: string): void {
    for (const listener of this.listeners) listener(this.current, reason);
  }
}

export const session = new SessionStore();
