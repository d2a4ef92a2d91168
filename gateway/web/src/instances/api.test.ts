import { describe, expect, it } from 'vitest';
import type { Instance } from '../api/types';
import { instanceChanges, isCleanupJob } from './api';

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

describe('isCleanupJob', () => {
  it('tells a clean-up job (202) from an immediate delete (200)', () => {
    expect(isCleanupJob(null)).toBe(false);
    expect(isCleanupJob({ status: 'deleted', deleted_pair_count: 1, warnings: [], warning_count: 0 })).toBe(false);
    const job = { id: 9, kind: 'delete_instance', state: 'queued' as const, pair_id: null, mirror_id: null, instance_id: 1, requested_by: 'admin', params: {}, total: 3, done: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0, warning_count: 0, progress_percent: 0, created_at: null, started_at: null, finished_at: null, updated_at: null };
    expect(isCleanupJob({ job, warnings: [], deleted_pair_count: 1 })).toBe(true);
  });
});
