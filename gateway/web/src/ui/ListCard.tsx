/**
 * A card holding a filtered list: heading with the count, a filter box, and the states of the
 * list — loading, load error with retry, empty, nothing matching the filter — around the
 * table the page renders.
 */
import type { ComponentChildren } from 'preact';
import { LoadError } from './EmptyState';

interface Props {
  /** Prefix of the element ids: `<id>-list-heading`, `<id>-search`. */
  id: string;
  title: string;
  /** The list as loaded; `shown` is how many rows pass the filter. */
  list: { loaded: boolean; error: string | null; items: readonly unknown[] };
  shown: number;
  onRetry: () => void;
  search: string;
  onSearch: (text: string) => void;
  searchLabel: string;
  searchPlaceholder: string;
  /** Shown while the list is empty (before any filter). */
  empty: ComponentChildren;
  /** Shown when the filter hides every row, e.g. `No pair matches “x”.` */
  noMatch: string;
  children: ComponentChildren;
}

export function ListCard({ id, title, list, shown, onRetry, search, onSearch, searchLabel, searchPlaceholder, empty, noMatch, children }: Props) {
  return (
    <section class="card" aria-labelledby={`${id}-list-heading`}>
      <div class="card-header">
        <h2 id={`${id}-list-heading`} class="card-title">
          {title} <span class="count">{list.loaded ? list.items.length : ''}</span>
        </h2>
        <div class="search">
          <label for={`${id}-search`} class="visually-hidden">
            {searchLabel}
          </label>
          <input id={`${id}-search`} type="search" placeholder={searchPlaceholder} value={search} onInput={(e) => onSearch(e.currentTarget.value)} />
        </div>
      </div>
      {list.error ? (
        <LoadError message={list.error} onRetry={onRetry} />
      ) : !list.loaded ? (
        <p class="muted" aria-busy="true">
          Loading {title.toLowerCase()}…
        </p>
      ) : list.items.length === 0 ? (
        empty
      ) : shown === 0 ? (
        <p class="muted">{noMatch}</p>
      ) : (
        children
      )}
    </section>
  );
}
