/**
 * Typed errors with stable codes. Every HTTP surface (runtime server, mapper) maps these to a status
 * and a JSON body `{"error": {"code", "message"}}` in one place; callers decide on retry by `retryable`.
 */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'INPUT_TOO_LONG'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'OVERLOADED'
  | 'NOT_READY'
  | 'TIMEOUT'
  | 'UPSTREAM_FAILED'
  | 'MODEL_LOAD_FAILED'
  | 'BACKEND_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INPUT_TOO_LONG: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  OVERLOADED: 503,
  NOT_READY: 503,
  TIMEOUT: 504,
  UPSTREAM_FAILED: 502,
  MODEL_LOAD_FAILED: 500,
  BACKEND_UNAVAILABLE: 500,
  INTERNAL: 500,
};

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['OVERLOADED', 'NOT_READY', 'TIMEOUT', 'UPSTREAM_FAILED']);

export interface CrimeErrorOptions {
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfterSec?: number;
  cause?: unknown;
}

export class CrimeError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSec: number | undefined;

  constructor(code: ErrorCode, message: string, options: CrimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrimeError';
    this.code = code;
    this.retryAfterSec = options.retryAfterSec;
  }

  get status(): number {
    return STATUS[this.code];
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Wraps anything thrown into a CrimeError, keeping typed ones as they are. */
export function toCrimeError(err: unknown): CrimeError {
  if (err instanceof CrimeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CrimeError('INTERNAL', message, { cause: err });
}
