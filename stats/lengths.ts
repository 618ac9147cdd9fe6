import { InvalidInputError } from '../runtime/errors.js';
import { Random } from './random.js';

/** An input-length distribution: the simulator's scenarios, `crime load` and the benchmarks share it. */
export type Lengths =
  | { type: 'lognormal'; median: number; sigma: number; min: number; max: number }
  | { type: 'uniform'; min: number; max: number }
  | { type: 'list'; values: number[] }
  /**
   * Lognormal parts drawn with their weights (a bimodal mix: short questions and long documents),
   * clamped to [min, max] like a single lognormal.
   */
  | { type: 'mixture'; parts: Array<{ weight: number; median: number; sigma: number }>; min: number; max: number };

export function sampleLength(lengths: Lengths, rnd: Random): number {
  switch (lengths.type) {
    case 'list':
      return lengths.values[Math.floor(rnd.next() * lengths.values.length)] as number;
    case 'uniform':
      return rnd.int(lengths.min, lengths.max);
    case 'lognormal':
      return lognormal(lengths.median, lengths.sigma, lengths.min, lengths.max, rnd);
    case 'mixture': {
      const total = lengths.parts.reduce((w, p) => w + p.weight, 0);
      let u = rnd.next() * total;
      let part = lengths.parts[lengths.parts.length - 1]!;
      for (const p of lengths.parts) {
        u -= p.weight;
        if (u < 0) {
          part = p;
          break;
        }
      }
      return lognormal(part.median, part.sigma, lengths.min, lengths.max, rnd);
    }
  }
}

function lognormal(median: number, sigma: number, min: number, max: number, rnd: Random): number {
  return Math.min(max, Math.max(min, Math.round(median * Math.exp(sigma * rnd.normal()))));
}

/** The longest length a distribution can draw. */
export function longestLength(lengths: Lengths): number {
  return lengths.type === 'list' ? Math.max(...lengths.values) : lengths.max;
}

/**
 * Input-length distributions on the command line, the simulator's three kinds:
 *   lognormal:median=14,sigma=0.5,min=1,max=200   uniform:1-200   list:5,50,500   (or just 20)
 */
export function parseLengthSpec(spec: string, maxSteps: number, field = 'lengths'): Lengths {
  const invalid = (message: string): InvalidInputError => new InvalidInputError(field, message);
  const [kind, rest = ''] = spec.includes(':') ? (spec.split(/:(.*)/s) as [string, string]) : ['list', spec];
  const int = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw invalid(`${what} must be an integer ≥ 1 in "${spec}"`);
    if (n > maxSteps) throw invalid(`${what} ${n} is above the model's maxSteps ${maxSteps} in "${spec}"`);
    return n;
  };
  switch (kind) {
    case 'list':
      return { type: 'list', values: rest.split(',').map((v) => int(v.trim(), 'a length')) };
    case 'uniform': {
      const [lo, hi] = rest.split('-');
      const min = int(lo, 'min');
      const max = int(hi, 'max');
      if (max < min) throw invalid(`max must be ≥ min in "${spec}"`);
      return { type: 'uniform', min, max };
    }
    case 'lognormal': {
      const kv = Object.fromEntries(rest.split(',').map((p) => p.split('=').map((s) => s.trim()) as [string, string]));
      const median = Number(kv.median);
      const sigma = Number(kv.sigma ?? 0.5);
      if (!(median > 0) || !(sigma >= 0)) throw invalid(`lognormal needs median > 0 and sigma ≥ 0 in "${spec}"`);
      return { type: 'lognormal', median, sigma, min: kv.min === undefined ? 1 : int(kv.min, 'min'), max: kv.max === undefined ? maxSteps : int(kv.max, 'max') };
    }
    default:
      throw invalid(`unknown length distribution "${kind}" (lognormal, uniform, list)`);
  }
}

export function lengthSampler(lengths: Lengths, seed: number): () => number {
  const rnd = new Random(seed);
  return () => sampleLength(lengths, rnd);
}
