/** Product information from `/api/about`, plus the console's own version. */
import { useEffect, useState } from 'preact/hooks';
import { api, describeError } from '../api';
import type { About } from '../api/types';
import { PageHeader } from '../app/PageHeader';
import { LoadError } from '../ui/EmptyState';

function safeLink(url: string | undefined): string | null {
  return url && /^(https?:\/\/|\/)/i.test(url) ? url : null;
}

export function AboutPage() {
  const [about, setAbout] = useState<About | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    setError(null);
    api
      .get<About>('/about')
      .then(setAbout)
      .catch((e: unknown) => setError(describeError(e)));
  };
  useEffect(load, []);

  const repo = safeLink(about?.repository);
  const docs = safeLink(about?.documentation);
  return (
    <>
      <PageHeader title="About" />
      <section class="card about">
        {error ? <LoadError message={error} onRetry={load} /> : null}
        <h2 class="about-name">{about?.name ?? 'Mirror Maestro'}</h2>
        <p>{about?.description || 'Orchestrates GitLab repository mirrors across pairs of GitLab instances.'}</p>
        <dl class="facts">
          <dt>Server version</dt>
          <dd data-testid="server-version">{about ? about.version : error ? 'unknown' : 'loading…'}</dd>
          <dt>Console version</dt>
          <dd>{__UI_VERSION__}</dd>
          <dt>License</dt>
          <dd>{about?.license ?? '—'}</dd>
        </dl>
        <h3>Links</h3>
        <ul>
          {repo ? (
            <li>
              <a href={repo} target="_blank" rel="noopener noreferrer">
                Source repository
              </a>
            </li>
          ) : null}
          {docs ? (
            <li>
              <a href={docs} target="_blank" rel="noopener noreferrer">
                Documentation
              </a>
            </li>
          ) : null}
          <li>
            <a href="/api/docs/">REST API reference (Swagger UI)</a>
          </li>
          <li>
            <a href="/api/openapi.json">OpenAPI document</a>
          </li>
        </ul>
        <h3>Built with</h3>
        <p>A Rust back end (gRPC services behind a REST gateway) and a TypeScript console using Preact, Chart.js and D3 — all served by the product itself, with nothing fetched from the internet.</p>
      </section>
    </>
  );
}
