/**
 * The header's search box: finds mirrors, pairs and instances through `/api/search` as you
 * type (debounced 200 ms) and opens the chosen one. A combobox with a listbox popup.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { hitsToItems, useRemoteSearch } from './remote';
import './header-search.css';

export function HeaderSearch() {
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const remote = useRemoteSearch(query);
  const close = () => {
    setOpen(false);
    setQuery('');
    input.current?.blur();
  };
  const results = useMemo(() => (remote.response ? hitsToItems(remote.response, close) : []), [remote.response]);

  useEffect(() => setActive(0), [results]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (results.length ? (a + 1) % results.length : 0));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (results.length ? (a - 1 + results.length) % results.length : 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      results[active]?.run();
    } else if (e.key === 'Escape') {
      if (query) setQuery('');
      else setOpen(false);
    }
  };

  const showList = open && query.trim() !== '';
  return (
    <div class="header-search" ref={box}>
      <label for="header-search-input" class="visually-hidden">
        Search mirrors, pairs and instances
      </label>
      <input
        ref={input}
        id="header-search-input"
        type="search"
        role="combobox"
        aria-expanded={showList}
        aria-controls="header-search-list"
        aria-autocomplete="list"
        aria-activedescendant={showList && results.length ? `header-search-option-${active}` : undefined}
        placeholder="Search mirrors…"
        autoComplete="off"
        spellcheck={false}
        value={query}
        onInput={(e) => {
          setQuery(e.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKeyDown}
      />
      {showList ? (
        <div class="header-search-popup">
          <ul id="header-search-list" role="listbox" aria-label="Search results" class="palette-list">
            {results.map((item, index) => (
              <li
                key={item.id}
                id={`header-search-option-${index}`}
                role="option"
                aria-selected={index === active}
                class={`palette-option${index === active ? ' active' : ''}`}
                data-testid="header-search-option"
                onMouseMove={() => setActive(index)}
                onClick={() => item.run()}
              >
                <span class="palette-group">{item.group}</span>
                <span class="palette-label">{item.label}</span>
                {item.detail ? <span class="palette-detail">{item.detail}</span> : null}
              </li>
            ))}
          </ul>
          <p class="palette-empty" role="status">
            {remote.loading ? 'Searching…' : remote.error ? `Search failed: ${remote.error}` : results.length === 0 && remote.answered ? `Nothing matches “${remote.answered}”.` : ''}
          </p>
        </div>
      ) : null}
    </div>
  );
}
