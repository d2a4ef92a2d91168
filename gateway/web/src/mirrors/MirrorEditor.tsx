/**
 * Inline edit of a mirror's safe fields. Direction and projects are shown locked with the
 * reason; each overridden setting has "Revert to inherit".
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { mapFieldErrors } from '../api';
import type { Pair } from '../api/types';
import { Checkbox, Field, FormErrors } from '../ui/Field';
import { type MirrorChanges, type Mirror } from './types';
import { editValues, FLAG_SETTINGS, inheritLabel, mirrorChanges, settingLockReason, type EditValues, type Tri } from './settings';

const FIELDS = ['enabled', 'mirror_overwrite_diverged', 'only_mirror_protected_branches', 'mirror_trigger_builds', 'mirror_branch_regex'];

export const PROJECT_LOCK = 'Locked: a mirror’s projects cannot change. Delete it and create a new one.';
export const DIRECTION_LOCK = 'Locked: the direction comes from the pair and applies to all its mirrors.';

interface Props {
  mirror: Mirror;
  pair: Pair | undefined;
  onSave: (changes: MirrorChanges) => Promise<void>;
  onCancel: () => void;
}

export function MirrorEditor({ mirror, pair, onSave, onCancel }: Props) {
  const [values, setValues] = useState<EditValues>(() => editValues(mirror));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const id = (f: string) => `mirror-${mirror.id}-${f}`;
  const direction = pair?.mirror_direction ?? 'pull';
  const form = useRef<HTMLFormElement>(null);

  // Opened from the row's menu: start on the first field that can change.
  useEffect(() => {
    const frame = requestAnimationFrame(() => form.current?.querySelector<HTMLElement>('select:not(:disabled), input:not(:disabled)')?.focus());
    return () => cancelAnimationFrame(frame);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral([]);
    try {
      await onSave(mirrorChanges(mirror, values));
    } catch (error) {
      const mapped = mapFieldErrors(error, FIELDS);
      setErrors(mapped.byField);
      setGeneral(mapped.general);
    } finally {
      setBusy(false);
    }
  };

  const revert = (key: keyof EditValues) => {
    setValues((v) => ({ ...v, [key]: key === 'mirror_branch_regex' ? null : 'inherit' }));
    requestAnimationFrame(() => document.getElementById(id(key))?.focus());
  };

  return (
    <form ref={form} onSubmit={(e) => void submit(e)} noValidate data-testid="mirror-edit-form" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <FormErrors messages={general} />
      <div class="form-grid">
        <Field id={id('source')} label="Source project" lockedReason={PROJECT_LOCK}>
          {(describedBy) => <input id={id('source')} type="text" class="mono" value={mirror.source_project_path} disabled aria-describedby={describedBy} />}
        </Field>
        <Field id={id('target')} label="Target project" lockedReason={PROJECT_LOCK}>
          {(describedBy) => <input id={id('target')} type="text" class="mono" value={mirror.target_project_path} disabled aria-describedby={describedBy} />}
        </Field>
        <Field id={id('direction')} label="Direction" lockedReason={DIRECTION_LOCK}>
          {(describedBy) => <input id={id('direction')} type="text" value={direction === 'push' ? 'Push' : 'Pull'} disabled aria-describedby={describedBy} />}
        </Field>
      </div>
      <div class="form-grid">
        {FLAG_SETTINGS.map(({ key, label }) => {
          const lock = settingLockReason(key, direction);
          const overridden = values[key] !== 'inherit';
          return (
            <Field key={key} id={id(key)} label={label} lockedReason={lock} error={errors[key]}>
              {(describedBy) => (
                <div class="inherit-row">
                  <select id={id(key)} name={key} value={values[key]} disabled={Boolean(lock)} aria-describedby={describedBy} onChange={(e) => setValues((v) => ({ ...v, [key]: e.currentTarget.value as Tri }))}>
                    <option value="inherit">{inheritLabel(pair, key)}</option>
                    <option value="yes">Yes</option>
                    <option value="no">No</option>
                  </select>
                  {overridden && !lock ? (
                    <button type="button" class="button button-small" data-revert={key} onClick={() => revert(key)}>
                      Revert to inherit<span class="visually-hidden"> for {label}</span>
                    </button>
                  ) : null}
                </div>
              )}
            </Field>
          );
        })}
        <Field
          id={id('mirror_branch_regex')}
          label="Branch filter (regex)"
          error={errors.mirror_branch_regex}
          hint={values.mirror_branch_regex === null ? `Inherited from the pair: ${pair?.mirror_branch_regex ? `/${pair.mirror_branch_regex}/` : 'all branches'}.` : 'Overrides the pair.'}
        >
          {(describedBy, invalid) => (
            <div class="inherit-row">
              <input
                id={id('mirror_branch_regex')}
                name="mirror_branch_regex"
                type="text"
                class="mono"
                value={values.mirror_branch_regex ?? ''}
                placeholder={pair?.mirror_branch_regex ?? 'all branches'}
                aria-describedby={describedBy}
                aria-invalid={invalid || undefined}
                onInput={(e) => setValues((v) => ({ ...v, mirror_branch_regex: e.currentTarget.value }))}
              />
              {values.mirror_branch_regex !== null ? (
                <button type="button" class="button button-small" data-revert="mirror_branch_regex" onClick={() => revert('mirror_branch_regex')}>
                  Revert to inherit<span class="visually-hidden"> for the branch filter</span>
                </button>
              ) : null}
            </div>
          )}
        </Field>
      </div>
      <Checkbox id={id('enabled')} label="Enabled" checked={values.enabled} onChange={(checked) => setValues((v) => ({ ...v, enabled: checked }))} error={errors.enabled} />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
