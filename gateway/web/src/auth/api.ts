/** REST calls of `/api/auth`. */
import { api } from '../api';
import type { LoginResponse, User } from '../api/types';

export function login(username: string, password: string): Promise<LoginResponse> {
  return api.post<LoginResponse>('/auth/login', { username, password }, { anonymous: true });
}

export function me(): Promise<User> {
  return api.get<User>('/auth/me');
}
