import { describe, expect, it } from 'vitest';
import { formatEstimate, parseImportFile, summarizePlan } from './importFile';

describe('import file', () => {
  it('reads the previous product’s export and drops keys the import does not take', () => {
    const text = JSON.stringify({
      metadata: { pair_name: 'prod-to-dr', total_mirrors: 1 },
      mirrors: [{ source_project_path: 'a/b', target_project_path: 'c/d', issue_sync_enabled: true, mirror_overwrite_diverged: null, enabled: false, mirror_branch_regex: '^main$' }],
    });
    const parsed = parseImportFile(text);
    expect(parsed).toEqual({
      ok: true,
      pairName: 'prod-to-dr',
      file: {
        metadata: { pair_name: 'prod-to-dr', total_mirrors: 1 },
        mirrors: [{ source_project_path: 'a/b', target_project_path: 'c/d', enabled: false, mirror_branch_regex: '^main$' }],
      },
    });
  });

  it('names the problem of a bad file', () => {
    expect(parseImportFile('{')).toEqual({ ok: false, error: 'The file is not valid JSON.' });
    expect(parseImportFile('[]')).toMatchObject({ ok: false, error: expect.stringContaining('“mirrors”') });
    expect(parseImportFile('{"mirrors": []}')).toMatchObject({ ok: false, error: 'The file contains no mirrors.' });
    expect(parseImportFile('{"mirrors": [{"source_project_path": "a/b"}]}')).toMatchObject({ ok: false, error: 'Entry 1: target_project_path is missing.' });
    expect(parseImportFile('{"mirrors": [{"source_project_path": "a/b", "target_project_path": "c/d", "enabled": "yes"}]}')).toMatchObject({
      ok: false,
      error: 'Entry 1: enabled must be true, false or null.',
    });
    const many = JSON.stringify({ mirrors: Array.from({ length: 10_001 }, () => ({ source_project_path: 'a/b', target_project_path: 'c/d' })) });
    expect(parseImportFile(many)).toMatchObject({ ok: false, error: expect.stringContaining('10001') });
  });
});

describe('dry-run summary', () => {
  const plan = [
    { source_project_path: 'a/1', target_project_path: 'b/1', action: 'create', reason: null },
    { source_project_path: 'a/2', target_project_path: 'b/2', action: 'skip', reason: 'already exists in the pair' },
    { source_project_path: 'a/3', target_project_path: 'b/3', action: 'skip', reason: 'duplicate in the file' },
    { source_project_path: 'a/4', target_project_path: 'b/4', action: 'skip', reason: 'already exists in the pair' },
    { source_project_path: 'a/5', target_project_path: 'b/5', action: 'skip', reason: null },
  ];

  it('counts creates and groups skips by reason, most frequent first', () => {
    const summary = summarizePlan({ plan, create_count: 1, skip_count: 4, gitlab_calls: 6, estimated_seconds: 3.4 });
    expect(summary).toEqual({
      creates: 1,
      skips: 4,
      skipReasons: [
        { reason: 'already exists in the pair', count: 2 },
        { reason: 'duplicate in the file', count: 1 },
        { reason: 'no reason given', count: 1 },
      ],
      gitlabCalls: 6,
      estimate: 'about 3 s',
      actionable: true,
    });
  });

  it('falls back to the totals without a plan and is not actionable with nothing to create', () => {
    const summary = summarizePlan({ plan: [], create_count: 0, skip_count: 3, gitlab_calls: 0, estimated_seconds: 0 });
    expect(summary).toMatchObject({ creates: 0, skips: 3, actionable: false, estimate: 'under a second' });
  });

  it('formats estimates', () => {
    expect(formatEstimate(Number.NaN)).toBe('under a second');
    expect(formatEstimate(0.4)).toBe('under a second');
    expect(formatEstimate(89)).toBe('about 89 s');
    expect(formatEstimate(150)).toBe('about 3 min');
    expect(formatEstimate(3600)).toBe('about 1 h');
    expect(formatEstimate(3900)).toBe('about 1 h 5 min');
  });
});
