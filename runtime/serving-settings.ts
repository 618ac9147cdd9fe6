/**
 * How a device's runtime serves requests: dynamic batching (up to maxBatch requests of similar
 * length in one run, a request held at most maxDelayMs for companions while a slot is free) and
 * concurrent runs. A topology (spec.devices[].serving), a mapper configuration (serving), a
 * simulator scenario's device (serving) and `crime runtime`'s flags take the same fields with the
 * same bounds, through this one parser; the CRD's schema mirrors it.
 */
import { SERVING_DEFAULTS } from './defaults.js';
import { known, optNum, type NumberRule, type Obj } from './validate.js';

export interface ServingSettings {
  /** most requests in one run; 1 turns batching off */
  maxBatch: number;
  /** longest a request waits for companions while a slot is free (0: never; batches then form only behind a busy slot) */
  maxDelayMs: number;
  /** runs (batches) at once */
  concurrency: number;
}

export const SERVING_FIELDS = ['maxBatch', 'maxDelayMs', 'concurrency'] as const;

export const SERVING_LIMITS = {
  maxBatch: { integer: true, min: 1, max: 1024 },
  maxDelayMs: { min: 0, max: 1000 },
  concurrency: { integer: true, min: 1, max: 64 },
} as const satisfies Record<(typeof SERVING_FIELDS)[number], NumberRule>;

/**
 * A device's defaults when its serving is not written (docs/runtime.md has the measurements):
 * batching on where many callers meet and a batch costs little more than one request (a GPU; a
 * cloud CPU, where a batch still runs the recurrent GEMM more efficiently), off on edge and
 * gateway devices, whose runtime serves one end node's inputs at batch-1 latency.
 */
export function servingDefaults(device: { tier: string; gpus: number }): ServingSettings {
  if (device.gpus > 0) return { ...SERVING_DEFAULTS.gpu };
  if (device.tier === 'cloud') return { ...SERVING_DEFAULTS.cloudCpu };
  return { ...SERVING_DEFAULTS.off };
}

/** `where` names the object in errors ("spec.devices[2].serving", "serving"); unset fields take `defaults`. */
export function parseServingSettings(s: Obj, where: string, defaults: ServingSettings): ServingSettings {
  known(s, where, SERVING_FIELDS);
  return {
    maxBatch: optNum(s, 'maxBatch', where, defaults.maxBatch, SERVING_LIMITS.maxBatch),
    maxDelayMs: optNum(s, 'maxDelayMs', where, defaults.maxDelayMs, SERVING_LIMITS.maxDelayMs),
    concurrency: optNum(s, 'concurrency', where, defaults.concurrency, SERVING_LIMITS.concurrency),
  };
}

export function isBatching(s: ServingSettings): boolean {
  return s.maxBatch > 1;
}

/** `crime runtime`'s flags for these settings: how the operator and `crime up` start a device's runtime. */
export function servingArgs(s: ServingSettings): string[] {
  return ['--max-batch', String(s.maxBatch), '--max-delay-ms', String(s.maxDelayMs), '--concurrency', String(s.concurrency)];
}
