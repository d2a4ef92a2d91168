/** Confirms deleting an instance and names the pairs (and mirrors) that go with it. */
import { useState } from 'preact/hooks';
import type { Instance, Pair } from '../api/types';
import { ConfirmDialog } from '../ui/Dialog';
import { plural } from '../util/format';
import { deleteInstance } from './api';

interface Props {
  instance: Instance | null;
  pairs: Pair[];
  onClose: () => void;
  onDeleted: (message: string) => Promise<void>;
  onError: (error: unknown) => void;
}

export function DeleteInstanceDialog({ instance, pairs, onClose, onDeleted, onError }: Props) {
  const [busy, setBusy] = useState(false);
  const affected = instance ? pairs.filter((p) => p.source_instance_id === instance.id || p.target_instance_id === instance.id) : [];
  const pairCount = Math.max(instance?.pair_count ?? 0, affected.length);
  const mirrorCount = affected.reduce((sum, p) => sum + (p.mirror_count || 0), 0);

  const confirm = async () => {
    if (!instance) return;
    setBusy(true);
    try {
      const result = await deleteInstance(instance.id, pairCount > 0);
      const deletedPairs = result?.deleted_pair_count ?? pairCount;
      const warnings = result?.warnings ?? [];
      await onDeleted(
        `Instance “${instance.name}” deleted${deletedPairs ? ` with ${plural(deletedPairs, 'pair')}` : ''}.` +
          (warnings.length ? ` Warnings: ${warnings.join('; ')}` : ''),
      );
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  };

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
          <p>This cannot be undone.</p>
        </div>
      ) : (
        <p>No pair uses this instance. Its stored token is deleted with it. This cannot be undone.</p>
      )}
    </ConfirmDialog>
  );
}
