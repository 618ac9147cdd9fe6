/**
 * The learned cost curves the live page draws: each candidate's estimated cost over input lengths
 * 1…maxSteps, as the engine would rank it now, and the crossover lengths where the best candidate
 * changes. Pure: it takes the engine's side-effect-free estimator.
 */
import type { Estimate } from '../../engine/types.js';
import type { CostCurves, Crossover } from './browser/live-data.js';

export interface CurveOptions {
  /** the engine's estimate(n) */
  estimate: (n: number) => Estimate[];
  maxSteps: number;
  /** this device's name: the 'local' candidate is shown under it */
  device: string;
  objective: 'latency' | 'energy';
  /** lengths sampled for drawing (default 64) */
  samples?: number;
}

/** The curves at `samples` lengths; crossovers to the exact input length (bisection between samples). */
export function costCurves(o: CurveOptions): CostCurves {
  const count = Math.max(2, Math.min(o.samples ?? 64, o.maxSteps));
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.round(1 + ((o.maxSteps - 1) * i) / (count - 1));
    if (n !== lengths.at(-1)) lengths.push(n);
  }
  const name = (target: string): string => (target === 'local' ? o.device : target);
  const byTarget = new Map<string, Array<number | null>>();
  const winners: Array<string | undefined> = [];
  lengths.forEach((n, i) => {
    const ranked = o.estimate(n);
    winners.push(ranked[0] === undefined ? undefined : name(ranked[0].target));
    for (const e of ranked) {
      const target = name(e.target);
      let row = byTarget.get(target);
      if (!row) {
        row = new Array<number | null>(lengths.length).fill(null);
        byTarget.set(target, row);
      }
      row[i] = Number.isFinite(e.cost) ? round(e.cost) : null;
    }
  });
  const winner = (n: number): string | undefined => {
    const best = o.estimate(n)[0];
    return best === undefined ? undefined : name(best.target);
  };
  const crossovers: Crossover[] = [];
  for (let i = 1; i < lengths.length; i++) {
    const from = winners[i - 1];
    if (winners[i] === from) continue;
    // The smallest n in (lo, hi] whose winner is no longer `from`.
    let lo = lengths[i - 1] as number;
    let hi = lengths[i] as number;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (winner(mid) === from) lo = mid;
      else hi = mid;
    }
    const to = winner(hi);
    if (from !== undefined && to !== undefined) crossovers.push({ n: hi, from, to });
  }
  return {
    unit: o.objective === 'energy' ? 'J' : 'ms',
    lengths,
    candidates: [...byTarget].map(([target, cost]) => ({ target, cost })),
    crossovers,
  };
}

function round(v: number): number {
  return Number(v.toPrecision(5));
}
