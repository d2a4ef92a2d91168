/** Display helpers for GitLab namespace paths such as `platform/backend/services/api-gateway`. */

export const PATH_SEPARATOR = ' / ';
export const ELLIPSIS = '…';

export function pathSegments(path: string): string[] {
  return path
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export interface TruncatedPath {
  /** What to display, e.g. `… / services / api-gateway`. */
  text: string;
  /** The whole path with the same separator, for a tooltip. */
  full: string;
  truncated: boolean;
}

/**
 * Keeps the last `keep` segments of a nested path and replaces the leading ones with `…`.
 * Paths with at most `keep + 1` segments are shown whole (an ellipsis would hide no more than
 * one segment). With `maxChars`, the shown segments are cut further from the left until they
 * fit, always keeping the last segment (itself cut from the left, `…gateway`, if needed).
 */
export function truncatePath(path: string, keep = 2, maxChars?: number): TruncatedPath {
  const segments = pathSegments(path);
  const full = segments.join(PATH_SEPARATOR);
  const keepCount = Math.max(1, Math.floor(keep));
  let shown = segments.length > keepCount + 1 ? segments.slice(-keepCount) : segments.slice();
  let truncated = shown.length < segments.length;
  const render = () => (truncated ? [ELLIPSIS, ...shown] : shown).join(PATH_SEPARATOR);
  if (maxChars !== undefined && maxChars > 0) {
    while (shown.length > 1 && render().length > maxChars) {
      shown = shown.slice(1);
      truncated = true;
    }
    const last = shown[0] ?? '';
    if (render().length > maxChars && last.length > 1) {
      const tail = last.slice(-Math.max(1, maxChars - ELLIPSIS.length));
      return { text: `${ELLIPSIS}${tail}`, full, truncated: true };
    }
  }
  return { text: render(), full, truncated };
}
