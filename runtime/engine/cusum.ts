/**
 * Two-sided CUSUM (Page, 1954) on standardized residuals r = (y − prediction) / σ: the change
 * detector of every fit the engine keeps.
 *
 *   high = max(0, high + r − k)     low = max(0, low − r − k)     alarm when either exceeds h
 *
 * k (drift) is half the smallest shift worth detecting, in σ; h (threshold) trades false alarms
 * for delay. Residuals are clipped to ±clip first, so one wild sample alone can never raise an
 * alarm (it adds at most clip − k < h): a change needs at least two consistent samples. With the
 * defaults (k = 0.5, h = 6, clip = 4) and Gaussian noise, a false alarm comes once in about 1300
 * samples (Siegmund's approximation, both sides); a shift of 4.5σ or more is flagged on its second
 * sample, 2σ in about five samples, 1σ in about fifteen.
 */
export interface CusumOptions {
  /** k, in σ: shifts below 2k are not worth an alarm (default 0.5) */
  drift?: number;
  /** h, in σ (default 6) */
  threshold?: number;
  /** residuals are clipped to ±clip σ before they are added (default 4) */
  clip?: number;
}

export const CUSUM_DEFAULTS = { drift: 0.5, threshold: 6, clip: 4 } as const;

/** 'suspect': a statistic passed h/2, worth a confirming sample now; 'alarm': it passed h. */
export type CusumVerdict = 'quiet' | 'suspect' | 'alarm';

export class Cusum {
  readonly drift: number;
  readonly threshold: number;
  readonly clip: number;
  private high = 0;
  private low = 0;
  /** samples since each statistic last left zero: the estimated change point, counted back */
  private highRun = 0;
  private lowRun = 0;
  private lastRun = 0;

  constructor(options: CusumOptions = {}) {
    this.drift = options.drift ?? CUSUM_DEFAULTS.drift;
    this.threshold = options.threshold ?? CUSUM_DEFAULTS.threshold;
    this.clip = options.clip ?? CUSUM_DEFAULTS.clip;
    if (!(this.drift >= 0 && this.threshold > 0 && this.clip > this.drift)) throw new RangeError('CUSUM needs drift ≥ 0, threshold > 0, clip > drift');
  }

  /** The larger of the two statistics, in σ. */
  get level(): number {
    return Math.max(this.high, this.low);
  }

  /** After an alarm: how many of the latest samples belong to the new regime (at least 1). */
  get changeRun(): number {
    return this.lastRun;
  }

  update(r: number): CusumVerdict {
    const z = Math.max(-this.clip, Math.min(this.clip, r));
    this.high = Math.max(0, this.high + z - this.drift);
    this.low = Math.max(0, this.low - z - this.drift);
    this.highRun = this.high > 0 ? this.highRun + 1 : 0;
    this.lowRun = this.low > 0 ? this.lowRun + 1 : 0;
    if (this.high > this.threshold || this.low > this.threshold) {
      this.lastRun = Math.max(1, this.high > this.threshold ? this.highRun : this.lowRun);
      this.reset();
      return 'alarm';
    }
    return this.level > this.threshold / 2 ? 'suspect' : 'quiet';
  }

  reset(): void {
    this.high = 0;
    this.low = 0;
    this.highRun = 0;
    this.lowRun = 0;
  }
}
