/** Filter and sort controls of the mirror list; text filters apply after a short pause. */
import { useEffect, useState } from 'preact/hooks';
import type { TokenStatus } from './types';
import { hasFilters, SORT_FIELDS, STATUS_FILTERS, TOKEN_FILTERS, type MirrorListState, type SortField } from './query';

const TEXT_DEBOUNCE_MS = 300;

interface Props {
  state: MirrorListState;
  view: 'list' | 'tree';
  onChange: (patch: Partial<MirrorListState>) => void;
}

/** A text input whose value reaches `onCommit` after typing pauses (or at once on Enter). */
function DebouncedInput({ id, value, onCommit, ...rest }: { id: string; value: string; onCommit: (v: string) => void; placeholder?: string; type?: string; class?: string }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onCommit(text), TEXT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <input
      id={id}
      value={text}
      onInput={(e) => setText(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onCommit(text);
        }
      }}
      {...rest}
    />
  );
}

export function MirrorFilters({ state, view, onChange }: Props) {
  return (
    <div class="filters mirror-filters" role="search" aria-label="Filter mirrors">
      <div class="field">
        <label for="mirror-search">Search</label>
        <DebouncedInput id="mirror-search" type="search" placeholder="Source or target path" value={state.search} onCommit={(search) => onChange({ search })} />
      </div>
      <div class="field">
        <label for="mirror-group">Group</label>
        <DebouncedInput id="mirror-group" type="text" class="mono" placeholder="e.g. acme/platform" value={state.group} onCommit={(group) => onChange({ group })} />
      </div>
      <div class="field">
        <label for="mirror-status">Sync status</label>
        <select id="mirror-status" value={state.status} onChange={(e) => onChange({ status: e.currentTarget.value })}>
          <option value="">Any</option>
          {STATUS_FILTERS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      {view === 'list' ? (
        <>
          <div class="field">
            <label for="mirror-enabled">Enabled</label>
            <select id="mirror-enabled" value={state.enabled} onChange={(e) => onChange({ enabled: e.currentTarget.value as MirrorListState['enabled'] })}>
              <option value="">Any</option>
              <option value="true">Enabled</option>
              <option value="false">Disabled</option>
            </select>
          </div>
          <div class="field">
            <label for="mirror-token">Token</label>
            <select id="mirror-token" value={state.tokenStatus} onChange={(e) => onChange({ tokenStatus: e.currentTarget.value as TokenStatus | '' })}>
              <option value="">Any</option>
              {TOKEN_FILTERS.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="mirror-sort">Sort by</label>
            <div class="sort-row">
              <select id="mirror-sort" value={state.orderBy} onChange={(e) => onChange({ orderBy: e.currentTarget.value as SortField })}>
                {SORT_FIELDS.map((f) => (
                  <option key={f.value} value={f.value}>
                    {f.label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="button button-small"
                id="mirror-sort-dir"
                title={state.orderDir === 'asc' ? 'Ascending order; switch to descending' : 'Descending order; switch to ascending'}
                onClick={() => onChange({ orderDir: state.orderDir === 'asc' ? 'desc' : 'asc' })}
              >
                {/* The visible word is the name (WCAG 2.5.3); the arrow is decoration. */}
                <span aria-hidden="true">{state.orderDir === 'asc' ? '↑' : '↓'}</span> {state.orderDir === 'asc' ? 'Asc' : 'Desc'}
              </button>
            </div>
          </div>
        </>
      ) : null}
      {hasFilters(state) ? (
        <button type="button" class="button button-small" onClick={() => onChange({ search: '', group: '', status: '', enabled: '', tokenStatus: '' })}>
          Clear filters
        </button>
      ) : null}
    </div>
  );
}
