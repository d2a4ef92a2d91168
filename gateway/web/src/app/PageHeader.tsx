import type { ComponentChildren } from 'preact';

/** The page title receives focus after navigation so screen readers announce the new page. */
export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {description ? <p class="page-description">{description}</p> : null}
      </div>
      {actions ? <div class="page-actions">{actions}</div> : null}
    </header>
  );
}
