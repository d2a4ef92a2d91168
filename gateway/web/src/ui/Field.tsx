/** Labelled form controls with hint and error text wired through aria-describedby. */
import type { ComponentChildren, JSX } from 'preact';
import { Icon } from './icons';

interface FieldProps {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  /** Why the control is locked; shown under it and as its tooltip. */
  lockedReason?: string | undefined;
  required?: boolean;
  children: (describedBy: string | undefined, invalid: boolean) => JSX.Element;
}

export function Field({ id, label, error, hint, lockedReason, required, children }: FieldProps) {
  const ids = [lockedReason ? `${id}-locked` : '', hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return (
    <div class={`field${error ? ' field-invalid' : ''}${lockedReason ? ' field-locked' : ''}`} title={lockedReason}>
      <label for={id}>
        {label}
        {required ? (
          <span class="required" aria-hidden="true">
            {' '}
            *
          </span>
        ) : null}
      </label>
      {children(ids.length ? ids.join(' ') : undefined, Boolean(error))}
      {lockedReason ? (
        <p id={`${id}-locked`} class="field-locked-reason">
          <Icon name="lock" size={14} /> {lockedReason}
        </p>
      ) : null}
      {hint ? (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="field-error" data-field-error={id}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface CheckboxProps {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: string;
  error?: string | undefined;
  disabledReason?: string | undefined;
}

export function Checkbox({ id, label, checked, onChange, hint, error, disabledReason }: CheckboxProps) {
  const ids = [disabledReason ? `${id}-locked` : '', hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return (
    <div class={`checkbox-field${disabledReason ? ' field-locked' : ''}`} title={disabledReason}>
      <input
        type="checkbox"
        id={id}
        name={id}
        checked={checked}
        disabled={Boolean(disabledReason)}
        aria-describedby={ids.length ? ids.join(' ') : undefined}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.currentTarget.checked)}
      />
      <div>
        <label for={id}>{label}</label>
        {hint ? (
          <p id={`${id}-hint`} class="field-hint">
            {hint}
          </p>
        ) : null}
        {disabledReason ? (
          <p id={`${id}-locked`} class="field-locked-reason">
            {disabledReason}
          </p>
        ) : null}
        {error ? (
          <p id={`${id}-error`} class="field-error">
            {error}
          </p>
        ) : null}
      </div>
    </div>
  );
}

export function FormErrors({ messages }: { messages: string[] }) {
  if (!messages.length) return null;
  return (
    <div class="form-errors" role="alert">
      {messages.length === 1 ? (
        <p>{messages[0]}</p>
      ) : (
        <ul>
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
