import { describe, expect, it } from 'vitest';
import { ApiError, describeError, errorFromBody, mapFieldErrors, normalizeField } from './errors';

const FIELDS = ['name', 'url', 'token', 'description'];

function apiError(message: string, fieldViolations: { field: string; description: string }[] = [], status = 400) {
  return new ApiError({ status, code: 'INVALID_ARGUMENT', message, fieldViolations });
}

describe('normalizeField', () => {
  it('strips request prefixes and pointer syntax', () => {
    expect(normalizeField('body.name')).toBe('name');
    expect(normalizeField('/url')).toBe('url');
    expect(normalizeField('$.token')).toBe('token');
    expect(normalizeField(' mirror_branch_regex ')).toBe('mirror_branch_regex');
    expect(normalizeField('items[0]')).toBe('items');
  });
});

describe('mapFieldErrors', () => {
  it('puts each violation next to its field', () => {
    const mapped = mapFieldErrors(apiError('bad', [{ field: 'name', description: 'must not be empty' }, { field: 'url', description: 'private address' }]), FIELDS);
    expect(mapped.byField).toEqual({ name: 'must not be empty', url: 'private address' });
    expect(mapped.general).toEqual([]);
  });

  it('joins several violations of one field', () => {
    const mapped = mapFieldErrors(apiError('bad', [{ field: 'name', description: 'too long' }, { field: 'name', description: 'bad characters' }]), FIELDS);
    expect(mapped.byField.name).toBe('too long; bad characters');
  });

  it('maps nested paths by their last segment', () => {
    expect(mapFieldErrors(apiError('x', [{ field: 'instance.url', description: 'bad' }]), FIELDS).byField).toEqual({ url: 'bad' });
  });

  it('keeps violations of unknown fields as general messages', () => {
    const mapped = mapFieldErrors(apiError('x', [{ field: 'per_page', description: 'too big' }, { field: '', description: 'whole body' }]), FIELDS);
    expect(mapped.byField).toEqual({});
    expect(mapped.general).toEqual(['per_page: too big', 'whole body']);
  });

  it('attaches a "field: text" message to a known field when there are no violations', () => {
    expect(mapFieldErrors(apiError('url: must use http or https'), FIELDS)).toEqual({ byField: { url: 'must use http or https' }, general: [] });
  });

  it('keeps other messages general', () => {
    expect(mapFieldErrors(apiError('instance is in use', [], 409), FIELDS)).toEqual({ byField: {}, general: ['instance is in use'] });
    expect(mapFieldErrors(apiError('pair_count: whatever'), FIELDS).general).toEqual(['pair_count: whatever']);
  });

  it('handles errors that are not ApiErrors', () => {
    expect(mapFieldErrors(new Error('boom'), FIELDS)).toEqual({ byField: {}, general: ['boom'] });
    expect(mapFieldErrors('odd', FIELDS).general).toEqual(['odd']);
  });
});

describe('errorFromBody', () => {
  it('falls back to a status message for empty bodies', () => {
    expect(errorFromBody(401, 'Unauthorized', null)).toMatchObject({ code: 'UNAUTHENTICATED', message: 'Your session has expired. Please sign in again.' });
    expect(errorFromBody(404, '', '')).toMatchObject({ code: 'NOT_FOUND', message: 'Not found.' });
    expect(errorFromBody(418, "I'm a teapot", undefined)).toMatchObject({ code: 'UNKNOWN', message: "I'm a teapot" });
  });

  it('prefers message, then detail, then error', () => {
    expect(errorFromBody(400, '', { detail: 'old style' }).message).toBe('old style');
    expect(errorFromBody(403, '', { error: 'insufficient_scope', error_description: 'needs api' }).message).toBe('needs api');
  });
});

describe('describeError', () => {
  it('adds the request id to server errors only', () => {
    expect(describeError(new ApiError({ status: 500, code: 'INTERNAL', message: 'oops', requestId: 'r1' }))).toBe('oops (request r1)');
    expect(describeError(new ApiError({ status: 400, code: 'INVALID_ARGUMENT', message: 'bad', requestId: 'r2' }))).toBe('bad');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
