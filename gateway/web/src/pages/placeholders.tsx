/** Pages whose features are not available yet, and the not-found page. */
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { EmptyState } from '../ui/EmptyState';
import type { IconName } from '../ui/icons';

type Kind = 'mirrors' | 'jobs' | 'backup' | 'settings' | 'users';

const COPY: Record<Kind, { title: string; heading: string; icon: IconName; body: string; items: string[] }> = {
  mirrors: {
    title: 'Mirrors',
    heading: 'Coming with mirror management',
    icon: 'mirror',
    body: 'Mirrors are the project-to-project links inside a pair. Once mirror management is available, this page will list them with their sync status.',
    items: ['create mirrors by picking source and target projects', 'sync now, per mirror or a whole pair', 'list and tree views of nested groups, filters and sorting', 'token status and verification of each mirror'],
  },
  jobs: {
    title: 'Jobs',
    heading: 'Coming with mirror management',
    icon: 'clock',
    body: 'Long-running work — batch syncs, imports, deletions with GitLab clean-up — will run as jobs you can follow here.',
    items: ['progress and results of each job', 'errors per mirror, with retry', 'history of finished jobs'],
  },
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
          {kind === 'mirrors' || kind === 'jobs' ? (
            <p>
              Meanwhile, set up <a href={href('/instances')}>instances</a> and <a href={href('/pairs')}>pairs</a>: mirrors will be created inside them.
            </p>
          ) : null}
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
