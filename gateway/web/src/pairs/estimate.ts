/** Wording of batch-sync sizes and durations. */

/** `under a minute`, `about 4 min`, `about 1 h 20 min` — estimates are rough, so say so. */
export function formatEstimate(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return null;
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `about ${hours} h ${rest} min` : `about ${hours} h`;
}

/** Text of the Sync-all confirmation: how many mirrors, and what happens with the others. */
export function syncAllSummary(mirrorCount: number): string {
  if (mirrorCount <= 0) return 'This pair has no mirrors yet, so there is nothing to sync.';
  const noun = mirrorCount === 1 ? 'mirror' : 'mirrors';
  return `${mirrorCount} ${noun} in this pair. Enabled, ready mirrors are synced; disabled ones are skipped.`;
}

/**
 * `3 succeeded · 1 failed · 2 skipped in 42 s (0.1 mirrors/s)` once a batch has finished;
 * the duration comes from the job's start and end times and is left out when they are missing.
 */
export function batchSummary(job: { succeeded: number; failed: number; skipped: number; cancelled: number; started_at: string | null; finished_at: string | null }): string {
  const parts = [`${job.succeeded} succeeded`];
  if (job.failed) parts.push(`${job.failed} failed`);
  if (job.skipped) parts.push(`${job.skipped} skipped`);
  if (job.cancelled) parts.push(`${job.cancelled} cancelled`);
  const start = job.started_at ? Date.parse(job.started_at) : Number.NaN;
  const end = job.finished_at ? Date.parse(job.finished_at) : Number.NaN;
  const seconds = (end - start) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) return parts.join(' · ');
  const handled = job.succeeded + job.failed;
  const perSecond = seconds > 0 ? handled / seconds : 0;
  const rate = perSecond > 0 ? ` (${perSecond.toFixed(perSecond >= 10 ? 0 : perSecond >= 1 ? 1 : 2)} mirrors/s)` : '';
  const took = seconds < 60 ? `${seconds.toFixed(seconds < 10 ? 1 : 0)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${parts.join(' · ')} in ${took}${rate}`;
}

/** The plan line of the Sync-all confirmation: what syncs, what is skipped, how long. */
export function syncPlanSummary(plan: { mirror_count: number; skipped_count: number; estimated_seconds: number }): string {
  const noun = plan.mirror_count === 1 ? 'mirror' : 'mirrors';
  const parts = [`${plan.mirror_count} ${noun} will sync`];
  if (plan.skipped_count > 0) parts.push(`${plan.skipped_count} skipped (disabled or not ready)`);
  const estimate = formatEstimate(plan.estimated_seconds);
  const head = parts.join(', ');
  return estimate ? `${head}; estimated ${estimate} at the current GitLab rate budget.` : `${head}.`;
}
