/** Create and edit form of a pair with the default settings of its mirrors. */
import { useState } from 'preact/hooks';
import { mapFieldErrors } from '../api';
import type { Direction, Instance, Pair, PairInput } from '../api/types';
import { Checkbox, Field, FormErrors } from '../ui/Field';
import { Icon } from '../ui/icons';
import { pairChanges, pairLockReason } from './api';

const FIELDS = [
  'name',
  'source_instance_id',
  'target_instance_id',
  'mirror_direction',
  'mirror_overwrite_diverged',
  'mirror_trigger_builds',
  'only_mirror_protected_branches',
  'mirror_branch_regex',
  'description',
] as const;

interface Props {
  pair?: Pair;
  instances: Instance[];
  idPrefix: string;
  onSubmit: (input: PairInput, changes: Partial<PairInput>) => Promise<void>;
  onCancel?: () => void;
}

function initial(pair: Pair | undefined): PairInput {
  return {
    name: pair?.name ?? '',
    source_instance_id: pair?.source_instance_id ?? 0,
    target_instance_id: pair?.target_instance_id ?? 0,
    mirror_direction: pair?.mirror_direction ?? 'pull',
    mirror_overwrite_diverged: pair?.mirror_overwrite_diverged ?? false,
    mirror_trigger_builds: pair?.mirror_trigger_builds ?? false,
    only_mirror_protected_branches: pair?.only_mirror_protected_branches ?? false,
    mirror_branch_regex: pair?.mirror_branch_regex ?? '',
    description: pair?.description ?? '',
  };
}

