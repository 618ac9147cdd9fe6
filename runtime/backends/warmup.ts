import { sampleInput } from './input.js';
import type { Backend } from './types.js';

export interface WarmUpOptions {
  /** Runs per length; the first runs of a session pay for allocation and kernel selection. */
  runs?: number;
  /** Sequence lengths to run (clamped to maxSteps). */
  steps?: readonly number[];
  maxSteps: number;
}

/** Runs a few representative inputs so the first real request does not pay start-up costs. */
export async function warmUp(backend: Backend, options: WarmUpOptions): Promise<{ runs: number; ms: number }> {
  const started = performance.now();
  const lengths = (options.steps ?? [1, 16]).map((n) => Math.max(1, Math.min(n, options.maxSteps)));
  let runs = 0;
  for (const n of lengths) {
    for (let k = 0; k < (options.runs ?? 3); k++) {
      await backend.infer(sampleInput(backend.info, n));
      runs++;
    }
  }
  return { runs, ms: performance.now() - started };
}
