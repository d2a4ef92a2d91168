/** Pages whose features are not available yet, and the not-found page. */
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { EmptyState } from '../ui/EmptyState';
import type { IconName } from '../ui/icons';

type Kind = 'backup' | 'settings' | 'users';

const COPY: Record<Kind, { title: string; heading: string; icon: IconName; body: string; items: string[] }> = {
  backup: {
    title: 'Backup',
    heading: 'Backup and restore are not available yet',
    icon: 'archive',
    body: 'This page will create and restore backups of the configuration.',
    items: [],
  },
  settings: {
    title: 'Settings',
    heading: 'Settings are not available yet',
    icon: 'gear',
    body: 'This page will hold the console and server settings.',
    items: [],
  },
  users: {
    title: 'Users',
    heading: 'User management is not available yet',
    icon: 'users',
    body: 'This page will let administrators add users and manage their roles.',
    items: [],
  },
};

export function ComingSoonPage({ kind, admin }: { kind: Kind; admin?: boolean }) {
  const copy = COPY[kind];
  return (
    <>
      <PageHeader title={copy.title} />
      <section class="card">
        <EmptyState title={copy.heading} icon={copy.icon}>
          <p>{copy.body}</p>
          {copy.items.length ? (
            <>
              <p>What to expect:</p>
              <ul class="expect-list">
                {copy.items.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            </>
          ) : null}
          {admin === false ? <p class="muted">Only administrators will see this page.</p> : null}
        </EmptyState>
      </section>
    </>
  );
}

export function NotFoundPage({ path }: { path: string }) {
  return (
    <>
      <PageHeader title="Page not found" />
      <section class="card">
        <p>
          There is no page at <code>{path}</code>. <a href={href('/')}>Go to the dashboard</a>.
        </p>
      </section>
    </>
  );
}
