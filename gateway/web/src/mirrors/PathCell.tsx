/** A project path shortened from the left (`… / services / api-gateway`), whole on hover and for screen readers. */
import { truncatePath } from '../util/paths';

export function PathText({ path, keep = 2 }: { path: string; keep?: number }) {
  const shown = truncatePath(path, keep);
  if (!shown.truncated) return <span class="mono path-text">{shown.text}</span>;
  return (
    <span class="mono path-text" title={path}>
      <span aria-hidden="true">{shown.text}</span>
      <span class="visually-hidden">{path}</span>
    </span>
  );
}
