/** Project paths typed into the create form: validation and how they are searched. */
import type { GitLabProject } from './types';

const PATH_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/;

/** The API's rule, checked first so obvious typos are caught without a round trip. */
export function pathProblem(path: string): string | undefined {
  const value = path.trim();
  if (!value) return 'Enter or pick a project path.';
  if (value.length > 500) return 'At most 500 characters.';
  if (!PATH_PATTERN.test(value)) return 'Use the full path with its group, e.g. group/project.';
  return undefined;
}

/** GitLab searches names: a typed `group/sub/na` is searched by its last segment… */
export function searchTerm(input: string): string {
  const segments = input
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean);
  return segments[segments.length - 1] ?? '';
}

/** …and the results are narrowed to paths containing what was typed. */
export function matchesPath(project: Pick<GitLabProject, 'path_with_namespace'>, input: string): boolean {
  const needle = input.trim().toLowerCase().replace(/^\/+/, '');
  return needle === '' || project.path_with_namespace.toLowerCase().includes(needle);
}
