import { describe, expect, it } from 'vitest';
import type { Instance } from '../api/types';
import { instanceChanges } from './api';

const instance: Instance = {
  id: 1,
  name: 'gitlab-a',
  url: 'https://a.example.com',
  description: 'primary',
  token_set: true,
  token_user_id: 7,
  token_username: 'bot',
  gitlab_version: '17.6.1',
  gitlab_edition: 'Enterprise',
  pair_count: 0,
  created_at: null,
  updated_at: null,
};

describe('instanceChanges', () => {
  it('is empty when nothing changed and no token was typed', () => {
    expect(instanceChanges(instance, { name: 'gitlab-a', url: 'https://a.example.com', description: 'primary', token: '' })).toEqual({});
  });

  it('sends a pasted token (rotation) and changed fields only', () => {
    expect(instanceChanges(instance, { name: 'gitlab-a', url: 'https://a.example.com', description: '', token: ' glpat-new ' })).toEqual({ description: '', token: 'glpat-new' });
  });
});
