/**
 * Exponential backoff, the one rule behind every "wait longer after each failure" in the project:
 * the operator's watch restarts and per-key reconcile retries, and the dev cluster's crash-loop
 * restarts. The wait after the n-th consecutive failure is `initialMs` doubled n-1 times, capped at
 * `maxMs`, and spread by ±`jitter` so that many clients failing together do not retry together.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** relative spread, 0 (none, the default) to 1: 0.2 waits 0.8 to 1.2 times the delay */
  jitter?: number;
}

/** The wait after the `failures`-th failure in a row (1 is the first; 0 or less waits initialMs). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  // 2 ** 60 is already past any cap: clamping the exponent keeps the product finite.
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures, 1) - 1, 60));
  const jitter = policy.jitter ?? 0;
  return jitter === 0 ? base : base * (1 - jitter + 2 * jitter * random());
}
