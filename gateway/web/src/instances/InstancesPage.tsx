/** GitLab instances: add, list, edit in place (incl. token rotation) and delete. */
import { Fragment } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../api';
import type { Instance, InstanceInput } from '../api/types';
import { useData } from '../app/data';
import { useFocusParam } from '../app/focus';
import { PageHeader } from '../app/PageHeader';
import { EmptyState } from '../ui/EmptyState';
import { ListCard } from '../ui/ListCard';
import { useToast } from '../ui/toast';
import { createInstance, updateInstance } from './api';
import { DeleteInstanceDialog } from './DeleteInstanceDialog';
import { InstanceForm, TOKEN_MASK } from './InstanceForm';

function matches(instance: Instance, term: string): boolean {
  const t = term.trim().toLowerCase();
  if (!t) return true;
  return [instance.name, instance.url, instance.description].some((s) => s?.toLowerCase().includes(t));
}

function Version({ instance }: { instance: Instance }) {
  if (!instance.gitlab_version) return <span class="muted">Not verified yet</span>;
  const edition = instance.gitlab_edition ?? '';
  const short = /^e/i.test(edition) ? 'EE' : /^c/i.test(edition) ? 'CE' : edition;
  return (
    <span>
      {instance.gitlab_version} {short ? <span class="badge">{short}</span> : null}
    </span>
  );
}

export function InstancesPage({ params }: { params: URLSearchParams }) {
  const { instances, pairs, reloadInstances, reloadPairs } = useData();
  const notify = useToast();
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Instance | null>(null);
  const focusId = useFocusParam(params, 'instance');

  // The delete warning names the mirrors of each pair; their counts change on other pages.
  useEffect(() => {
    void reloadPairs();
  }, [reloadPairs]);

  useEffect(() => {
    if (params.get('new')) document.getElementById('instance-add-name')?.focus();
  }, [params]);

  const rows = useMemo(() => instances.items.filter((i) => matches(i, search)), [instances.items, search]);

  const add = async (input: InstanceInput) => {
    const created = await createInstance({ ...input, name: input.name.trim(), url: input.url.trim(), token: input.token.trim(), description: input.description.trim() });
    notify('success', `Instance “${created.name}” added.`);
    await reloadInstances();
  };

  const save = (instance: Instance) => async (_input: InstanceInput, changes: Partial<InstanceInput>) => {
    if (Object.keys(changes).length === 0) {
      setEditing(null);
      notify('info', 'Nothing changed.');
      return;
    }
    const updated = await updateInstance(instance.id, changes);
    setEditing(null);
    notify('success', changes.token ? `Instance “${updated.name}” saved; token rotated.` : `Instance “${updated.name}” saved.`);
    await reloadInstances();
    document.getElementById(`instance-edit-${instance.id}`)?.focus();
  };

  return (
    <>
      <PageHeader title="GitLab instances" description="The GitLab servers Mirror Maestro talks to. Tokens are stored encrypted and never displayed." />

      <section class="card" aria-labelledby="instance-add-heading">
        <h2 id="instance-add-heading" class="card-title">
          Add instance
        </h2>
        <InstanceForm idPrefix="instance-add" onSubmit={add} />
      </section>

      <ListCard
        id="instance"
        title="Instances"
        list={instances}
        shown={rows.length}
        onRetry={() => void reloadInstances()}
        search={search}
        onSearch={setSearch}
        searchLabel="Filter instances"
        searchPlaceholder="Filter by name, URL, description"
        empty={
          <EmptyState title="No instances yet" icon="server">
            <p>Add your first GitLab instance with the form above. You need at least two to create a pair.</p>
          </EmptyState>
        }
        noMatch={`No instance matches “${search}”.`}
      >
        <div class="table-wrap">
          <table class="table responsive-table" data-testid="instances-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">GitLab</th>
                <th scope="col">Token</th>
                <th scope="col">Pairs</th>
                <th scope="col">Description</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((instance) => (
                <Fragment key={instance.id}>
                  <tr id={`instance-row-${instance.id}`} class={focusId === instance.id ? 'row-highlight' : ''} data-testid="instance-row">
                    <th scope="row" data-label="Name">
                      {instance.name}
                    </th>
                    <td data-label="URL" class="cell-url">
                      <a href={instance.url} target="_blank" rel="noopener noreferrer">
                        {instance.url}
                      </a>
                    </td>
                    <td data-label="GitLab">
                      <Version instance={instance} />
                    </td>
                    <td data-label="Token">
                      {instance.token_set ? (
                        <span>
                          <span aria-label="Token stored">{TOKEN_MASK}</span>
                          {instance.token_username ? <span class="muted"> @{instance.token_username}</span> : null}
                        </span>
                      ) : (
                        <span class="badge badge-warning">Not set</span>
                      )}
                    </td>
                    <td data-label="Pairs">{instance.pair_count}</td>
                    <td data-label="Description" class="cell-description">
                      {instance.description || <span class="muted">—</span>}
                    </td>
                    <td data-label="Actions" class="cell-actions">
                      <div class="row-actions">
                        <button
                          type="button"
                          class="button button-small"
                          id={`instance-edit-${instance.id}`}
                          aria-expanded={editing === instance.id}
                          aria-controls={`instance-editor-${instance.id}`}
                          onClick={() => setEditing(editing === instance.id ? null : instance.id)}
                        >
                          Edit<span class="visually-hidden"> {instance.name}</span>
                        </button>
                        <button type="button" class="button button-small button-danger-outline" onClick={() => setDeleting(instance)}>
                          Delete<span class="visually-hidden"> {instance.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                  {editing === instance.id ? (
                    <tr class="editor-row" id={`instance-editor-${instance.id}`}>
                      <td colSpan={7}>
                        <h3 class="editor-title">Edit {instance.name}</h3>
                        <InstanceForm idPrefix={`instance-${instance.id}`} instance={instance} onSubmit={save(instance)} onCancel={() => setEditing(null)} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      </ListCard>

      <DeleteInstanceDialog
        instance={deleting}
        pairs={pairs.items}
        onClose={() => setDeleting(null)}
        onDeleted={async (message) => {
          setDeleting(null);
          notify('success', message);
          await Promise.all([reloadInstances(), reloadPairs()]);
        }}
        onError={(error) => notify('error', describeError(error))}
      />
    </>
  );
}
