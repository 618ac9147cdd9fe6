/**
 * Errors of the Kubernetes API: ApiError (what KubeRest throws) and client-node's ApiException both
 * carry the HTTP status as `code` and the API server's Status as `body`; the helpers read either.
 */

/** A metav1.Status cause: which field, why, and the message. */
export interface StatusCause {
  field: string;
  reason: string;
  message: string;
}

export class ApiError extends Error {
  /** the HTTP status (named `code`, as client-node's ApiException names it) */
  readonly code: number;
  readonly body: unknown;

  constructor(status: number, body: unknown, what: string) {
    super(`${what}: HTTP ${status}${statusMessageOf(body) ? `: ${statusMessageOf(body)}` : ''}`);
    this.name = 'ApiError';
    this.code = status;
    this.body = body;
  }

  /** The Status reason, e.g. NotFound, AlreadyExists, Conflict, Invalid, Forbidden. */
  get reason(): string {
    const r = (this.body as { reason?: unknown } | null)?.reason;
    return typeof r === 'string' ? r : '';
  }

  get causes(): StatusCause[] {
    return statusCauses(this.body);
  }
}

/** The HTTP status of an API error, or undefined if `err` is not one. */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The `message` of the API server's Status body, or the error's own message. */
export function statusMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'body' in err) {
    const body = (err as { body: unknown }).body;
    const message = statusMessageOf(typeof body === 'string' ? safeParse(body) : body);
    if (message) return message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The `message` of a Status body ('' when there is none). */
export function statusMessageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = (body as { message: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return typeof body === 'string' ? body : '';
}

/** The `details.causes` of a Status body. */
export function statusCauses(body: unknown): StatusCause[] {
  const causes = (body as { details?: { causes?: unknown } } | null)?.details?.causes;
  if (!Array.isArray(causes)) return [];
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return causes.map((c: { field?: unknown; reason?: unknown; message?: unknown }) => ({ field: text(c.field), reason: text(c.reason), message: text(c.message) }));
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
export const isForbidden = (err: unknown): boolean => statusCode(err) === 403;
/** Worth retrying later: no answer, throttled, or a server-side failure. */
export const isTransient = (err: unknown): boolean => {
  const code = statusCode(err);
  return code === undefined || code === 0 || code === 429 || code >= 500;
};
