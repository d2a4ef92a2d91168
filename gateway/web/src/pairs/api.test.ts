import { describe, expect, it } from 'vitest';
import type { Pair, PairInput } from '../api/types';
import { normalizePairInput, pairChanges, pairLockReason } from './api';

const pair: Pair = {
  id: 1,
  name: 'prod-to-dr',
  source_instance_id: 1,
  target_instance_id: 2,
  mirror_direction: 'pull',
  mirror_overwrite_diverged: false,
  mirror_trigger_builds: true,
  only_mirror_protected_branches: false,
  mirror_branch_regex: null,
  description: '',
  mirror_count: 0,
  created_at: null,
  updated_at: null,
};

const input = (changes: Partial<PairInput> = {}): PairInput => ({
  name: pair.name,
  source_instance_id: 1,
  target_instance_id: 2,
  mirror_direction: 'pull',
  mirror_overwrite_diverged: false,
  mirror_trigger_builds: true,
  only_mirror_protected_branches: false,
  mirror_branch_regex: '',
  description: '',
  ...changes,
});

describe('pairChanges', () => {
  it('sends only changed keys', () => {
    expect(pairChanges(pair, input())).toEqual({});
    expect(pairChanges(pair, input({ name: ' renamed ', mirror_overwrite_diverged: true }))).toEqual({ name: 'renamed', mirror_overwrite_diverged: true });
  });

  it('never sends source, target or direction of a pair with mirrors', () => {
    const locked = { ...pair, mirror_count: 3 };
    expect(pairChanges(locked, input({ source_instance_id: 5, target_instance_id: 6, mirror_direction: 'push', description: 'x' }))).toEqual({ description: 'x' });
  });

  it('turns off trigger builds for push and clears an empty regex', () => {
    expect(pairChanges(pair, input({ mirror_direction: 'push' }))).toEqual({ mirror_direction: 'push', mirror_trigger_builds: false });
    expect(pairChanges({ ...pair, mirror_branch_regex: '^main$' }, input({ mirror_branch_regex: '  ' }))).toEqual({ mirror_branch_regex: null });
  });
});

describe('normalizePairInput', () => {
  it('drops the regex when only protected branches are mirrored', () => {
    expect(normalizePairInput(input({ only_mirror_protected_branches: true, mirror_branch_regex: '^main$' })).mirror_branch_regex).toBeNull();
  });
});

describe('pairLockReason', () => {
  it('explains the lock only when mirrors exist', () => {
    expect(pairLockReason(pair)).toBeUndefined();
    expect(pairLockReason(null)).toBeUndefined();
    expect(pairLockReason({ mirror_count: 1 })).toMatch(/has 1 mirror\./);
    expect(pairLockReason({ mirror_count: 4 })).toMatch(/4 mirrors.*remove the mirrors first/);
  });
});
