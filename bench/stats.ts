/** Timing helpers shared by the benchmarks: per-call nanosecond samples and their percentiles. */
import { quantile } from '../stats/quantile.js';

export interface Percentiles {
  medianNs: number;
  p99Ns: number;
  meanNs: number;
}

export function percentiles(samples: Float64Array): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { medianNs: Math.round(quantile(sorted, 0.5)), p99Ns: Math.round(quantile(sorted, 0.99)), meanNs: Math.round(sum / Math.max(1, sorted.length)) };
}

/**
 * Times `count` calls of `fn(i)` one by one with the monotonic high-resolution clock, after
 * `warmup` untimed calls so the JIT has settled.
 */
export function timeCalls(count: number, warmup: number, fn: (i: number) => void): Float64Array {
  for (let i = 0; i < warmup; i++) fn(i);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}
