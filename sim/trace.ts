import { sampleLength } from '../stats/lengths.js';
import { Random } from '../stats/random.js';
import type { Scenario } from './scenario.js';

/** Scenario time zero is this long after the simulation starts: the mappers' warm-up pings go first. */
export const START_MS = 1000;

export interface TraceRequest {
  id: number;
  n: number;
  /** arrival time at the entry device for open-loop arrivals; NaN for closed-loop clients */
  arrivalMs: number;
}

/** The request trace every policy sees: same lengths, same arrival times, for a given seed. */
export function buildTrace(s: Scenario, startMs: number): TraceRequest[] {
  const rnd = new Random(s.seed);
  const lengthRnd = rnd.fork();
  const arrivalRnd = rnd.fork();
  const out: TraceRequest[] = [];
  let t = startMs;
  for (let id = 0; id < s.requests; id++) {
    const n = sampleLength(s.lengths, lengthRnd);
    if (s.arrival.type === 'poisson') {
      t += arrivalRnd.exponential(1000 / s.arrival.ratePerSec);
      out.push({ id, n, arrivalMs: t });
    } else {
      out.push({ id, n, arrivalMs: Number.NaN });
    }
  }
  return out;
}

/**
 * A standard normal draw determined by (seed, request, salt) alone, so every policy meets the same
 * noise on the same request at the same device or link, whatever order it visits them in.
 */
export function noiseFor(seed: number, request: number, salt: number): number {
  const u1 = (hash3(seed, request, salt * 2 + 1) + 0.5) / 4294967296;
  const u2 = hash3(seed, request, salt * 2 + 2) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x27d4eb2f, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
