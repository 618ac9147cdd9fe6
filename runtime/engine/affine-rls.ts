/**
 * Online fit of y = slope·x + intercept by recursive least squares with a forgetting factor: the
 * numerical core of every model the engine learns (TrackedFit adds noise tracking and change
 * detection on top).
 *
 * Two additions to textbook RLS make it usable on live timestamps: a bound on the covariance so
 * it cannot wind up while the input never varies, and a projection onto slope ≥ 0, intercept ≥ 0
 * that keeps the prediction at the sample just learned.
 */
export interface AffineRlsOptions {
  /** Forgetting factor λ in (0, 1]: the weight of a sample halves every ln(0.5)/ln(λ) samples. */
  forgetting: number;
  /** Typical magnitude of x; x is divided by it internally so both coefficients are well scaled. */
  xScale: number;
  /** Prior slope and intercept; without one the first samples define the fit. */
  prior?: { slope: number; intercept: number };
  /** How many prior-free samples a prior is worth (default 1). */
  priorWeight?: number;
}

/** How one sample is learned. */
export interface StepOptions {
  /** the sample counts this many times (default 1) */
  weight?: number;
  /** forgetting applied before this sample, instead of the fit's own λ */
  forgetting?: number;
  /** the innovation y − prediction is clipped to ±clip (Huber): a wild sample moves the fit by a bounded amount */
  clip?: number;
  /**
   * the sample moves only the intercept, the slope held with what is known of it: x too small for
   * the slope's part to show above the noise (a few hundred bytes on a link), where fitting both
   * would read the noise as a slope
   */
  levelOnly?: boolean;
}

const UNINFORMED = 1e6;

export class AffineRls {
  private readonly lambda: number;
  private readonly xScale: number;
  private readonly pMax: number;
  /** true when no prior was given: the first samples define the fit */
  readonly uninformed: boolean;
  // θ = [slope·xScale, intercept]; P is symmetric 2×2 stored as p11, p12, p22.
  private t1 = 0;
  private t2 = 0;
  private p11: number;
  private p12 = 0;
  private p22: number;
  private count = 0;

  constructor(options: AffineRlsOptions) {
    if (!(options.forgetting > 0 && options.forgetting <= 1)) throw new RangeError('forgetting must be in (0, 1]');
    if (!(options.xScale > 0)) throw new RangeError('xScale must be positive');
    this.lambda = options.forgetting;
    this.xScale = options.xScale;
    this.pMax = UNINFORMED;
    let pInit = UNINFORMED;
    if (options.prior) {
      this.t1 = Math.max(0, options.prior.slope) * this.xScale;
      this.t2 = Math.max(0, options.prior.intercept);
      pInit = 1 / (options.priorWeight ?? 1);
    }
    this.uninformed = !options.prior;
    this.p11 = pInit;
    this.p22 = pInit;
  }

  get slope(): number {
    return this.t1 / this.xScale;
  }

  get intercept(): number {
    return this.t2;
  }

  /** Number of samples absorbed so far. */
  get samples(): number {
    return this.count;
  }

  predict(x: number): number {
    return this.slope * x + this.t2;
  }

  /**
   * φᵀPφ at x: the variance of the prediction at x in units of one sample's noise variance. Below 1
   * the fit knows y(x) better than one more measurement there would tell; above 1, worse.
   */
  uncertainty(x: number): number {
    const u = x / this.xScale;
    return this.p11 * u * u + 2 * this.p12 * u + this.p22;
  }

  /** Learns one sample (x ≥ 0 and y ≥ 0 finite; the caller filters). */
  learn(x: number, y: number, options: StepOptions = {}): void {
    this.count++;
    let e = y - this.predict(x);
    if (options.clip !== undefined) e = Math.max(-options.clip, Math.min(options.clip, e));
    const weight = options.weight ?? 1;
    const lambda = options.forgetting ?? this.lambda;
    if (options.levelOnly) this.stepLevel(e, weight, lambda);
    else this.step(x, e, weight, lambda);
  }

  /** RLS on the intercept alone (φ = [0, 1], the slope's gain zero): forgets only the level. */
  private stepLevel(e: number, weight: number, lambda: number): void {
    const k2 = this.p22 / (lambda / Math.max(weight, 1e-9) + this.p22);
    this.t2 = Math.max(0, this.t2 + k2 * e);
    this.p12 *= 1 - k2;
    this.p22 = Math.min(this.pMax, ((1 - k2) * this.p22) / lambda);
  }

  /** An independent copy (same parameters, same uncertainty): a regime remembered for later. */
  clone(): AffineRls {
    const c = Object.create(AffineRls.prototype) as AffineRls;
    Object.assign(c, this);
    return c;
  }

  /**
   * Forgets everything learned before a detected change and fits the given recent samples: the old
   * shape is scaled to their level first, so a single x value still gives a sensible slope (a
   * device that became k times slower is k times slower at every length). 'shift' forgets and
   * refits only the intercept.
   */
  restartFrom(samples: ReadonlyArray<readonly [number, number]>, shape: 'scale' | 'shift' = 'scale'): void {
    this.p12 = 0;
    this.p22 = UNINFORMED;
    // 'shift': only the level is forgotten, the slope and what is known of it stay (a link whose
    // round trip changed keeps its bandwidth; re-learning it from small payloads cannot tell it).
    if (shape === 'scale') this.p11 = UNINFORMED;
    if (samples.length === 0) return;
    const mean = samples.reduce((s, [, y]) => s + y, 0) / samples.length;
    const old = samples.reduce((s, [x]) => s + this.predict(x), 0) / samples.length;
    if (shape === 'shift') {
      this.t2 = Math.max(0, this.t2 + mean - old);
    } else if (old > 0) {
      const ratio = mean / old;
      this.t1 *= ratio;
      this.t2 *= ratio;
    }
    for (const [x, y] of samples) {
      if (shape === 'shift') this.stepLevel(y - this.predict(x), 1, this.lambda);
      else this.step(x, y - this.predict(x), 1, this.lambda);
    }
  }

  private step(x: number, e: number, weight: number, lambda: number): void {
    const u = x / this.xScale;
    // Weighted RLS: k = Pφ / (λ/w + φᵀPφ), φ = [u, 1]
    const pu1 = this.p11 * u + this.p12;
    const pu2 = this.p12 * u + this.p22;
    const denom = lambda / Math.max(weight, 1e-9) + u * pu1 + pu2;
    const k1 = pu1 / denom;
    const k2 = pu2 / denom;
    this.t1 += k1 * e;
    this.t2 += k2 * e;
    // P = (P − k φᵀP) / λ
    let n11 = (this.p11 - k1 * pu1) / lambda;
    let n12 = (this.p12 - k1 * pu2) / lambda;
    let n22 = (this.p22 - k2 * pu2) / lambda;
    const trace = n11 + n22;
    if (trace > this.pMax) {
      const f = this.pMax / trace;
      n11 *= f;
      n12 *= f;
      n22 *= f;
    }
    this.p11 = n11;
    this.p12 = n12;
    this.p22 = n22;
    this.project(u);
  }

  /**
   * Keeps slope and intercept non-negative without moving the prediction at the sample just
   * learned (clamping one coefficient alone would bias the fit at the data it was fitted to).
   */
  private project(u: number): void {
    if (this.t2 < 0) {
      this.t1 = u > 0 ? this.t1 + this.t2 / u : this.t1;
      this.t2 = 0;
    }
    if (this.t1 < 0) {
      this.t2 = Math.max(0, this.t2 + this.t1 * u);
      this.t1 = 0;
    }
  }
}
