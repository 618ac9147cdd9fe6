/**
 * Online fit of y = slope·x + intercept by recursive least squares with a forgetting factor.
 *
 * Used for both the compute model (x = input steps, y = compute ms) and the link model
 * (x = bytes on the wire, y = network ms). Three additions to textbook RLS make it usable on live
 * timestamps: Huber-clipped innovations (one slow request must not move the model much), a change
 * detector (several large same-sign residuals in a row mean the world changed: forget the past
 * at once instead of at the forgetting rate), and a bound on the covariance so it cannot wind up
 * while the input never varies. Parameters are projected onto slope ≥ 0, intercept ≥ 0.
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
  /** Residuals beyond this many standard deviations are clipped and counted as outliers (default 4). */
  outlierScale?: number;
  /** Consecutive same-sign outliers that signal a change rather than noise (default 2). */
  changeAfter?: number;
  /** The noise's standard deviation is taken as at least this fraction of the prediction (default 0.01). */
  relativeFloor?: number;
  /** ... and at least this much, in y units (default 0.01). */
  absoluteFloor?: number;
}

export type SampleVerdict = 'ok' | 'outlier' | 'change' | 'ignored';

const UNINFORMED = 1e6;
/** E|e| = σ·√(2/π) for Gaussian noise, so σ ≈ 1.2533 · mean absolute residual. */
const MEAN_ABS_TO_SIGMA = 1.2533;

export class AffineRls {
  private readonly lambda: number;
  private readonly xScale: number;
  private readonly outlierScale: number;
  private readonly changeAfter: number;
  private readonly relFloor: number;
  private readonly absFloor: number;
  private readonly pInit: number;
  private readonly pMax: number;
  // θ = [slope·xScale, intercept]; P is symmetric 2×2 stored as p11, p12, p22.
  private t1 = 0;
  private t2 = 0;
  private p11: number;
  private p12 = 0;
  private p22: number;
  /** running mean of |residual| / prediction; starts at a guess of 8% noise */
  private scale = 0.08;
  private outlierRun = 0;
  private outlierSign = 0;
  private pending: Array<[number, number]> = [];
  private count = 0;
  private changes = 0;

  constructor(options: AffineRlsOptions) {
    if (!(options.forgetting > 0 && options.forgetting <= 1)) throw new RangeError('forgetting must be in (0, 1]');
    if (!(options.xScale > 0)) throw new RangeError('xScale must be positive');
    this.lambda = options.forgetting;
    this.xScale = options.xScale;
    this.outlierScale = options.outlierScale ?? 4;
    this.changeAfter = options.changeAfter ?? 2;
    this.relFloor = options.relativeFloor ?? 0.01;
    this.absFloor = options.absoluteFloor ?? 0.01;
    this.pMax = UNINFORMED;
    if (options.prior) {
      this.t1 = Math.max(0, options.prior.slope) * this.xScale;
      this.t2 = Math.max(0, options.prior.intercept);
      this.pInit = 1 / (options.priorWeight ?? 1);
    } else {
      this.pInit = UNINFORMED;
    }
    this.p11 = this.pInit;
    this.p22 = this.pInit;
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

  /** How many times the change detector has reset the fit. */
  get changesDetected(): number {
    return this.changes;
  }

  /**
   * The noise's standard deviation relative to the prediction, estimated robustly. Timings scatter
   * in proportion to their size (a 300 ms inference jitters more than a 3 ms one), so the scale is
   * kept relative.
   */
  get relativeNoise(): number {
    return this.scale * MEAN_ABS_TO_SIGMA;
  }

  /** The noise's standard deviation expected at x, in y units. */
  noiseAt(x: number): number {
    const level = Math.max(this.predict(x), this.absFloor);
    return Math.max(this.relativeNoise, this.relFloor) * level;
  }

  predict(x: number): number {
    return this.slope * x + this.t2;
  }

  /**
   * Learns one sample. Returns 'outlier' for a sample far off the fit (clipped: it may be noise, or
   * the first sign of a change worth confirming), 'change' when it confirmed a change and the fit
   * restarted, 'ignored' for an unusable sample, 'ok' otherwise.
   */
  update(x: number, y: number): SampleVerdict {
    if (!Number.isFinite(x) || !Number.isFinite(y) || x < 0 || y < 0) return 'ignored';
    const predicted = this.predict(x);
    const e = y - predicted;
    const bound = this.outlierScale * this.noiseAt(x);
    this.count++;
    // The first samples define both the fit and the noise scale: nothing to compare them against yet.
    const warm = this.count <= 2 && this.pInit === UNINFORMED;
    if (!warm && Math.abs(e) > bound) {
      const sign = Math.sign(e);
      this.outlierRun = sign === this.outlierSign ? this.outlierRun + 1 : 1;
      this.outlierSign = sign;
      this.pending.push([x, y]);
      if (this.pending.length > this.changeAfter) this.pending.shift();
      if (this.outlierRun >= this.changeAfter) {
        this.restartFrom(this.pending);
        return 'change';
      }
      this.step(x, Math.sign(e) * bound);
      return 'outlier';
    }
    this.outlierRun = 0;
    this.pending = [];
    if (!warm) this.scale = 0.9 * this.scale + 0.1 * (Math.abs(e) / Math.max(predicted, y, this.absFloor));
    this.step(x, e);
    return 'ok';
  }

  /** Forget everything learned before the detected change and fit the recent outliers exactly. */
  private restartFrom(samples: Array<[number, number]>): void {
    this.changes++;
    this.p11 = UNINFORMED;
    this.p12 = 0;
    this.p22 = UNINFORMED;
    const ys = samples.map(([, y]) => y);
    const mean = ys.reduce((s, y) => s + y, 0) / ys.length;
    // Keep the old shape scaled to the new level, so a single x value still gives a sensible slope.
    const old = samples.reduce((s, [x]) => s + this.predict(x), 0) / samples.length;
    if (old > 0) {
      const ratio = mean / old;
      this.t1 *= ratio;
      this.t2 *= ratio;
    }
    for (const [x, y] of samples) this.step(x, y - this.predict(x));
    this.outlierRun = 0;
    this.pending = [];
  }

  private step(x: number, e: number): void {
    const u = x / this.xScale;
    // k = Pφ / (λ + φᵀPφ), φ = [u, 1]
    const pu1 = this.p11 * u + this.p12;
    const pu2 = this.p12 * u + this.p22;
    const denom = this.lambda + u * pu1 + pu2;
    const k1 = pu1 / denom;
    const k2 = pu2 / denom;
    this.t1 += k1 * e;
    this.t2 += k2 * e;
    // P = (P − k φᵀP) / λ
    let n11 = (this.p11 - k1 * pu1) / this.lambda;
    let n12 = (this.p12 - k1 * pu2) / this.lambda;
    let n22 = (this.p22 - k2 * pu2) / this.lambda;
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
