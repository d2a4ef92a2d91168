/**
 * Confirms deleting an instance and names what goes with it (pairs and their mirrors). When
 * mirrors must be removed from GitLab first, the server answers with a clean-up job, whose
 * progress is shown here until the instance is gone.
 */
import { useState } from 'preact/hooks';
import type { Instance, Pair } from '../api/types';
import { JobProgressPanel } from '../jobs/JobProgressPanel';
import type { Job } from '../jobs/types';
import { ConfirmDialog, Dialog } from '../ui/Dialog';
import { plural } from '../util/format';
import { deleteInstance, isCleanupJob, type InstanceDeleting } from './api';

interface Props {
  instance: Instance | null;
  pairs: Pair[];
  onClose: () => void;
  onDeleted: (message: string) => Promise<void>;
  onError: (error: unknown) => void;
}

function outcome(instance: Instance, deletedPairs: number, warnings: string[]): string {
  return (
    `Instance “${instance.name}” deleted${deletedPairs ? ` with ${plural(deletedPairs, 'pair')}` : ''}.` + (warnings.length ? ` Warnings: ${warnings.join('; ')}` : '')
  );
}

export function DeleteInstanceDialog({ instance, pairs, onClose, onDeleted, onError }: Props) {
  const [busy, setBusy] = useState(false);
  const [cleanup, setCleanup] = useState<{ instance: Instance; deleting: InstanceDeleting; pairCount: number } | null>(null);
  const [cleanupDone, setCleanupDone] = useState<Job | null>(null);
  const affected = instance ? pairs.filter((p) => p.source_instance_id === instance.id || p.target_instance_id === instance.id) : [];
  const pairCount = Math.max(instance?.pair_count ?? 0, affected.length);
  const mirrorCount = affected.reduce((sum, p) => sum + (p.mirror_count || 0), 0);

  const confirm = async () => {
    if (!instance) return;
    setBusy(true);
    try {
      const result = await deleteInstance(instance.id, pairCount > 0);
      if (isCleanupJob(result)) {
        setCleanupDone(null);
        setCleanup({ instance, deleting: result, pairCount: Math.max(result.deleted_pair_count, pairCount) });
        return;
      }
      await onDeleted(outcome(instance, result?.deleted_pair_count ?? pairCount, result?.warnings ?? []));
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  };

  const closeCleanup = () => {
    const current = cleanup;
    setCleanup(null);
    if (!current) return;
    if (cleanupDone?.state === 'succeeded') {
      void onDeleted(outcome(current.instance, current.pairCount, current.deleting.warnings));
    } else {
      // Still running, or failed: the list shows what is left; the job goes on in the background.
      void onDeleted(
        cleanupDone
          ? `Clean-up of “${current.instance.name}” ended ${cleanupDone.state.replace('_', ' ')}; check the remaining pairs.`
          : `Clean-up of “${current.instance.name}” continues in the background.`,
      );
    }
  };

  if (cleanup) {
    const { deleting, pairCount: cleanupPairs } = cleanup;
    return (
      <Dialog open title={`Deleting “${cleanup.instance.name}”`} onClose={closeCleanup} class="dialog-job">
        <div class="dialog-content" data-testid="instance-cleanup">
          <p>
            Removing the mirrors of {plural(cleanupPairs, 'pair')} from GitLab. {cleanupPairs === 1 ? 'The pair' : 'The pairs'} and the instance are deleted when this finishes.
          </p>
          {deleting.warnings.length ? (
            <ul class="small">
              {deleting.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          ) : null}
          <JobProgressPanel job={deleting.job} label="Clean-up" onFinished={setCleanupDone} />
        </div>
        <div class="dialog-actions">
          <button type="button" class={`button ${cleanupDone ? 'button-primary' : ''}`} onClick={closeCleanup} autoFocus>
            {cleanupDone ? 'Close' : 'Continue in background'}
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <ConfirmDialog
      open={instance !== null}
      title={instance ? `Delete instance “${instance.name}”?` : 'Delete instance'}
      confirmLabel={pairCount ? `Delete instance and ${plural(pairCount, 'pair')}` : 'Delete instance'}
      danger
      busy={busy}
      onConfirm={() => void confirm()}
      onCancel={onClose}
    >
      {pairCount > 0 ? (
        <div class="warning-box" data-testid="cascade-warning">
          <p>
            <strong>
              This also deletes {plural(pairCount, 'pair')}
              {mirrorCount ? ` and their ${plural(mirrorCount, 'mirror')}` : ''}
            </strong>{' '}
            that use this instance:
          </p>
          {affected.length ? (
            <ul>
              {affected.map((p) => (
                <li key={p.id}>
                  {p.name}
                  {p.mirror_count ? ` (${plural(p.mirror_count, 'mirror')})` : ''}
                </li>
              ))}
            </ul>
          ) : null}
          {mirrorCount ? <p>The mirrors are removed from GitLab first (push mirrors, pull settings and their project tokens); you can follow the progress here.</p> : null}
          <p>This cannot be undone.</p>
        </div>
      ) : (
        <p>No pair uses this instance. Its stored token is deleted with it. This cannot be undone.</p>
      )}
    </ConfirmDialog>
  );
}
