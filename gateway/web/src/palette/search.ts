/** Ranking of command-palette entries: whole-word and prefix matches first, then subsequences. */

export interface PaletteItem {
  id: string;
  /** What kind of thing, e.g. `Instance`, `Pair`, `Page`, `Action`. */
  group: string;
  label: string;
  /** Secondary text that is also searched (URL, instances of a pair…). */
  detail?: string;
  keywords?: string;
  run: () => void;
}

/**
 * A score for `text` against `query` (higher is better), or -1 when it does not match.
 * `fuzzy` also accepts the query's characters in order with gaps (for names only).
 */
export function scoreText(text: string, query: string, fuzzy = true): number {
  const t = text.toLowerCase();
  const q = query.toLowerCase();
  if (!q) return 0;
  if (t === q) return 1000;
  if (t.startsWith(q)) return 800 - t.length;
  const index = t.indexOf(q);
  if (index >= 0) {
    const atWord = index > 0 && /[\s\-_/.:(]/.test(t[index - 1] ?? '');
    return (atWord ? 600 : 400) - index;
  }
  if (!fuzzy) return -1;
  // Subsequence: every query character in order.
  let pos = -1;
  let gaps = 0;
  for (const ch of q) {
    const next = t.indexOf(ch, pos + 1);
    if (next < 0) return -1;
    gaps += next - pos - 1;
    pos = next;
  }
  return Math.max(1, 200 - gaps);
}

/** Every term of the query must match the label, detail or keywords. */
export function rankItems(items: PaletteItem[], query: string, limit = 30): PaletteItem[] {
  const terms = query.trim().split(/\s+/).filter(Boolean);
  if (!terms.length) return items.slice(0, limit);
  const scored: { item: PaletteItem; score: number }[] = [];
  for (const item of items) {
    let total = 0;
    let ok = true;
    for (const term of terms) {
      const best = Math.max(scoreText(item.label, term) * 2, scoreText(item.detail ?? '', term, false), scoreText(item.keywords ?? '', term, false));
      if (best < 0) {
        ok = false;
        break;
      }
      total += best;
    }
    if (ok) scored.push({ item, score: total });
  }
  scored.sort((a, b) => b.score - a.score || a.item.label.localeCompare(b.item.label));
  return scored.slice(0, limit).map((s) => s.item);
}
