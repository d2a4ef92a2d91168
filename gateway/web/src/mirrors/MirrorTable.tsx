/** The mirror list: status and token badges, row actions and the inline editor. */
import { Fragment } from 'preact';
import { useMemo } from 'preact/hooks';
import type { Pair } from '../api/types';
import { ActionMenu, type MenuAction, MenuController } from '../ui/ActionMenu';
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

const ACTIONS_MENU_ID = 'mirror-actions-menu';

/** What a row's menu offers, each disabled with the reason when the mirror's state forbids it. */
function rowActions(mirror: Mirror, editorOpen: boolean, onEdit: (id: number | null) => void, onAction: (mirror: Mirror, action: RowAction) => void): MenuAction[] {
  const ready = mirror.lifecycle === 'ready';
  const notReady = ready ? undefined : `Not available while the mirror is ${mirror.lifecycle.replace('_', ' ')}`;
  return [
    { label: editorOpen ? 'Close editor' : 'Edit', run: () => onEdit(editorOpen ? null : mirror.id), disabled: mirror.lifecycle === 'deleting', hint: mirror.lifecycle === 'deleting' ? 'The mirror is being deleted' : undefined },
    { label: 'Sync', run: () => onAction(mirror, 'sync'), disabled: !ready || !mirror.enabled, hint: notReady ?? (mirror.enabled ? undefined : 'The mirror is disabled') },
    { label: 'Verify', run: () => onAction(mirror, 'verify'), disabled: !ready, hint: notReady },
    { label: 'Rotate token', run: () => onAction(mirror, 'rotate-token'), disabled: !ready, hint: notReady },
    { label: 'Delete', run: () => onAction(mirror, 'delete'), disabled: mirror.lifecycle === 'deleting', danger: true, hint: mirror.lifecycle === 'deleting' ? 'The mirror is being deleted' : undefined },
  ];
}

export function MirrorTable({ mirrors, pairs, showPair, focusId, editing, onEdit, onSave, onAction }: Props) {
  // One menu for all rows: a row renders a single button (see ui/ActionMenu).
  const menu = useMemo(() => new MenuController(), []);
  return (
    <div class="table-wrap">
      <ActionMenu id={ACTIONS_MENU_ID} controller={menu} />
      {/* Rows are laid out as grid rows (mirrors.css) so that rows outside the viewport skip style
          and layout; the explicit roles keep the table's semantics that `display` would drop. */}
      <table class="table responsive-table mirror-table" data-testid="mirrors-table" role="table">
        <thead role="rowgroup">
          <tr role="row">
            <th scope="col" role="columnheader">Source project</th>
            <th scope="col" role="columnheader">Target project</th>
            <th scope="col" role="columnheader">Sync status</th>
            <th scope="col" role="columnheader">Last success</th>
            <th scope="col" role="columnheader">Token</th>
            <th scope="col" role="columnheader">Settings</th>
            <th scope="col" role="columnheader">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {mirrors.map((mirror) => {
            const pair = pairs.find((p) => p.id === mirror.instance_pair_id);
            const status = syncStatus(mirror);
            const token = tokenStatusView(mirror.token_status);
            const settings = effectiveSummary(mirror, pair?.mirror_direction);
            const overrides = overriddenKeys(mirror).length;
            const busy = isBusy(mirror);
            const name = `${mirror.source_project_path} → ${mirror.target_project_path}`;
            return (
              <Fragment key={mirror.id}>
                <tr role="row" id={`mirror-row-${mirror.id}`} data-testid="mirror-row" data-mirror-id={mirror.id} data-source={mirror.source_project_path} data-status={mirror.last_update_status ?? ''} data-lifecycle={mirror.lifecycle} class={[mirror.enabled ? '' : 'row-disabled', focusId === mirror.id ? 'row-highlight' : ''].join(' ').trim() || undefined}>
                  <th scope="row" role="rowheader" data-label="Source">
                    <PathText path={mirror.source_project_path} />
                    {mirror.enabled ? null : <span class="badge">Disabled</span>}
                    {showPair ? <div class="small muted">{pair ? pair.name : `pair #${mirror.instance_pair_id}`}</div> : null}
                  </th>
                  <td role="cell" data-label="Target">
                    <PathText path={mirror.target_project_path} />
                  </td>
                  <td role="cell" data-label="Sync status">
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
                  <td role="cell" data-label="Last success" title={formatZulu(mirror.last_successful_update)}>
                    {mirror.last_successful_update ? timeAgo(mirror.last_successful_update) : <span class="muted">never</span>}
                  </td>
                  <td role="cell" data-label="Token">
                    <span class={`badge badge-tone-${token.tone}`} title={mirror.mirror_token_expires_at ? `Expires ${formatZulu(mirror.mirror_token_expires_at)}` : undefined} data-testid="token-status">
                      {token.label}
                    </span>
                  </td>
                  <td role="cell" data-label="Settings" class="small">
                    {settings.length ? settings.join(' · ') : <span class="muted">defaults</span>}
                    {overrides ? <div class="muted">{overrides === 1 ? '1 override' : `${overrides} overrides`}</div> : null}
                  </td>
                  <td role="cell" data-label="Actions" class="cell-actions">
                    <button
                      type="button"
                      class="button button-small"
                      popovertarget={ACTIONS_MENU_ID}
                      aria-haspopup="menu"
                      aria-expanded="false"
                      aria-label={`Actions for ${name}`}
                      onClick={(event) => menu.open(event, `Actions for ${name}`, rowActions(mirror, editing === mirror.id, onEdit, onAction))}
                    >
                      Actions
                      <span aria-hidden="true" class="menu-caret">
                        ▾
                      </span>
                    </button>
                  </td>
                </tr>
                {editing === mirror.id ? (
                  <tr role="row" class="editor-row" id={`mirror-editor-${mirror.id}`}>
                    <td role="cell" colSpan={7}>
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
