/** Creates a mirror in the selected pair: project pickers, optional overrides, then the job. */
import { useState } from 'preact/hooks';
import { mapFieldErrors } from '../api';
import type { Pair } from '../api/types';
import { href } from '../app/router';
import { JobProgress } from '../jobs/JobProgress';
import type { Job } from '../jobs/types';
import { Checkbox, Field, FormErrors } from '../ui/Field';
import { useToast } from '../ui/toast';
import { createMirror } from './api';
import { ProjectPicker } from './ProjectPicker';
import { pathProblem } from './projectPaths';
import { createOverrides, FLAG_SETTINGS, inheritLabel, settingLockReason, type EditValues, type Tri } from './settings';

const FIELDS = ['source_project_path', 'target_project_path', 'mirror_branch_regex', 'mirror_overwrite_diverged', 'only_mirror_protected_branches', 'mirror_trigger_builds', 'enabled'];
const EMPTY: Omit<EditValues, 'enabled'> = {
  mirror_overwrite_diverged: 'inherit',
  only_mirror_protected_branches: 'inherit',
  mirror_trigger_builds: 'inherit',
  mirror_branch_regex: null,
};

interface Props {
  pair: Pair;
  onCreated: () => void;
}

export function CreateMirrorForm({ pair, onCreated }: Props) {
  const notify = useToast();
  const [source, setSource] = useState('');
  const [target, setTarget] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [overrides, setOverrides] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const id = (f: string) => `mirror-create-${f}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    const s = pathProblem(source);
    const t = pathProblem(target);
    if (s) found.source_project_path = s;
    if (t) found.target_project_path = t;
    setErrors(found);
    setGeneral([]);
    const first = FIELDS.find((f) => found[f]);
    if (first) {
      document.getElementById(id(first))?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await createMirror({
        instance_pair_id: pair.id,
        source_project_path: source.trim(),
        target_project_path: target.trim(),
        enabled,
        ...createOverrides(overrides),
      });
      setJob(created.job);
      notify('success', `Mirror ${created.mirror.source_project_path} → ${created.mirror.target_project_path} recorded; it is being set up in GitLab.`, {
        href: href('/jobs', { id: created.job.id }),
        label: `Job #${created.job.id}`,
      });
      setSource('');
      setTarget('');
      setOverrides(EMPTY);
      onCreated();
    } catch (error) {
      const mapped = mapFieldErrors(error, FIELDS);
      setErrors(mapped.byField);
      setGeneral(mapped.general);
      const firstField = FIELDS.find((f) => mapped.byField[f]);
      if (firstField) document.getElementById(id(firstField))?.focus();
    } finally {
      setBusy(false);
    }
  };

  const setTri = (key: keyof typeof EMPTY, value: Tri) => setOverrides((o) => ({ ...o, [key]: value }));
  return (
    <form onSubmit={(e) => void submit(e)} noValidate data-testid="mirror-create-form">
      <FormErrors messages={general} />
      <div class="form-grid">
        <Field id={id('source_project_path')} label="Source project" required error={errors.source_project_path} hint="Search the source instance by name or path.">
          {(describedBy, invalid) => (
            <ProjectPicker
              id={id('source_project_path')}
              instanceId={pair.source_instance_id}
              value={source}
              onChange={(v) => {
                setSource(v);
                if (errors.source_project_path) setErrors((x) => ({ ...x, source_project_path: '' }));
              }}
              // Mirrors usually keep the path: offer the same one on the target.
              onPick={(path) => setTarget((current) => current || path)}
              describedBy={describedBy}
              invalid={invalid}
              placeholder="group/project"
            />
          )}
        </Field>
        <Field id={id('target_project_path')} label="Target project" required error={errors.target_project_path} hint="Search the target instance; the project must exist there.">
          {(describedBy, invalid) => (
            <ProjectPicker
              id={id('target_project_path')}
              instanceId={pair.target_instance_id}
              value={target}
              onChange={(v) => {
                setTarget(v);
                if (errors.target_project_path) setErrors((x) => ({ ...x, target_project_path: '' }));
              }}
              describedBy={describedBy}
              invalid={invalid}
              placeholder="group/project"
            />
          )}
        </Field>
      </div>
      <details class="settings-details">
        <summary>Settings (inherit the pair's unless changed)</summary>
        <div class="form-grid">
          {FLAG_SETTINGS.map(({ key, label }) => {
            const lock = settingLockReason(key, pair.mirror_direction);
            return (
              <Field key={key} id={id(key)} label={label} lockedReason={lock} error={errors[key]}>
                {(describedBy) => (
                  <select id={id(key)} value={overrides[key]} disabled={Boolean(lock)} aria-describedby={describedBy} onChange={(e) => setTri(key, e.currentTarget.value as Tri)}>
                    <option value="inherit">{inheritLabel(pair, key)}</option>
                    <option value="yes">Yes</option>
                    <option value="no">No</option>
                  </select>
                )}
              </Field>
            );
          })}
          <Field id={id('mirror_branch_regex')} label="Branch filter (regex)" error={errors.mirror_branch_regex} hint={pair.mirror_branch_regex ? `Empty inherits the pair's /${pair.mirror_branch_regex}/.` : 'Empty inherits the pair (all branches).'}>
            {(describedBy, invalid) => (
              <input
                id={id('mirror_branch_regex')}
                type="text"
                class="mono"
                value={overrides.mirror_branch_regex ?? ''}
                aria-describedby={describedBy}
                aria-invalid={invalid || undefined}
                placeholder={pair.mirror_branch_regex ?? '^(main|release/.*)$'}
                onInput={(e) => setOverrides((o) => ({ ...o, mirror_branch_regex: e.currentTarget.value || null }))}
              />
            )}
          </Field>
        </div>
      </details>
      <Checkbox id={id('enabled')} label="Enabled" checked={enabled} onChange={setEnabled} hint="A disabled mirror is set up but not updated." />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create mirror'}
        </button>
      </div>
      {job ? (
        <div class="create-progress">
          <JobProgress key={job.id} jobId={job.id} initial={job} onFinished={onCreated} />
        </div>
      ) : null}
    </form>
  );
}
