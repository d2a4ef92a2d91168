/** The operator manual: setup, tokens, pairs, shortcuts, troubleshooting. */
import type { ComponentChildren } from 'preact';
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';

const SECTIONS = [
  ['help-start', 'Getting started'],
  ['help-tokens', 'Access tokens and permissions'],
  ['help-pairs', 'Pairs: push or pull'],
  ['help-delete', 'Editing and deleting'],
  ['help-keys', 'Keyboard'],
  ['help-trouble', 'Troubleshooting'],
] as const;

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="card help-section" aria-labelledby={`${id}-h`} id={id}>
      <h2 id={`${id}-h`} tabIndex={-1}>
        {title}
      </h2>
      {children}
    </section>
  );
}

function jump(id: string) {
  const heading = document.getElementById(`${id}-h`);
  heading?.scrollIntoView({ block: 'start' });
  heading?.focus({ preventScroll: true });
}

export function HelpPage() {
  return (
    <>
      <PageHeader title="Help" description="How to set up Mirror Maestro and what to do when something goes wrong." />
      <nav class="card help-toc" aria-label="Help topics">
        <ul>
          {SECTIONS.map(([id, title]) => (
            <li key={id}>
              <button type="button" class="link-button" onClick={() => jump(id)}>
                {title}
              </button>
            </li>
          ))}
        </ul>
      </nav>

      <Section id="help-start" title="Getting started">
        <ol>
          <li>
            <strong>Register your GitLab servers.</strong> On <a href={href('/instances')}>Instances</a>, add each server with a name, its base URL (for example <code>https://gitlab.example.com</code>) and an access token.
          </li>
          <li>
            <strong>Connect them in pairs.</strong> On <a href={href('/pairs')}>Pairs</a>, pick a source and a target instance, the mirror direction and the default settings new mirrors should use.
          </li>
          <li>
            <strong>Add mirrors.</strong> Mirror management (choosing projects, syncing, following jobs) comes in a later release; the Mirrors and Jobs pages will fill in then.
          </li>
        </ol>
        <p>
          Press <kbd>Ctrl</kbd>+<kbd>K</kbd> (<kbd>⌘</kbd>+<kbd>K</kbd> on a Mac) at any time to jump to an instance, a pair or a page.
        </p>
      </Section>

      <Section id="help-tokens" title="Access tokens and permissions">
        <p>Mirror Maestro acts on GitLab with the token you give each instance. Use a personal, group or service-account token that:</p>
        <ul>
          <li>
            has the <code>api</code> scope — read-only scopes are not enough, because mirrors and their project tokens are created through the API;
          </li>
          <li>
            belongs to a user who is at least <strong>Maintainer</strong> (or Owner) of every project you want to mirror, on both sides. An instance administrator's token works everywhere;
          </li>
          <li>has an expiry date far enough away, or a reminder for you to rotate it.</li>
        </ul>
        <p>
          Tokens are stored encrypted and are <strong>never shown again</strong>: the console only displays <code>••••••••</code> and the GitLab user the token belongs to.
        </p>
        <h3>Rotating a token</h3>
        <p>
          Create the new token in GitLab, then on Instances click <em>Edit</em>, paste it into <em>New access token</em> and save. Leaving the field empty keeps the stored token. Revoke the old token in GitLab afterwards.
        </p>
      </Section>

      <Section id="help-pairs" title="Pairs: push or pull">
        <dl class="definitions">
          <dt>Push</dt>
          <dd>The source project pushes its changes to the target. The mirror is configured on the source project. Available on every GitLab tier.</dd>
          <dt>Pull</dt>
          <dd>The target project fetches from the source on a schedule. The mirror is configured on the target project and needs GitLab Premium or Ultimate on the target. Only pull mirrors can trigger pipelines when they update.</dd>
        </dl>
        <p>
          A pair's settings are <em>defaults</em>: each mirror starts with them and may override them. <em>Only mirror protected branches</em> and a <em>branch filter</em> exclude each other — GitLab applies one or the other.
        </p>
        <p>
          Creating pairs in both directions (A → B and B → A) is allowed, and the console warns you: changes made on both sides will overwrite each other. Keep one side as the source of truth.
        </p>
      </Section>

      <Section id="help-delete" title="Editing and deleting">
        <ul>
          <li>Once a pair has mirrors, its source, target and direction are locked: changing them would leave the existing mirrors pointing at the wrong place. The locked fields explain why when you hover or focus them.</li>
          <li>An instance's URL is locked while pairs use it.</li>
          <li>
            Deleting an instance also deletes the pairs that use it (and their mirrors). The confirmation names every pair that goes with it. Deleting a pair deletes its mirrors.
          </li>
        </ul>
      </Section>

      <Section id="help-keys" title="Keyboard">
        <table class="table">
          <tbody>
            <tr>
              <th scope="row">
                <kbd>Ctrl</kbd>/<kbd>⌘</kbd> + <kbd>K</kbd>
              </th>
              <td>Open the “Go to…” palette</td>
            </tr>
            <tr>
              <th scope="row">
                <kbd>↑</kbd> <kbd>↓</kbd> <kbd>Enter</kbd>
              </th>
              <td>Choose and open a palette result</td>
            </tr>
            <tr>
              <th scope="row">
                <kbd>Esc</kbd>
              </th>
              <td>Close the palette or a dialog</td>
            </tr>
            <tr>
              <th scope="row">
                <kbd>Tab</kbd>
              </th>
              <td>The first Tab on a page offers “Skip to content”</td>
            </tr>
          </tbody>
        </table>
      </Section>

      <Section id="help-trouble" title="Troubleshooting">
        <dl class="definitions">
          <dt>“The URL is not allowed” when adding an instance</dt>
          <dd>
            The server refuses private, loopback and link-local addresses by default, to keep the API from being used to reach internal services. If your GitLab really lives on a private network, the administrator can allow it with <code>MM_ALLOW_PRIVATE_IPS=true</code>.
          </dd>
          <dt>The GitLab version shows “Not verified yet”</dt>
          <dd>The server has not reached GitLab with this token yet. Check that the URL is reachable from the Mirror Maestro server (not just from your browser) and that the token is valid and not expired.</dd>
          <dt>401 or 403 errors from GitLab</dt>
          <dd>
            401 means the token is wrong, revoked or expired: rotate it. 403 means the token's user lacks rights on a project, or the token lacks the <code>api</code> scope.
          </dd>
          <dt>I was sent back to the sign-in page</dt>
          <dd>Your session expired or the server restarted with new keys. The console warns five minutes before the end of a session. Sign in again; nothing you saved is lost.</dd>
          <dt>“Cannot reach the server”</dt>
          <dd>
            The console could not talk to Mirror Maestro. Check the server is running; its quick health check is at <a href="/api/health/quick">/api/health/quick</a>.
          </dd>
          <dt>Changes to a pair are refused</dt>
          <dd>Source, target and direction cannot change while the pair has mirrors. Delete or move the mirrors first, or create a new pair.</dd>
        </dl>
      </Section>
    </>
  );
}
