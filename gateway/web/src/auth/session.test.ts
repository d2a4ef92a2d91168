import { describe, expect, it } from 'vitest';
import { sessionFromLogin, sessionState, WARN_BEFORE_MS } from './session';

const user = { id: 1, username: 'admin', is_admin: true, is_active: true };

describe('session', () => {
  it('computes the expiry from expires_in', () => {
    const s = sessionFromLogin({ access_token: 't', token_type: 'bearer', expires_in: 3600, user }, 1_000);
    expect(s).toEqual({ token: 't', expiresAt: 1_000 + 3_600_000, user });
  });

  it('assumes an hour when expires_in is missing or invalid', () => {
    expect(sessionFromLogin({ access_token: 't', token_type: 'bearer', expires_in: 0, user }, 0).expiresAt).toBe(3_600_000);
  });

  it('is expiring within five minutes of the end', () => {
    const s = { token: 't', expiresAt: 10_000_000, user };
    expect(sessionState(s, s.expiresAt - WARN_BEFORE_MS - 1)).toBe('valid');
    expect(sessionState(s, s.expiresAt - WARN_BEFORE_MS)).toBe('expiring');
    expect(sessionState(s, s.expiresAt)).toBe('expired');
  });
});
