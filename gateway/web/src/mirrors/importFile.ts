/** Reading an export file before import, and summarising the server's dry-run plan. */
import type { ImportPlanEntry, ImportResult } from './types';

export interface ImportEntry {
  source_project_path: string;
  target_project_path: string;
  mirror_overwrite_diverged?: boolean | null;
  mirror_trigger_builds?: boolean | null;
  only_mirror_protected_branches?: boolean | null;
  mirror_branch_regex?: string | null;
  enabled?: boolean | null;
}

/** The body of an import: `metadata` is informational, `mirrors` the entries. */
export interface ImportFile {
  metadata?: Record<string, unknown>;
  mirrors: ImportEntry[];
}

export const MAX_IMPORT_ENTRIES = 10_000;
const SETTING_KEYS = ['mirror_overwrite_diverged', 'mirror_trigger_builds', 'only_mirror_protected_branches', 'enabled'] as const;

export type ParsedImport = { ok: true; file: ImportFile; pairName: string | null } | { ok: false; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the shape of an export file (this product's or the previous one's) and keeps only
 * the keys the import takes, so an older file with extra keys (`issue_sync_enabled`) imports.
 * Path rules are the server's business: it reports bad paths per entry in the plan.
 */
export function parseImportFile(text: string): ParsedImport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: 'The file is not valid JSON.' };
  }
  if (!isRecord(data) || !Array.isArray(data.mirrors)) {
    return { ok: false, error: 'The file has no “mirrors” list; choose a file exported from a pair.' };
  }
  if (data.mirrors.length === 0) return { ok: false, error: 'The file contains no mirrors.' };
  if (data.mirrors.length > MAX_IMPORT_ENTRIES) {
    return { ok: false, error: `The file has ${data.mirrors.length} mirrors; at most ${MAX_IMPORT_ENTRIES} can be imported at once.` };
  }
  const mirrors: ImportEntry[] = [];
  for (const [index, raw] of data.mirrors.entries()) {
    const n = index + 1;
    if (!isRecord(raw)) return { ok: false, error: `Entry ${n} is not an object.` };
    const source = raw.source_project_path;
    const target = raw.target_project_path;
    if (typeof source !== 'string' || source.trim() === '') return { ok: false, error: `Entry ${n}: source_project_path is missing.` };
    if (typeof target !== 'string' || target.trim() === '') return { ok: false, error: `Entry ${n}: target_project_path is missing.` };
    const entry: ImportEntry = { source_project_path: source, target_project_path: target };
    for (const key of SETTING_KEYS) {
      const value = raw[key];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'boolean') return { ok: false, error: `Entry ${n}: ${key} must be true, false or null.` };
      entry[key] = value;
    }
    const regex = raw.mirror_branch_regex;
    if (regex !== undefined && regex !== null) {
      if (typeof regex !== 'string') return { ok: false, error: `Entry ${n}: mirror_branch_regex must be text or null.` };
      entry.mirror_branch_regex = regex;
    }
    mirrors.push(entry);
  }
  const metadata = isRecord(data.metadata) ? data.metadata : undefined;
  const pairName = typeof metadata?.pair_name === 'string' ? metadata.pair_name : null;
  return { ok: true, file: metadata ? { metadata, mirrors } : { mirrors }, pairName };
}

export interface PlanSummary {
  creates: number;
  skips: number;
  /** Skipped entries grouped by reason, most frequent first. */
  skipReasons: { reason: string; count: number }[];
  gitlabCalls: number;
  /** `about 2 min`, `under a second`. */
  estimate: string;
  /** Whether importing would do anything. */
  actionable: boolean;
}

/** `under a second`, `about 40 s`, `about 3 min`, `about 1 h 5 min`. */
export function formatEstimate(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 1) return 'under a second';
  if (seconds < 90) return `about ${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes - hours * 60;
  return rest ? `about ${hours} h ${rest} min` : `about ${hours} h`;
}

/** Summarises a dry run; counts come from the plan when the totals disagree with it. */
export function summarizePlan(result: Pick<ImportResult, 'plan' | 'create_count' | 'skip_count' | 'gitlab_calls' | 'estimated_seconds'>): PlanSummary {
  const plan: ImportPlanEntry[] = result.plan ?? [];
  const creates = plan.length ? plan.filter((e) => e.action === 'create').length : result.create_count;
  const skipped = plan.filter((e) => e.action !== 'create');
  const skips = plan.length ? skipped.length : result.skip_count;
  const reasons = new Map<string, number>();
  for (const entry of skipped) {
    const reason = entry.reason?.trim() || 'no reason given';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const skipReasons = [...reasons.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return {
    creates,
    skips,
    skipReasons,
    gitlabCalls: Math.max(0, result.gitlab_calls),
    estimate: formatEstimate(result.estimated_seconds),
    actionable: creates > 0,
  };
}
