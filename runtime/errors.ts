/**
 * The one registry of error codes (like fastify's FST_ERR_* or undici's UND_ERR_*). Every error the
 * project raises on purpose is a CrimeError with one of these codes; the registry says, in one
 * place, what it becomes on each surface: the HTTP status (http/error-handler.ts), whether a caller
 * may retry it (the mapper's fallback, clients), and the exit code when it ends a command (cli.ts).
 */
export interface ErrorSpec {
  status: number;
  retryable: boolean;
  /** 2: the user's input or usage is wrong (scripts can tell it from a failed run); 1: the run failed */
  exit: 1 | 2;
}

const spec = (status: number, exit: 1 | 2, retryable = false): ErrorSpec => ({ status, retryable, exit });

export const ERRORS = {
  /** a request, a file or a resource is malformed or out of range; names the field */
  INVALID_INPUT: spec(400, 2),
  /** the command line is wrong */
  USAGE: spec(400, 2),
  INPUT_TOO_LONG: spec(413, 2),
  PAYLOAD_TOO_LARGE: spec(413, 2),
  UNSUPPORTED_MEDIA_TYPE: spec(415, 2),
  /** the request's headers are larger than the server accepts */
  HEADERS_TOO_LARGE: spec(431, 2),
  /** an Expect header other than 100-continue */
  EXPECTATION_FAILED: spec(417, 2),
  /** the client did not send its headers or body within the server's deadline */
  REQUEST_TIMEOUT: spec(408, 1),
  UNAUTHORIZED: spec(401, 1),
  NOT_FOUND: spec(404, 1),
  /** answered with an Allow header listing the methods the path takes */
  METHOD_NOT_ALLOWED: spec(405, 1),
  /** a local resource (a port, a process) is busy: try again once it is free */
  CONFLICT: spec(409, 1),
  OVERLOADED: spec(503, 1, true),
  NOT_READY: spec(503, 1, true),
  TIMEOUT: spec(504, 1, true),
  UPSTREAM_FAILED: spec(502, 1, true),
  MODEL_LOAD_FAILED: spec(500, 1),
  BACKEND_UNAVAILABLE: spec(500, 1),
  INTERNAL: spec(500, 1),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERRORS, v);
}

export interface CrimeErrorOptions {
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfterSec?: number;
  /** METHOD_NOT_ALLOWED: the methods the path takes (sent as Allow) */
  allow?: readonly string[];
  cause?: unknown;
}

export class CrimeError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSec: number | undefined;
  readonly allow: readonly string[] | undefined;

  constructor(code: ErrorCode, message: string, options: CrimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrimeError';
    this.code = code;
    this.retryAfterSec = options.retryAfterSec;
    this.allow = options.allow;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A user-written file or resource failed validation; `field` names where (`spec.devices[1].name`). */
export class InvalidInputError extends CrimeError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('INVALID_INPUT', field ? `${field}: ${message}` : message);
    this.name = 'InvalidInputError';
    this.field = field;
  }
}

/** The command line is wrong; the CLI answers with the command's usage and exit code 2. */
export class UsageError extends CrimeError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** Wraps anything thrown into a CrimeError, keeping typed ones as they are. */
export function toCrimeError(err: unknown): CrimeError {
  if (err instanceof CrimeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CrimeError('INTERNAL', message, { cause: err });
}
