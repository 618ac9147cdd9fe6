/**
 * Deadlines across hops. A request's budget starts at the entry (mapping.requestTimeoutMs, or less
 * if the client asks) and travels downstream as the time left (crime-deadline-ms), so every hop
 * knows when its caller gives up. Each attempt gets a timeout from its own estimate, cut short so
 * that the cheapest fallback still fits in the budget, and the callee gets that timeout minus the
 * expected network time, so it answers (with outputs or an error) before its caller times it out:
 * a hung device two hops away costs its direct caller one fallback, and nobody else anything.
 */
import { HOP_TIMEOUT } from '../defaults.js';

/** How one attempt at a candidate is bounded. */
export interface AttemptPlan {
  /** the caller abandons the attempt after this long */
  timeoutMs: number;
  /** the budget handed to the callee (crime-deadline-ms): the timeout less the expected network time */
  calleeBudgetMs: number;
}

export interface AttemptInput {
  /** time left until the request's deadline */
  remainingMs: number;
  /** the candidate's estimated latency (network, queue and compute) */
  estimateMs: number;
  /** the network part of it (round trip and transfers; 0 for local) */
  networkMs: number;
  /** estimated latencies of the candidates still to try after this one */
  laterMs: readonly number[];
}

/**
 * The timeout for one attempt, or undefined to skip the candidate: it cannot finish in its share
 * of the budget. A long input may take long: the timeout grows with the estimate
 * (HOP_TIMEOUT.factor times it, at least HOP_TIMEOUT.slackMs more than it), but leaves room for
 * the cheapest later candidate (HOP_TIMEOUT.reserveFactor times its estimate), unless that would
 * leave the attempt less than HOP_TIMEOUT.minShare of the time left. The last candidate gets
 * whatever is left.
 */
export function planAttempt(a: AttemptInput): AttemptPlan | undefined {
  if (a.remainingMs <= 0) return undefined;
  const natural = Math.max(HOP_TIMEOUT.factor * a.estimateMs, a.estimateMs + HOP_TIMEOUT.slackMs);
  let timeoutMs: number;
  if (a.laterMs.length === 0) {
    timeoutMs = a.remainingMs;
  } else {
    const reserve = Math.min(...a.laterMs) * HOP_TIMEOUT.reserveFactor + HOP_TIMEOUT.reserveSlackMs;
    const upper = Math.max(a.remainingMs - reserve, a.remainingMs * HOP_TIMEOUT.minShare);
    if (upper < a.estimateMs) return undefined;
    timeoutMs = Math.min(natural, upper);
  }
  const calleeBudgetMs = Math.max(1, timeoutMs - a.networkMs - HOP_TIMEOUT.answerMarginMs);
  return { timeoutMs, calleeBudgetMs };
}

/**
 * The budget of a request arriving with `header` (crime-deadline-ms, the caller's time left): a
 * caller may only shorten the configured budget, never extend it; a malformed value is ignored.
 */
export function budgetOf(header: string | undefined, configuredMs: number): number {
  if (header === undefined) return configuredMs;
  const v = Number(header);
  return Number.isFinite(v) && v > 0 ? Math.min(v, configuredMs) : configuredMs;
}
