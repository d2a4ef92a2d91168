/**
 * A project path field with suggestions from GitLab (`/api/instances/{id}/projects?search=`):
 * an ARIA 1.2 combobox. Typing searches after a short pause; Arrow keys move through the
 * suggestions, Enter picks one, Escape closes the list. Any typed path is accepted too.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api';
import { searchProjects } from './api';
import { matchesPath, searchTerm } from './projectPaths';
import type { GitLabProject } from './types';

export const SEARCH_DEBOUNCE_MS = 250;
const MIN_CHARS = 2;

/**
 * GitLab matches project names, not group paths: `acme/plat` finds nothing by `plat`. When
 * the typed text names groups and the name search finds nothing, the first projects the
 * instance lists are filtered by path instead.
 */
async function findProjects(instanceId: number, input: string, term: string, signal: AbortSignal): Promise<GitLabProject[]> {
  const found = (await searchProjects(instanceId, term, signal)).filter((p) => matchesPath(p, input));
  if (found.length || !input.includes('/')) return found;
  return (await searchProjects(instanceId, '', signal, 100)).filter((p) => matchesPath(p, input)).slice(0, 20);
}

interface Props {
  id: string;
  instanceId: number;
  value: string;
  onChange: (value: string) => void;
  /** Called after a suggestion was chosen (not for typed text). */
  onPick?: (path: string) => void;
  describedBy?: string | undefined;
  invalid?: boolean;
  placeholder?: string;
}

export function ProjectPicker({ id, instanceId, value, onChange, onPick, describedBy, invalid, placeholder }: Props) {
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<GitLabProject[]>([]);
  const [active, setActive] = useState(-1);
  const [status, setStatus] = useState<'idle' | 'loading' | 'error' | 'done'>('idle');
  const [error, setError] = useState('');
  const typed = useRef(false);
  const listId = `${id}-listbox`;

  useEffect(() => {
    if (!typed.current) return;
    const term = searchTerm(value);
    if (term.length < MIN_CHARS) {
      setOptions([]);
      setStatus('idle');
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setStatus('loading');
      findProjects(instanceId, value, term, controller.signal)
        .then((projects) => {
          setOptions(projects);
          setActive(-1);
          setStatus('done');
        })
        .catch((e: unknown) => {
          if (e instanceof DOMException && e.name === 'AbortError') return;
          setOptions([]);
          setError(describeError(e));
          setStatus('error');
        });
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [value, instanceId]);

  const pick = (project: GitLabProject) => {
    typed.current = false;
    onChange(project.path_with_namespace);
    onPick?.(project.path_with_namespace);
    setOpen(false);
    setActive(-1);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (options.length ? (i + 1) % options.length : -1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (options.length ? (i <= 0 ? options.length - 1 : i - 1) : -1));
    } else if (e.key === 'Enter' && open && active >= 0 && options[active]) {
      e.preventDefault();
      pick(options[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  };

  const showList = open && (status === 'loading' || status === 'error' || status === 'done');
  return (
    <div class="combobox">
      <input
        id={id}
        name={id}
        type="text"
        role="combobox"
        autoComplete="off"
        spellcheck={false}
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls={listId}
        aria-activedescendant={showList && active >= 0 ? `${id}-option-${active}` : undefined}
        aria-describedby={describedBy}
        aria-invalid={invalid ? true : undefined}
        placeholder={placeholder}
        value={value}
        onInput={(e) => {
          typed.current = true;
          onChange(e.currentTarget.value);
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      <ul id={listId} role="listbox" class="combobox-list" hidden={!showList} aria-label="Matching projects">
        {status === 'loading' && options.length === 0 ? <li class="combobox-note">Searching…</li> : null}
        {status === 'error' ? <li class="combobox-note combobox-error">{error}</li> : null}
        {status === 'done' && options.length === 0 ? <li class="combobox-note">No project matches; the typed path is used as is.</li> : null}
        {options.map((project, index) => (
          <li
            key={project.id}
            id={`${id}-option-${index}`}
            role="option"
            aria-selected={index === active}
            class={`combobox-option${index === active ? ' combobox-option-active' : ''}`}
            data-path={project.path_with_namespace}
            onMouseDown={(e) => {
              // Keep focus in the input; the click picks.
              e.preventDefault();
              pick(project);
            }}
          >
            <span class="mono">{project.path_with_namespace}</span>
            {project.name && project.name !== project.path_with_namespace.split('/').pop() ? <span class="small muted"> {project.name}</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
