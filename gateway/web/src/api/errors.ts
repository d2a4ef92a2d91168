/** Errors of the REST API and their mapping onto form fields. */

export interface FieldViolation {
  field: string;
  description: string;
}

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  detail?: string;
  fieldViolations?: FieldViolation[];
  requestId?: string;
}

/** A failed API call: HTTP status 0 means the server could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fieldViolations: FieldViolation[];
  readonly requestId: string;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail ?? init.message;
    this.fieldViolations = init.fieldViolations ?? [];
    this.requestId = init.requestId ?? '';
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Reads `field_violations`, or a list-shaped `detail` (`[{loc, msg}]`) of older servers. */
function readViolations(body: Record<string, unknown>): FieldViolation[] {
  const out: FieldViolation[] = [];
  const list = Array.isArray(body.field_violations)
    ? body.field_violations
    : Array.isArray(body.detail)
      ? body.detail
      : [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    let field = asString(item.field);
    if (!field && Array.isArray(item.loc)) {
      field = item.loc.filter((p) => p !== 'body' && p !== 'query').join('.');
    }
    const description = asString(item.description) ?? asString(item.msg) ?? asString(item.message);
    if (description) out.push({ field: field ?? '', description });
  }
  return out;
}

function statusFallback(status: number, statusText: string): string {
  if (status === 401) return 'Your session has expired. Please sign in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return `The server had a problem (${status}${statusText ? ` ${statusText}` : ''}).`;
  return statusText || `Request failed (${status}).`;
}

/** Builds an ApiError from a status and a (possibly non-JSON or empty) response body. */
export function errorFromBody(
  status: number,
  statusText: string,
  body: unknown,
  requestIdHeader?: string | null,
): ApiError {
  const fallbackCode = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'UNKNOWN');
  if (!isRecord(body)) {
    const text = typeof body === 'string' ? body.trim() : '';
    const message = text && text.length < 300 && !text.startsWith('<') ? text : statusFallback(status, statusText);
    return new ApiError({ status, code: fallbackCode, message, requestId: requestIdHeader ?? '' });
  }
  const violations = readViolations(body);
  const message =
    asString(body.message) ??
    asString(body.detail) ??
    asString(body.error_description) ??
    asString(body.error) ??
    (violations.length ? violations.map((v) => (v.field ? `${v.field}: ${v.description}` : v.description)).join('; ') : undefined) ??
    statusFallback(status, statusText);
  return new ApiError({
    status,
    code: asString(body.code) ?? fallbackCode,
    message,
    detail: asString(body.detail) ?? message,
    fieldViolations: violations,
    requestId: asString(body.request_id) ?? requestIdHeader ?? '',
  });
}

/** Field paths such as `body.name`, `/name` or `pair.name` become `name`. */
export function normalizeField(field: string): string {
  let f = field.trim().replace(/^\$\.?/, '').replace(/^\/+/, '').replace(/\//g, '.');
  f = f.replace(/^(body|query|path)\./, '');
  f = f.replace(/\[\d+\]$/, '');
  return f;
}

export interface MappedErrors {
  /** Messages by form field name. */
  byField: Record<string, string>;
  /** Messages that belong to no known field (shown at the top of the form). */
  general: string[];
}

/**
 * Maps an error onto the fields of a form. Violations of unknown fields, and errors without
 * violations, become general messages. Without violations, a message shaped `field: text`
 * naming a known field is attached to that field.
 */
export function mapFieldErrors(error: unknown, knownFields: readonly string[]): MappedErrors {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  if (!(error instanceof ApiError)) {
    general.push(error instanceof Error ? error.message : String(error));
    return { byField, general };
  }
  const known = new Set(knownFields);
  const add = (field: string, text: string) => {
    byField[field] = byField[field] ? `${byField[field]}; ${text}` : text;
  };
  for (const v of error.fieldViolations) {
    const field = normalizeField(v.field);
    const last = field.split('.').pop() ?? field;
    if (known.has(field)) add(field, v.description);
    else if (known.has(last)) add(last, v.description);
    else general.push(field ? `${field}: ${v.description}` : v.description);
  }
  if (error.fieldViolations.length === 0) {
    const m = /^([a-z_][a-z0-9_.]*):\s+(.+)$/i.exec(error.message);
    const field = m?.[1] ? normalizeField(m[1]) : '';
    if (m?.[2] && known.has(field)) add(field, m[2]);
    else general.push(error.message);
  }
  return { byField, general };
}

/** A one-line, user-facing description of any error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.requestId && error.status >= 500 ? `${error.message} (request ${error.requestId})` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
