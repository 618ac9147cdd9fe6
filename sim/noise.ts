/**
 * The noise every policy meets: one standard normal draw per (request, device or link, stage),
 * determined by the seed and those keys alone. Whatever order a policy visits devices in, and
 * whichever policy it is, request 17 computing at the gateway draws the same number, so the
 * policies are compared on the same luck (and the hindsight reference can know it in advance).
 */
export type NoiseStage = 'compute' | 'up' | 'down';

export class Noise {
  private readonly salts = new Map<string, number>();

  constructor(private readonly seed: number) {}

  /** The relative deviation of request `request`'s compute time at `device`. */
  compute(request: number, device: string): number {
    return this.draw(request, 'compute', device, '');
  }

  /** The jitter of request `request`'s one-way trip from `from` to `to`. */
  up(request: number, from: string, to: string): number {
    return this.draw(request, 'up', from, to);
  }

  /** The jitter of the reply's trip from `to` back to `from`. */
  down(request: number, from: string, to: string): number {
    return this.draw(request, 'down', from, to);
  }

  private draw(request: number, stage: NoiseStage, a: string, b: string): number {
    const key = `${stage}|${a}|${b}`;
    let salt = this.salts.get(key);
    if (salt === undefined) {
      salt = fnv1a(key);
      this.salts.set(key, salt);
    }
    return noiseFor(this.seed, request, salt);
  }
}

/** A standard normal draw determined by (seed, request, salt) alone. */
export function noiseFor(seed: number, request: number, salt: number): number {
  const u1 = (hash3(seed, request, salt * 2 + 1) + 0.5) / 4294967296;
  const u2 = hash3(seed, request, salt * 2 + 2) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** 32-bit FNV-1a of a string: a stable number for a key, the same in every run and policy. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Keep salt·2 + 2 an exact integer in hash3's arithmetic.
  return (h >>> 0) & 0x3fffffff;
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