export function PairForm({ pair, instances, idPrefix, onSubmit, onCancel }: Props) {
  const editing = Boolean(pair);
  const [values, setValues] = useState<PairInput>(() => initial(pair));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const lock = pairLockReason(pair ?? null);
  const id = (f: string) => `${idPrefix}-${f}`;

  const update = <K extends keyof PairInput>(key: K, value: PairInput[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: '' }));
  };

  const validate = (): Record<string, string> => {
    const found: Record<string, string> = {};
    if (!values.name.trim()) found.name = 'Enter a name.';
    if (!values.source_instance_id) found.source_instance_id = 'Choose the source instance.';
    if (!values.target_instance_id) found.target_instance_id = 'Choose the target instance.';
    else if (values.target_instance_id === values.source_instance_id) found.target_instance_id = 'Source and target must be different instances.';
    return found;
  };

  const focusFirst = (errs: Record<string, string>) => {
    const first = FIELDS.find((f) => errs[f]);
    if (first) document.getElementById(id(first === 'mirror_direction' ? 'mirror_direction-pull' : first))?.focus();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const found = validate();
    setErrors(found);
    setGeneral([]);
    if (Object.keys(found).length) return focusFirst(found);
    setBusy(true);
    try {
      await onSubmit(values, pair ? pairChanges(pair, values) : {});
      if (!editing) setValues(initial(undefined));
    } catch (error) {
      const mapped = mapFieldErrors(error, FIELDS);
      setErrors(mapped.byField);
      setGeneral(mapped.general);
      focusFirst(mapped.byField);
    } finally {
      setBusy(false);
    }
  };

  const instanceSelect = (key: 'source_instance_id' | 'target_instance_id', label: string) => (
    <Field id={id(key)} label={label} error={errors[key]} required lockedReason={lock}>
      {(describedBy, invalid) => (
        <select
          id={id(key)}
          name={key}
          value={String(values[key] || '')}
          disabled={Boolean(lock)}
          title={lock}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          onChange={(e) => update(key, Number(e.currentTarget.value) || 0)}
        >
          <option value="">Choose an instance…</option>
          {instances.map((i) => (
            <option key={i.id} value={String(i.id)}>
              {i.name} ({i.url})
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  const push = values.mirror_direction === 'push';
  const directionHelp = push
    ? 'Push: the source project pushes to the target (configured on the source).'
    : 'Pull: the target project pulls from the source (configured on the target; needs GitLab Premium).';
  const triggerReason = push ? 'Only pull mirrors can trigger pipelines on update.' : undefined;
  const regexReason = values.only_mirror_protected_branches ? 'GitLab mirrors either only protected branches or the branches matching a regex, not both.' : undefined;

  return (
    <form class="form" onSubmit={submit} noValidate aria-busy={busy} data-testid={editing ? 'pair-edit-form' : 'pair-create-form'}>
      <FormErrors messages={general} />
      <div class="form-grid">
        <Field id={id('name')} label="Pair name" error={errors.name} required>
          {(describedBy, invalid) => (
            <input id={id('name')} name="name" value={values.name} maxLength={100} onInput={(e) => update('name', e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoComplete="off" />
          )}
        </Field>
        {instanceSelect('source_instance_id', 'Source instance')}
        {instanceSelect('target_instance_id', 'Target instance')}
        <fieldset class={`field fieldset-inline${lock ? ' field-locked' : ''}`} title={lock} aria-describedby={[lock ? id('direction-locked') : '', id('direction-hint'), errors.mirror_direction ? id('direction-error') : ''].filter(Boolean).join(' ')}>
          <legend>Mirror direction</legend>
          <div class="radio-row">
            {(['pull', 'push'] as Direction[]).map((d) => (
              <label key={d} class="radio">
                <input
                  type="radio"
                  id={id(`mirror_direction-${d}`)}
                  name={id('mirror_direction')}
                  value={d}
                  checked={values.mirror_direction === d}
                  disabled={Boolean(lock)}
                  onChange={() => update('mirror_direction', d)}
                />
                {d === 'pull' ? 'Pull' : 'Push'}
              </label>
            ))}
          </div>
          {lock ? (
            <p id={id('direction-locked')} class="field-locked-reason">
              <Icon name="lock" size={14} /> {lock}
            </p>
          ) : null}
          <p id={id('direction-hint')} class="field-hint">
            {directionHelp}
          </p>
          {errors.mirror_direction ? (
            <p id={id('direction-error')} class="field-error">
              {errors.mirror_direction}
            </p>
          ) : null}
        </fieldset>
      </div>

      <fieldset class="settings-group">
        <legend>Default mirror settings</legend>
        <p class="field-hint">New mirrors of this pair start with these settings; a mirror can override them.</p>
        <Checkbox id={id('mirror_overwrite_diverged')} label="Overwrite diverged branches" hint="The target's diverged branches are replaced by the source's." checked={values.mirror_overwrite_diverged} error={errors.mirror_overwrite_diverged} onChange={(v) => update('mirror_overwrite_diverged', v)} />
        <Checkbox id={id('only_mirror_protected_branches')} label="Only mirror protected branches" checked={values.only_mirror_protected_branches} error={errors.only_mirror_protected_branches} onChange={(v) => update('only_mirror_protected_branches', v)} />
        <Checkbox id={id('mirror_trigger_builds')} label="Trigger pipelines on mirror update" checked={!push && values.mirror_trigger_builds} disabledReason={triggerReason} error={errors.mirror_trigger_builds} onChange={(v) => update('mirror_trigger_builds', v)} />
        <Field id={id('mirror_branch_regex')} label="Branch filter (regex)" error={errors.mirror_branch_regex} lockedReason={regexReason} hint="Only branches matching this RE2 expression are mirrored (GitLab Premium). Leave empty for all.">
          {(describedBy, invalid) => (
            <input
              id={id('mirror_branch_regex')}
              name="mirror_branch_regex"
              value={regexReason ? '' : (values.mirror_branch_regex ?? '')}
              maxLength={255}
              disabled={Boolean(regexReason)}
              title={regexReason}
              placeholder="^(main|release/.*)$"
              spellcheck={false}
              autoComplete="off"
              class="mono"
              onInput={(e) => update('mirror_branch_regex', e.currentTarget.value)}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
            />
          )}
        </Field>
      </fieldset>

      <Field id={id('description')} label="Description" error={errors.description}>
        {(describedBy, invalid) => (
          <input id={id('description')} name="description" value={values.description} maxLength={500} onInput={(e) => update('description', e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoComplete="off" />
        )}
      </Field>

      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save' : 'Create pair'}
        </button>
        {onCancel ? (
          <button type="button" class="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
