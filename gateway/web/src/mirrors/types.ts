/** Shapes of `/api/mirrors`, the project search and import/export (gateway/src/mirrors, export.rs). */
import type { Job } from '../jobs/types';

export type Lifecycle = 'creating' | 'ready' | 'create_failed' | 'deleting';

export type TokenStatus = 'none' | 'active' | 'expiring_soon' | 'expired';

/** The overridable settings; `null` inherits the pair's. */
export interface MirrorOverrides {
  mirror_overwrite_diverged: boolean | null;
  mirror_trigger_builds: boolean | null;
  only_mirror_protected_branches: boolean | null;
  mirror_branch_regex: string | null;
}

export interface Mirror extends MirrorOverrides {
  id: number;
  instance_pair_id: number;
  source_project_path: string;
  target_project_path: string;
  source_project_id: number | null;
  target_project_id: number | null;
  effective_mirror_overwrite_diverged: boolean;
  effective_mirror_trigger_builds: boolean;
  effective_only_mirror_protected_branches: boolean;
  effective_mirror_branch_regex: string | null;
  enabled: boolean;
  lifecycle: Lifecycle;
  mirror_id: number | null;
  last_update_status: string | null;
  last_update_at: string | null;
  last_successful_update: string | null;
  last_error: string | null;
  status_checked_at: string | null;
  token_status: TokenStatus;
  mirror_token_expires_at: string | null;
  token_name: string | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface MirrorInput extends Partial<MirrorOverrides> {
  instance_pair_id: number;
  source_project_path: string;
  target_project_path: string;
  enabled?: boolean;
}

/** Body of a PATCH: only the keys present change; `null` clears an override. */
export type MirrorChanges = Partial<MirrorOverrides> & { enabled?: boolean };

export interface MirrorCreated {
  mirror: Mirror;
  job: Job;
}

export interface MirrorUpdated {
  mirror: Mirror;
  job: Job | null;
}

export interface MirrorGroup {
  group_path: string;
  mirror_count: number;
  failed_count: number;
  level: number;
}

export interface GitLabProject {
  id: number;
  path_with_namespace: string;
  name: string;
  web_url: string;
  default_branch: string | null;
}

export interface ImportPlanEntry {
  source_project_path: string;
  target_project_path: string;
  action: 'create' | 'skip' | string;
  reason: string | null;
}

export interface ImportResult {
  plan: ImportPlanEntry[];
  create_count: number;
  skip_count: number;
  gitlab_calls: number;
  estimated_seconds: number;
  job: Job | null;
}
