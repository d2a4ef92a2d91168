/** Page navigation and page size of the mirror list. */
import { PAGE_SIZES, pageCount, rangeText, type MirrorListState, type PageSize } from './query';

interface Props {
  state: MirrorListState;
  shown: number;
  total: number;
  onChange: (patch: Partial<MirrorListState>) => void;
}

export function Pager({ state, shown, total, onChange }: Props) {
  const pages = pageCount(total, state.pageSize);
  return (
    <div class="pager" data-testid="mirror-pager">
      <span class="small muted" data-testid="mirror-range">
        {rangeText(state.page, state.pageSize, shown, total)}
      </span>
      <div class="pager-buttons">
        <label for="mirror-page-size" class="small">
          Per page
        </label>
        <select id="mirror-page-size" class="select-small" value={state.pageSize} onChange={(e) => onChange({ pageSize: Number(e.currentTarget.value) as PageSize, page: 1 })}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <button type="button" class="button button-small" disabled={state.page <= 1} onClick={() => onChange({ page: 1 })}>
          First
        </button>
        <button type="button" class="button button-small" disabled={state.page <= 1} onClick={() => onChange({ page: state.page - 1 })}>
          Previous
        </button>
        <span class="small" aria-live="polite">
          Page {state.page} of {pages}
        </span>
        <button type="button" class="button button-small" disabled={state.page >= pages} onClick={() => onChange({ page: state.page + 1 })}>
          Next
        </button>
        <button type="button" class="button button-small" disabled={state.page >= pages} onClick={() => onChange({ page: pages })}>
          Last
        </button>
      </div>
    </div>
  );
}
