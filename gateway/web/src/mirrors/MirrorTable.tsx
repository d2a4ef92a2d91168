/** The mirror list: status and token badges, row actions and the inline editor. */
import { Fragment } from 'preact';
import type { Pair } from '../api/types';
import { formatZulu, timeAgo } from '../util/format';
import { MirrorEditor } from './MirrorEditor';
import { PathText } from './PathCell';
import { effectiveSummary, overriddenKeys } from './settings';
import { isBusy, syncStatus, tokenStatusView } from './status';
import type { Mirror, MirrorChanges } from './types';

export type RowAction = 'sync' | 'verify' | 'rotate-token' | 'delete';

interface Props {
  mirrors: Mirror[];
  /** Every pair, to find each mirror's (the list may span pairs). */
  pairs: Pair[];
  /** Name each mirror's pair (the list spans pairs). */
  showPair?: boolean;
  /** The row to highlight (`?focus=<id>`). */
  focusId?: number | null;
  editing: number | null;
  onEdit: (id: number | null) => void;
  onSave: (mirror: Mirror, changes: MirrorChanges) => Promise<void>;
  onAction: (mirror: Mirror, action: RowAction) => void;
}

/** First 80 characters of an error, the rest in the tooltip. */
function shortError(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

export function MirrorTable({ mirrors, pairs, showPair, focusId, editing, onEdit, onSave, onAction }: Props) {
  return (
    <div class="table-wrap">
      <table class="table responsive-table mirror-table" data-testid="mirrors-table">
        <thead>
          <tr>
            <th scope="col">Source project</th>
            <th scope="col">Target project</th>
            <th scope="col">Sync status</th>
            <th scope="col">Last success</th>
            <th scope="col">Token</th>
            <th scope="col">Settings</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {mirrors.map((mirror) => {
            const pair = pairs.find((p) => p.id === mirror.instance_pair_id);
            const status = syncStatus(mirror);
            const token = tokenStatusView(mirror.token_status);
            const settings = effectiveSummary(mirror, pair?.mirror_direction);
            const overrides = overriddenKeys(mirror).length;
            const busy = isBusy(mirror);
            const ready = mirror.lifecycle === 'ready';
            const name = `${mirror.source_project_path} → ${mirror.target_project_path}`;
            return (
              <Fragment key={mirror.id}>
                <tr id={`mirror-row-${mirror.id}`} data-testid="mirror-row" data-mirror-id={mirror.id} data-source={mirror.source_project_path} data-status={mirror.last_update_status ?? ''} data-lifecycle={mirror.lifecycle} class={[mirror.enabled ? '' : 'row-disabled', focusId === mirror.id ? 'row-highlight' : ''].join(' ').trim() || undefined}>
                  <th scope="row" data-label="Source">
                    <PathText path={mirror.source_project_path} />
                    {mirror.enabled ? null : <span class="badge">Disabled</span>}
                    {showPair ? <div class="small muted">{pair ? pair.name : `pair #${mirror.instance_pair_id}`}</div> : null}
                  </th>
                  <td data-label="Target">
                    <PathText path={mirror.target_project_path} />
                  </td>
                  <td data-label="Sync status">
                    <span class={`badge badge-tone-${status.tone}${busy ? ' badge-busy' : ''}`} data-testid="mirror-status">
                      {status.label}
                    </span>
                    {mirror.status_checked_at ? (
                      <div class="small muted" title={formatZulu(mirror.status_checked_at)}>
                        checked {timeAgo(mirror.status_checked_at)}
                      </div>
                    ) : null}
                    {mirror.last_error ? (
                      <div class="small item-error" title={mirror.last_error}>
                        {shortError(mirror.last_error)}
                      </div>
                    ) : null}
                  </td>
                  <td data-label="Last success" title={formatZulu(mirror.last_successful_update)}>
                    {mirror.last_successful_update ? timeAgo(mirror.last_successful_update) : <span class="muted">never</span>}
                  </td>
                  <td data-label="Token">
                    <span class={`badge badge-tone-${token.tone}`} title={mirror.mirror_token_expires_at ? `Expires ${formatZulu(mirror.mirror_token_expires_at)}` : undefined} data-testid="token-status">
                      {token.label}
                    </span>
                  </td>
                  <td data-label="Settings" class="small">
                    {settings.length ? settings.join(' · ') : <span class="muted">defaults</span>}
                    {overrides ? <div class="muted">{overrides === 1 ? '1 override' : `${overrides} overrides`}</div> : null}
                  </td>
                  {/* The buttons are named by aria-label, not by hidden text: five hidden copies of the
                      paths per row doubled the layout time of a 200-row page. */}
                  <td data-label="Actions" class="cell-actions">
                    <div class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        id={`mirror-edit-${mirror.id}`}
                        aria-expanded={editing === mirror.id}
                        aria-controls={`mirror-editor-${mirror.id}`}
                        disabled={mirror.lifecycle === 'deleting'}
                        onClick={() => onEdit(editing === mirror.id ? null : mirror.id)}
                        aria-label={`Edit ${name}`}
                      >
                        Edit
                      </button>
                      <button type="button" class="button button-small" disabled={!ready || !mirror.enabled} title={!mirror.enabled ? 'The mirror is disabled' : undefined} onClick={() => onAction(mirror, 'sync')} aria-label={`Sync ${name}`}>
                        Sync
                      </button>
                      <button type="button" class="button button-small" disabled={!ready} onClick={() => onAction(mirror, 'verify')} aria-label={`Verify ${name}`}>
                        Verify
                      </button>
                      <button type="button" class="button button-small" disabled={!ready} onClick={() => onAction(mirror, 'rotate-token')} aria-label={`Rotate token of ${name}`}>
                        Rotate token
                      </button>
                      <button type="button" class="button button-small button-danger-outline" disabled={mirror.lifecycle === 'deleting'} onClick={() => onAction(mirror, 'delete')} aria-label={`Delete ${name}`}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
                {editing === mirror.id ? (
                  <tr class="editor-row" id={`mirror-editor-${mirror.id}`}>
                    <td colSpan={7}>
                      <h3 class="editor-title">Edit mirror</h3>
                      <MirrorEditor mirror={mirror} pair={pair} onSave={(changes) => onSave(mirror, changes)} onCancel={() => onEdit(null)} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
