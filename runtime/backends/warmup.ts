import { sampleInput } from './input.js';
import { runBatch, type Backend } from './types.js';

export interface WarmUpOptions {
  /** Runs per length; the first runs of a session pay for allocation and kernel selection. */
  runs?: number;
  /** Sequence lengths to run (clamped to maxSteps). */
  steps?: readonly number[];
  maxSteps: number;
  /** Largest batch the server will run (default 1): a batch this size at each length is run too. */
  batch?: number;
  /** Runs that proceed at once (worker threads, default 1): each one is warmed. */
  parallel?: number;
}

/** Runs a few representative inputs so the first real request does not pay start-up costs. */
export async function warmUp(backend: Backend, options: WarmUpOptions): Promise<{ runs: number; ms: number }> {
  const started = performance.now();
  const lengths = (options.steps ?? [1, 16]).map((n) => Math.max(1, Math.min(n, options.maxSteps)));
  const sizes = [...new Set([1, options.batch ?? 1])];
  const parallel = Math.max(1, options.parallel ?? 1);
  let runs = 0;
  for (const n of lengths) {
    for (const size of sizes) {
      const inputs = Array.from({ length: size }, () => sampleInput(backend.info, n));
      for (let k = 0; k < (options.runs ?? 3); k++) {
        // At once, so that every worker thread gets one.
        await Promise.all(Array.from({ length: parallel }, () => runBatch(backend, inputs)));
        runs += parallel;
      }
    }
  }
  return { runs, ms: performance.now() - started };
}
