/** Shapes of the REST API resources used by the console. */

export type Direction = 'push' | 'pull';

export interface User {
  id: number;
  username: string;
  email?: string | null;
  is_admin: boolean;
  is_active: boolean;
  created_at?: string | null;
}

export interface LoginResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: User;
}

export interface Instance {
  id: number;
  name: string;
  url: string;
  description: string;
  token_set: boolean;
  token_user_id: number | null;
  token_username: string | null;
  gitlab_version: string | null;
  gitlab_edition: string | null;
  pair_count: number;
  created_at: string | null;
  updated_at: string | null;
}

export interface InstanceInput {
  name: string;
  url: string;
  token: string;
  description: string;
}

export interface InstanceDeleted {
  status: string;
  deleted_pair_count?: number;
  warnings?: string[];
  warning_count?: number;
}

export interface PairSettings {
  mirror_direction: Direction;
  mirror_overwrite_diverged: boolean;
  mirror_trigger_builds: boolean;
  only_mirror_protected_branches: boolean;
  mirror_branch_regex: string | null;
}

export interface Pair extends PairSettings {
  id: number;
  name: string;
  source_instance_id: number;
  target_instance_id: number;
  description: string;
  mirror_count: number;
  created_at: string | null;
  updated_at: string | null;
}

export interface PairInput extends PairSettings {
  name: string;
  source_instance_id: number;
  target_instance_id: number;
  description: string;
}

/** Create and update responses carry the API's non-fatal findings. */
export interface PairWritten extends Pair {
  warnings?: string[];
  reverse_pair_id?: number;
}

export interface PairDeleted {
  status: string;
  warnings?: string[];
  warning_count?: number;
}

export interface About {
  name: string;
  version: string;
  description: string;
  repository: string;
  license: string;
  documentation: string;
}

export interface QuickHealth {
  status: string;
}
