import { sampleInput } from '../runtime/backends/input.js';
import { createBackend, type CreateBackendOptions } from '../runtime/backends/select.js';
import type { ModelInfo } from '../runtime/backends/types.js';
import { warmUp } from '../runtime/backends/warmup.js';
import { CALIBRATION_STEPS } from '../runtime/defaults.js';
import { leastSquares } from '../stats/fit.js';
import type { Speed } from './topology-scenario.js';

/** Runs per calibration length; the median is kept (a shared machine has outliers). */
const RUNS = 5;

/**
 * Loads the model through the runtime's own loading code and times it on this machine at the
 * mappers' calibration lengths: the model's description (for its payload) and the speed a device
 * that `crime up` runs without emulation has here.
 */
export async function measureModel(options: CreateBackendOptions & { maxSteps: number }): Promise<{ info: ModelInfo; speed: Speed }> {
  const backend = await createBackend(options);
  try {
    await warmUp(backend, { maxSteps: options.maxSteps });
    const xs: number[] = [];
    const ys: number[] = [];
    for (const n of CALIBRATION_STEPS.filter((s) => s <= options.maxSteps)) {
      const times: number[] = [];
      for (let k = 0; k < RUNS; k++) times.push((await backend.infer(sampleInput(backend.info, n))).computeMs);
      times.sort((a, b) => a - b);
      xs.push(n);
      ys.push(times[Math.floor(RUNS / 2)] as number);
    }
    const fit = leastSquares(xs, ys);
    return { info: backend.info, speed: { perStepMs: Math.max(0, fit.slope), fixedMs: Math.max(0, fit.intercept) } };
  } finally {
    await backend.dispose();
  }
}
