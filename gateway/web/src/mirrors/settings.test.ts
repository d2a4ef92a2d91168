import { describe, expect, it } from 'vitest';
import { exportFileName } from './download';
import { matchesPath, pathProblem, searchTerm } from './projectPaths';
import { createOverrides, editValues, mirrorChanges, overriddenKeys, settingLockReason } from './settings';
import { isBusy, syncStatus, tokenStatusView } from './status';
import type { Mirror } from './types';

const mirror: Mirror = {
  id: 7,
  instance_pair_id: 2,
  source_project_path: 'acme/platform/backend/api',
  target_project_path: 'acme/platform/backend/api',
  source_project_id: 1,
  target_project_id: 2,
  mirror_overwrite_diverged: true,
  mirror_trigger_builds: null,
  only_mirror_protected_branches: null,
  mirror_branch_regex: '^main$',
  effective_mirror_overwrite_diverged: true,
  effective_mirror_trigger_builds: false,
  effective_only_mirror_protected_branches: false,
  effective_mirror_branch_regex: '^main$',
  enabled: true,
  lifecycle: 'ready',
  mirror_id: 5,
  last_update_status: 'finished',
  last_update_at: null,
  last_successful_update: null,
  last_error: null,
  status_checked_at: null,
  token_status: 'active',
  mirror_token_expires_at: null,
  token_name: null,
  created_at: null,
  updated_at: null,
};

describe('mirror edits', () => {
  it('sends nothing when nothing changed', () => {
    expect(mirrorChanges(mirror, editValues(mirror))).toEqual({});
  });

  it('sends changed fields, and null to revert an override to inherit', () => {
    const values = { ...editValues(mirror), enabled: false, mirror_overwrite_diverged: 'inherit' as const, only_mirror_protected_branches: 'yes' as const, mirror_branch_regex: null };
    expect(mirrorChanges(mirror, values)).toEqual({ enabled: false, mirror_overwrite_diverged: null, only_mirror_protected_branches: true, mirror_branch_regex: null });
  });

  it('treats a blank regex as inherit', () => {
    expect(mirrorChanges(mirror, { ...editValues(mirror), mirror_branch_regex: '   ' })).toEqual({ mirror_branch_regex: null });
  });

  it('creates with only the overridden settings', () => {
    expect(createOverrides({ mirror_overwrite_diverged: 'no', only_mirror_protected_branches: 'inherit', mirror_trigger_builds: 'inherit', mirror_branch_regex: ' ^rel ' })).toEqual({
      mirror_overwrite_diverged: false,
      mirror_branch_regex: '^rel',
    });
    expect(overriddenKeys(mirror)).toEqual(['mirror_overwrite_diverged', 'mirror_branch_regex']);
  });

  it('locks pipeline triggers of push mirrors only', () => {
    expect(settingLockReason('mirror_trigger_builds', 'push')).toMatch(/only pull mirrors/);
    expect(settingLockReason('mirror_trigger_builds', 'pull')).toBeUndefined();
    expect(settingLockReason('mirror_overwrite_diverged', 'push')).toBeUndefined();
  });
});

describe('status display', () => {
  it('maps GitLab statuses and lifecycles', () => {
    expect(syncStatus(mirror)).toEqual({ label: 'Success', tone: 'success' });
    expect(syncStatus({ ...mirror, last_update_status: 'failed' }).tone).toBe('danger');
    expect(syncStatus({ ...mirror, last_update_status: null }).label).toBe('Not checked');
    expect(syncStatus({ ...mirror, lifecycle: 'creating' }).label).toBe('Creating');
    expect(syncStatus({ ...mirror, last_update_status: 'odd' }).label).toBe('odd');
  });

  it('knows which mirrors are still changing', () => {
    expect(isBusy(mirror)).toBe(false);
    expect(isBusy({ ...mirror, last_update_status: 'started' })).toBe(true);
    expect(isBusy({ ...mirror, last_update_status: 'scheduled' })).toBe(true);
    expect(isBusy({ ...mirror, lifecycle: 'deleting' })).toBe(true);
    expect(isBusy({ ...mirror, lifecycle: 'create_failed', last_update_status: null })).toBe(false);
  });

  it('labels token states', () => {
    expect(tokenStatusView('expiring_soon')).toEqual({ label: 'Expiring soon', tone: 'warning' });
    expect(tokenStatusView('expired').tone).toBe('danger');
    expect(tokenStatusView('none').label).toBe('No token');
  });
});

describe('project paths', () => {
  it('validates like the API', () => {
    expect(pathProblem('')).toMatch(/Enter/);
    expect(pathProblem('project')).toMatch(/group/);
    expect(pathProblem('group/-bad')).toMatch(/group/);
    expect(pathProblem(' group/sub/app.js ')).toBeUndefined();
    expect(pathProblem(`a/${'x'.repeat(600)}`)).toMatch(/500/);
  });

  it('searches by the last segment and filters by the typed path', () => {
    expect(searchTerm('acme/platform/api-g')).toBe('api-g');
    expect(searchTerm('acme/')).toBe('acme');
    expect(searchTerm(' ')).toBe('');
    expect(matchesPath({ path_with_namespace: 'acme/platform/backend/api-gateway' }, 'Platform/backend/api')).toBe(true);
    expect(matchesPath({ path_with_namespace: 'globex/api' }, 'acme/api')).toBe(false);
  });

  it('names export files as the server does', () => {
    expect(exportFileName('Prod → DR (main)')).toBe('mirrors_Prod___DR__main.json');
    expect(exportFileName('._._')).toBe('mirrors_mirrors.json');
    expect(exportFileName('v1.2_')).toBe('mirrors_v1.2.json');
  });
});
