/** The console's API client, wired to the session: a 401 ends the session. */
import { session } from '../auth/session';
import { ApiClient } from './client';

export const api = new ApiClient({
  baseUrl: '/api',
  getToken: () => session.token(),
  onUnauthorized: () => session.clear('Your session has expired. Please sign in again.'),
});

export { ApiError, describeError, mapFieldErrors } from './errors';
export type { ListResult } from './client';
