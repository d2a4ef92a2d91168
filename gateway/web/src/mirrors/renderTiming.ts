/**
 * A User Timing mark set the moment a page of the mirror list has arrived (fetched and parsed),
 * just before the table renders it. The browser suite measures from this mark to the painted
 * table (its render budget, docs/PERFORMANCE.md); it costs nothing noticeable otherwise.
 */
export const LIST_RECEIVED_MARK = 'mm:mirrors:list-received';

export function markListReceived(rows: number): void {
  try {
    // One mark at a time: the live refresh reloads every few seconds, and the buffer must not grow.
    performance.clearMarks(LIST_RECEIVED_MARK);
    performance.mark(LIST_RECEIVED_MARK, { detail: { rows } });
  } catch {
    // No User Timing in this browser: nothing to measure.
  }
}
