/** Add and edit form of a GitLab instance. The token is write-only: never shown, only replaced. */
import { useState } from 'preact/hooks';
import { mapFieldErrors } from '../api';
import type { Instance, InstanceInput } from '../api/types';
import { Field, FormErrors } from '../ui/Field';
import { instanceChanges } from './api';

const FIELDS = ['name', 'url', 'token', 'description'] as const;

interface Props {
  /** The instance being edited; absent when adding. */
  instance?: Instance;
  onSubmit: (input: InstanceInput, changes: Partial<InstanceInput>) => Promise<void>;
  onCancel?: () => void;
  idPrefix: string;
}

export const TOKEN_MASK = '••••••••';

export function InstanceForm({ instance, onSubmit, onCancel, idPrefix }: Props) {
  const editing = Boolean(instance);
  const [values, setValues] = useState<InstanceInput>({
    name: instance?.name ?? '',
    url: instance?.url ?? '',
    token: '',
    description: instance?.description ?? '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const urlLocked =
    instance && instance.pair_count > 0
      ? `Locked while ${instance.pair_count} pair${instance.pair_count === 1 ? ' uses' : 's use'} this instance: its mirrors point at this URL.`
      : undefined;

  const set = (key: keyof InstanceInput) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    setValues((v) => ({ ...v, [key]: value }));
    if (errors[key]) setErrors((errs) => ({ ...errs, [key]: '' }));
  };

  const validate = (): Record<string, string> => {
    const found: Record<string, string> = {};
    if (!values.name.trim()) found.name = 'Enter a name.';
    if (!values.url.trim()) found.url = 'Enter the base URL, e.g. https://gitlab.example.com.';
    else if (!/^https?:\/\//i.test(values.url.trim())) found.url = 'Use an http:// or https:// URL.';
    if (!editing && !values.token.trim()) found.token = 'Paste an access token with the api scope.';
    return found;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const found = validate();
    setErrors(found);
    setGeneral([]);
    if (Object.keys(found).length) {
      const first = FIELDS.find((f) => found[f]);
      if (first) document.getElementById(`${idPrefix}-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const changes = instance ? instanceChanges(instance, values) : {};
      await onSubmit(values, changes);
      if (!editing) setValues({ name: '', url: '', token: '', description: '' });
      else setValues((v) => ({ ...v, token: '' }));
    } catch (error) {
      const mapped = mapFieldErrors(error, FIELDS);
      setErrors(mapped.byField);
      setGeneral(mapped.general);
      const first = FIELDS.find((f) => mapped.byField[f]);
      if (first) document.getElementById(`${idPrefix}-${first}`)?.focus();
    } finally {
      setBusy(false);
    }
  };

  const id = (f: string) => `${idPrefix}-${f}`;
  return (
    <form class="form" onSubmit={submit} noValidate aria-busy={busy} data-testid={editing ? 'instance-edit-form' : 'instance-add-form'}>
      <FormErrors messages={general} />
      <div class="form-grid">
        <Field id={id('name')} label="Name" error={errors.name} required>
          {(describedBy, invalid) => (
            <input id={id('name')} name="name" value={values.name} onInput={set('name')} maxLength={100} required aria-describedby={describedBy} aria-invalid={invalid || undefined} autoComplete="off" />
          )}
        </Field>
        <Field id={id('url')} label="URL" error={errors.url} required lockedReason={urlLocked}>
          {(describedBy, invalid) => (
            <input
              id={id('url')}
              name="url"
              type="url"
              inputMode="url"
              placeholder="https://gitlab.example.com"
              value={values.url}
              onInput={set('url')}
              readOnly={Boolean(urlLocked)}
              title={urlLocked}
              maxLength={500}
              required
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
              autoComplete="off"
            />
          )}
        </Field>
        <Field
          id={id('token')}
          label={editing ? 'New access token' : 'Access token'}
          error={errors.token}
          required={!editing}
          hint={editing ? 'Leave empty to keep the stored token. Paste a new one to rotate it.' : 'Needs the api scope. It is stored encrypted and never shown again.'}
        >
          {(describedBy, invalid) => (
            <input
              id={id('token')}
              name="token"
              type="password"
              placeholder={editing && instance?.token_set ? `${TOKEN_MASK} (stored)` : 'glpat-…'}
              value={values.token}
              onInput={set('token')}
              autoComplete="new-password"
              spellcheck={false}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
            />
          )}
        </Field>
        <Field id={id('description')} label="Description" error={errors.description}>
          {(describedBy, invalid) => (
            <input id={id('description')} name="description" value={values.description} onInput={set('description')} maxLength={500} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoComplete="off" />
          )}
        </Field>
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save' : 'Add instance'}
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
