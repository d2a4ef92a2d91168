/**
 * “Sync all” of a pair: a confirmation naming how many mirrors are affected, then the batch
 * job's live progress and per-mirror results.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import type { Pair } from '../api/types';
import type { Job } from '../jobs/types';
import { ConfirmDialog } from '../ui/Dialog';
import { plural } from '../util/format';
import { planPairSync, syncPairMirrors, type PairSyncJob, type PairSyncStarted } from './api';
import { batchSummary, formatEstimate, syncAllSummary, syncPlanSummary } from './estimate';
import { JobProgressPanel } from '../jobs/JobProgressPanel';

export interface RunningSync {
  pair: Pair;
  started: PairSyncJob;
}

interface DialogProps {
  pair: Pair | null;
  onCancel: () => void;
  onStarted: (sync: RunningSync) => void;
}

export function SyncAllDialog({ pair, onCancel, onStarted }: DialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [plan, setPlan] = useState<PairSyncStarted | null>(null);
  const [planError, setPlanError] = useState<string | null>(null);

  // The plan (count, skips, estimate) comes from a dry run, so the operator sees it before confirming.
  useEffect(() => {
    setPlan(null);
    setPlanError(null);
    if (!pair || pair.mirror_count <= 0) return;
    let live = true;
    planPairSync(pair.id).then(
      (answer) => live && setPlan(answer),
      (e: unknown) => live && setPlanError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [pair?.id]);

  const confirm = async () => {
    if (!pair) return;
    setBusy(true);
    setError(null);
    try {
      const started = await syncPairMirrors(pair.id);
      onStarted({ pair, started });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const close = () => {
    setError(null);
    onCancel();
  };

  return (
    <ConfirmDialog
      open={pair !== null}
      title={pair ? `Sync all mirrors of “${pair.name}”?` : 'Sync all mirrors'}
      confirmLabel={pair ? `Sync ${plural(pair.mirror_count, 'mirror')}` : 'Sync'}
      busy={busy}
      onConfirm={() => void confirm()}
      onCancel={close}
    >
      <div data-testid="sync-all-confirm">
        <p data-testid="sync-all-count">{pair ? syncAllSummary(pair.mirror_count) : ''}</p>
        <p data-testid="sync-all-plan" aria-live="polite">
          {plan ? syncPlanSummary(plan) : planError ? `No estimate: ${planError}` : pair && pair.mirror_count > 0 ? 'Estimating…' : ''}
        </p>
        <p class="muted small">GitLab is asked to update each mirror now, paced by each instance's rate budget.</p>
        {error ? (
          <p class="form-errors" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </ConfirmDialog>
  );
}

export function SyncAllPanel({ sync, onFinished, onDismiss }: { sync: RunningSync; onFinished: () => void; onDismiss: () => void }) {
  const [finished, setFinished] = useState<Job | null>(null);
  const { pair, started } = sync;
  const estimate = formatEstimate(started.estimated_seconds);
  return (
    <section class="card" aria-labelledby="sync-all-heading" data-testid="sync-all-panel">
      <div class="card-header">
        <h2 id="sync-all-heading" class="card-title">
          Sync all: {pair.name}
        </h2>
        {finished ? (
          <button type="button" class="button button-small" onClick={onDismiss}>
            Dismiss
          </button>
        ) : null}
      </div>
      <p class="small" data-testid="sync-all-estimate">
        {plural(started.mirror_count, 'mirror')} in the batch ·{' '}
        {estimate ? `estimated ${estimate} at the current rate budget` : 'no duration estimate available'}
      </p>
      {finished ? (
        <p class="small" data-testid="sync-all-result">
          {batchSummary(finished)}
        </p>
      ) : null}
      <JobProgressPanel
        job={started.job}
        label={`Syncing ${plural(started.mirror_count, 'mirror')}`}
        onFinished={(job) => {
          setFinished(job);
          onFinished();
        }}
      />
    </section>
  );
}
