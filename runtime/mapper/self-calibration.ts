/**
 * The live mapper's self-calibration loop. The engine decides when a run is due and at which
 * length (runtime/engine/self-calibration.ts: idle runtime, a model unsure where it matters or
 * surprised, paced at `budget` of device time); this loop times that inference through the local
 * runtime, exactly like a request, and teaches the engine its compute time. One run at a time; a
 * failed run is logged and forgotten. Counted in crime_mapper_self_calibrations_total and
 * crime_mapper_self_calibration_seconds_total.
 */
import { Counter } from 'prom-client';
import { sampleInput } from '../backends/input.js';
import { toCrimeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MapperMetrics } from './metrics.js';
import type { LocalRuntime } from './pipeline.js';
import type { MapperState } from './state.js';

export interface SelfCalibrationLoopOptions {
  state: () => MapperState;
  runtime: LocalRuntime;
  metrics: MapperMetrics;
  logger: Logger;
  /** how often to ask the engine whether a run is due (default 250 ms) */
  tickMs?: number;
}

export function startSelfCalibration(o: SelfCalibrationLoopOptions): { stop: () => void } {
  const runs = new Counter({
    name: 'crime_mapper_self_calibrations_total',
    help: 'Self-calibration runs (the mapper timing its own runtime to keep its compute model fresh), by outcome',
    labelNames: ['outcome'] as const,
    registers: [o.metrics.registry],
  });
  const seconds = new Counter({
    name: 'crime_mapper_self_calibration_seconds_total',
    help: 'Runtime compute time spent on self-calibration runs',
    registers: [o.metrics.registry],
  });
  let running = false;
  const tick = async (): Promise<void> => {
    // Read on every tick: a configuration reload changes the policy (budget 0 stops the runs).
    const { pipeline, model, maxSteps, requestTimeoutMs, selfCalibration } = o.state();
    if (running || !pipeline || !model || !pipeline.learning) return;
    const engine = pipeline.engine;
    const n = engine.dueCalibration(selfCalibration);
    if (n === null || n > maxSteps) return;
    running = true;
    const ticket = engine.startCalibration(n);
    try {
      const r = await o.runtime.infer(sampleInput(model, n), { requestId: `self-calibrate-${n}-${Date.now()}`, timeoutMs: requestTimeoutMs, budgetMs: requestTimeoutMs });
      engine.finishLocal(ticket, r.computeMs, r.batch);
      runs.inc({ outcome: 'ok' });
      seconds.inc(r.computeMs / 1000);
    } catch (err) {
      engine.abortLocal(ticket);
      runs.inc({ outcome: toCrimeError(err).code });
      o.logger.debug('self-calibration run failed', { steps: n, error: (err as Error).message });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.tickMs ?? 250);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
