/**
 * Import of an export file into the selected pair: read the file, show the server's dry-run
 * plan (creates, skips with reasons, GitLab calls, estimated time), then import and follow
 * the job to the end.
 */
import { useState } from 'preact/hooks';
import { describeError } from '../api';
import type { Pair } from '../api/types';
import { JobProgress } from '../jobs/JobProgress';
import type { Job } from '../jobs/types';
import { Dialog } from '../ui/Dialog';
import { FormErrors } from '../ui/Field';
import { plural } from '../util/format';
import { importPair } from './api';
import { parseImportFile, summarizePlan, type ImportFile } from './importFile';
import type { ImportResult } from './types';

/** How many plan rows the preview lists; the rest are counted. */
const PREVIEW_ROWS = 100;

interface Props {
  open: boolean;
  pair: Pair;
  onClose: () => void;
  onImported: () => void;
}

type Step =
  | { kind: 'choose' }
  | { kind: 'planning' }
  | { kind: 'preview'; file: ImportFile; fileFor: string | null; plan: ImportResult }
  | { kind: 'importing'; plan: ImportResult }
  | { kind: 'started'; plan: ImportResult; job: Job | null };

export function ImportDialog({ open, pair, onClose, onImported }: Props) {
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const [errors, setErrors] = useState<string[]>([]);

  const close = () => {
    setStep({ kind: 'choose' });
    setErrors([]);
    onClose();
  };

  const choose = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    setErrors([]);
    const parsed = parseImportFile(await file.text());
    if (!parsed.ok) {
      setErrors([parsed.error]);
      input.value = '';
      return;
    }
    setStep({ kind: 'planning' });
    try {
      const plan = await importPair(pair.id, parsed.file, true);
      setStep({ kind: 'preview', file: parsed.file, fileFor: parsed.pairName, plan });
    } catch (error) {
      setErrors([describeError(error)]);
      setStep({ kind: 'choose' });
    }
  };

  const start = async (file: ImportFile, plan: ImportResult) => {
    setStep({ kind: 'importing', plan });
    try {
      const result = await importPair(pair.id, file, false);
      setStep({ kind: 'started', plan: result, job: result.job });
      if (!result.job) onImported();
    } catch (error) {
      setErrors([describeError(error)]);
      setStep({ kind: 'preview', file, fileFor: null, plan });
    }
  };

  const plan = step.kind === 'preview' || step.kind === 'importing' || step.kind === 'started' ? step.plan : null;
  const summary = plan ? summarizePlan(plan) : null;
  return (
    <Dialog open={open} title={`Import mirrors into “${pair.name}”`} onClose={close} class="dialog-wide">
      <div class="dialog-content" data-testid="import-dialog">
        <FormErrors messages={errors} />
        {step.kind === 'choose' || step.kind === 'planning' ? (
          <div class="field">
            <label for="import-file">Export file (JSON)</label>
            <input id="import-file" type="file" accept="application/json,.json" disabled={step.kind === 'planning'} aria-describedby="import-file-hint" onChange={(e) => void choose(e.currentTarget)} />
            <p id="import-file-hint" class="field-hint">
              A file from Export, of this product or the previous one. Nothing is created until you confirm the preview.
            </p>
            {step.kind === 'planning' ? (
              <p class="muted" aria-busy="true">
                Checking the file against the pair…
              </p>
            ) : null}
          </div>
        ) : null}

        {summary && plan ? (
          <section aria-labelledby="import-plan-heading" data-testid="import-preview">
            <h3 id="import-plan-heading">{step.kind === 'started' ? 'Import' : 'Preview (dry run)'}</h3>
            {step.kind === 'preview' && step.fileFor && step.fileFor !== pair.name ? (
              <p class="notice small">
                The file was exported from pair “{step.fileFor}”.
              </p>
            ) : null}
            <dl class="plan-summary">
              <div>
                <dt>To create</dt>
                <dd data-testid="plan-creates">{summary.creates}</dd>
              </div>
              <div>
                <dt>To skip</dt>
                <dd data-testid="plan-skips">{summary.skips}</dd>
              </div>
              <div>
                <dt>GitLab calls</dt>
                <dd data-testid="plan-calls">{summary.gitlabCalls}</dd>
              </div>
              <div>
                <dt>Estimated time</dt>
                <dd data-testid="plan-estimate">{summary.estimate}</dd>
              </div>
            </dl>
            {summary.skipReasons.length ? (
              <>
                <h4>Skipped</h4>
                <ul class="plan-reasons">
                  {summary.skipReasons.map((r) => (
                    <li key={r.reason}>
                      {plural(r.count, 'entry', 'entries')}: {r.reason}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            <details class="plan-details">
              <summary>All {plural(plan.plan.length, 'entry', 'entries')}</summary>
              <div class="table-wrap plan-table">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Source → target</th>
                      <th scope="col">Action</th>
                    </tr>
                  </thead>
                  <tbody>
                    {plan.plan.slice(0, PREVIEW_ROWS).map((entry, index) => (
                      <tr key={index} data-testid="plan-row" data-action={entry.action}>
                        <td class="cell-wrap mono small">
                          {entry.source_project_path} → {entry.target_project_path}
                        </td>
                        <td>
                          {entry.action === 'create' ? <span class="badge badge-tone-success">Create</span> : <span class="badge">Skip</span>}
                          {entry.reason ? <div class="small muted">{entry.reason}</div> : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {plan.plan.length > PREVIEW_ROWS ? <p class="small muted">and {plan.plan.length - PREVIEW_ROWS} more.</p> : null}
              </div>
            </details>
          </section>
        ) : null}

        {step.kind === 'started' ? (
          step.job ? (
            <JobProgress jobId={step.job.id} initial={step.job} label={`Importing ${plural(summarizePlan(step.plan).creates, 'mirror')}`} onFinished={onImported} />
          ) : (
            <p class="notice">Nothing to create: every entry already exists or was skipped.</p>
          )
        ) : null}
      </div>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={close}>
          {step.kind === 'started' ? 'Close' : 'Cancel'}
        </button>
        {step.kind === 'preview' || step.kind === 'importing' ? (
          <button
            type="button"
            class="button button-primary"
            data-testid="import-confirm"
            disabled={step.kind === 'importing' || !summary?.actionable}
            onClick={() => step.kind === 'preview' && void start(step.file, step.plan)}
          >
            {step.kind === 'importing' ? 'Importing…' : summary?.actionable ? `Import ${plural(summary.creates, 'mirror')}` : 'Nothing to import'}
          </button>
        ) : null}
      </div>
    </Dialog>
  );
}
