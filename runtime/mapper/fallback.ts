import { CrimeError, type ErrorCode } from '../errors.js';
import { MAX_HOPS } from './protocol.js';

/** Errors that say the input itself is bad: trying another device would not help. */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(['INVALID_INPUT', 'INPUT_TOO_LONG', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

/**
 * Codes a neighbour that answered uses to say that something behind it failed (its own fallback
 * ran out, or its share of the deadline passed): the neighbour itself is up.
 */
const DOWNSTREAM_ERRORS: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_FAILED', 'TIMEOUT']);

/**
 * Whether a failed offload makes the neighbour unusable until a ping answers. Yes when it could not
 * be reached or did not answer in time, or answered that it cannot serve (not ready, unauthorised,
 * overloaded, broken); no when it answered that a device further downstream failed, so a hung
 * device two hops away never takes its healthy caller out of service.
 */
export function neighbourAtFault(code: ErrorCode, answered: boolean): boolean {
  return !answered || !DOWNSTREAM_ERRORS.has(code);
}

export interface Candidate {
  kind: 'local' | 'neighbour';
  target: string;
}

/**
 * One request's way through its ranked candidates, shared by the mapper's pipeline and the
 * simulator, so the simulator runs the very fallback rules production runs: candidates in rank
 * order; never a device already on the request's path, and no offload once the path is MAX_HOPS
 * long; after a failure the next candidate (a bad input stops at once); when every candidate
 * failed, one error that says why.
 */
export class Fallback<T extends Candidate> {
  readonly failures: Array<{ target: string; code: ErrorCode }> = [];
  private readonly order: T[];
  private at = 0;
  private lastCause: unknown;

  /** `path`: the devices the request went through, this one last. */
  constructor(ranked: readonly T[], path: readonly string[]) {
    const visited = new Set(path);
    const mayOffload = path.length < MAX_HOPS;
    this.order = ranked.filter((c) => c.kind === 'local' || (mayOffload && !visited.has(c.target)));
  }

  /** The next candidate to try, or undefined when none is left. */
  next(): T | undefined {
    return this.order[this.at++];
  }

  /** The candidates after the current one, in order (what a fallback from it could use). */
  upcoming(): readonly T[] {
    return this.order.slice(this.at);
  }

  /** Records a failed candidate; false when the request must stop here because its input is bad. */
  failed(candidate: T, code: ErrorCode, cause?: unknown): boolean {
    if (INPUT_ERRORS.has(code)) return false;
    this.failures.push({ target: candidate.target, code });
    this.lastCause = cause;
    return true;
  }

  /** Records a candidate left out because it could not finish within the request's deadline. */
  skipped(candidate: T): void {
    this.failures.push({ target: candidate.target, code: 'TIMEOUT' });
  }

  /** The error for a request whose deadline passed before any candidate answered. */
  expired(budgetMs: number): CrimeError {
    return new CrimeError('TIMEOUT', `no device could serve the request within its ${Math.round(budgetMs)} ms (${this.describe()})`, {
      retryAfterSec: 1,
      ...(this.lastCause === undefined ? {} : { cause: this.lastCause }),
    });
  }

  /** The error for a request no candidate could serve: OVERLOADED if the last one was, else UPSTREAM_FAILED. */
  exhausted(): CrimeError {
    const last = this.failures.at(-1);
    return new CrimeError(
      last?.code === 'OVERLOADED' ? 'OVERLOADED' : 'UPSTREAM_FAILED',
      `no device could serve the request (${this.describe()})`,
      { retryAfterSec: 1, ...(this.lastCause === undefined ? {} : { cause: this.lastCause }) },
    );
  }

  private describe(): string {
    return this.failures.map((f) => `${f.target}: ${f.code}`).join(', ') || 'no candidates';
  }
}
