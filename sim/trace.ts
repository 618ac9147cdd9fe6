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
