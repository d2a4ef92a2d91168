/** The overridable mirror settings, their inheritance from the pair, and edit diffs. */
import type { Pair } from '../api/types';
import type { Mirror, MirrorChanges, MirrorOverrides } from './types';

export type FlagKey = 'mirror_overwrite_diverged' | 'only_mirror_protected_branches' | 'mirror_trigger_builds';

export const FLAG_SETTINGS: { key: FlagKey; label: string; pullOnly: boolean }[] = [
  { key: 'mirror_overwrite_diverged', label: 'Overwrite diverged branches', pullOnly: false },
  { key: 'only_mirror_protected_branches', label: 'Only protected branches', pullOnly: false },
  { key: 'mirror_trigger_builds', label: 'Trigger pipelines on update', pullOnly: true },
];

/** A tri-state select value: inherit the pair's setting, or force yes/no. */
export type Tri = 'inherit' | 'yes' | 'no';

export function toTri(value: boolean | null | undefined): Tri {
  return value === true ? 'yes' : value === false ? 'no' : 'inherit';
}

export function fromTri(value: Tri): boolean | null {
  return value === 'yes' ? true : value === 'no' ? false : null;
}

/** Why a setting cannot be set on this pair's mirrors, or undefined. */
export function settingLockReason(key: FlagKey | 'mirror_branch_regex', direction: Pair['mirror_direction']): string | undefined {
  if (key === 'mirror_trigger_builds' && direction === 'push') return 'Locked: only pull mirrors can trigger pipelines; this pair pushes.';
  return undefined;
}

export interface EditValues {
  enabled: boolean;
  mirror_overwrite_diverged: Tri;
  only_mirror_protected_branches: Tri;
  mirror_trigger_builds: Tri;
  /** `null`: inherit; a string (possibly empty) overrides. */
  mirror_branch_regex: string | null;
}

export function editValues(mirror: Mirror): EditValues {
  return {
    enabled: mirror.enabled,
    mirror_overwrite_diverged: toTri(mirror.mirror_overwrite_diverged),
    only_mirror_protected_branches: toTri(mirror.only_mirror_protected_branches),
    mirror_trigger_builds: toTri(mirror.mirror_trigger_builds),
    mirror_branch_regex: mirror.mirror_branch_regex,
  };
}

/** Only what changed; a cleared override is sent as `null` (inherit the pair's value again). */
export function mirrorChanges(mirror: Mirror, values: EditValues): MirrorChanges {
  const changes: MirrorChanges = {};
  if (values.enabled !== mirror.enabled) changes.enabled = values.enabled;
  for (const { key } of FLAG_SETTINGS) {
    const next = fromTri(values[key]);
    if (next !== mirror[key]) changes[key] = next;
  }
  const regex = values.mirror_branch_regex === null ? null : values.mirror_branch_regex.trim() || null;
  if (regex !== mirror.mirror_branch_regex) changes.mirror_branch_regex = regex;
  return changes;
}

/** The overrides of a create request; inherited settings are left out. */
export function createOverrides(values: Omit<EditValues, 'enabled'>): Partial<MirrorOverrides> {
  const out: Partial<MirrorOverrides> = {};
  for (const { key } of FLAG_SETTINGS) {
    const value = fromTri(values[key]);
    if (value !== null) out[key] = value;
  }
  const regex = values.mirror_branch_regex?.trim();
  if (regex) out.mirror_branch_regex = regex;
  return out;
}

/** `Inherit from pair (yes)`. */
export function inheritLabel(pair: Pair | undefined, key: FlagKey): string {
  if (!pair) return 'Inherit from pair';
  return `Inherit from pair (${pair[key] ? 'yes' : 'no'})`;
}

/** The effective settings of a mirror as short words for the table. */
export function effectiveSummary(mirror: Mirror, direction: Pair['mirror_direction'] | undefined): string[] {
  const parts: string[] = [];
  if (mirror.effective_mirror_overwrite_diverged) parts.push('overwrite diverged');
  if (mirror.effective_only_mirror_protected_branches) parts.push('protected only');
  if (direction !== 'push' && mirror.effective_mirror_trigger_builds) parts.push('trigger pipelines');
  if (mirror.effective_mirror_branch_regex) parts.push(`/${mirror.effective_mirror_branch_regex}/`);
  return parts;
}

/** Settings this mirror overrides (they differ from inheriting). */
export function overriddenKeys(mirror: MirrorOverrides): (keyof MirrorOverrides)[] {
  return (['mirror_overwrite_diverged', 'only_mirror_protected_branches', 'mirror_trigger_builds', 'mirror_branch_regex'] as const).filter((k) => mirror[k] !== null);
}
