import { AffineRls } from './affine-rls.js';
import { Cusum, type CusumOptions } from './cusum.js';

/**
 * An affine model y = slope·x + intercept learned from live timings, as the engine keeps one for
 * its own compute time (x = input steps) and one per link (x = bytes on the wire). It combines:
 *
 * - a tracking fit: RLS with the configured forgetting factor, Huber-clipped at 2.5σ, restarted
 *   from the new regime's samples when the CUSUM detector on its standardized residuals raises an
 *   alarm (a large step is followed after two samples; noise is not chased);
 * - a hedging fit: RLS over time (each sample weighted by the time since the previous one, memory
 *   `hedgeMemoryMs`) that never restarts, so it estimates the time-average of whatever the
 *   tracking fit cannot follow (a link flapping faster than samples arrive);
 * - a choice between them by their recent time-weighted squared prediction errors (memory
 *   `selectMemoryMs`): the estimate whose past predictions were closer serves decisions now.
 *
 * The noise is tracked relative to its level (the prediction for compute times, which scatter in
 * proportion to their size; mostly the RTT for links), from samples within the clip where the
 * tracking fit knows y(x).
 */
export interface TrackedFitOptions {
  /** per-sample forgetting factor of the tracking fit, in (0, 1] */
  forgetting: number;
  /** typical magnitude of x (see AffineRls) */
  xScale: number;
  prior?: { slope: number; intercept: number };
  priorWeight?: number;
  /** the change detector's parameters (cusum.ts) */
  cusum?: CusumOptions;
  /** memory of the hedging fit, ms (default 60 000) */
  hedgeMemoryMs?: number;
  /** memory of the comparison between the two fits, ms (default 20 000) */
  selectMemoryMs?: number;
  /** the noise's standard deviation is taken as at least this fraction of the prediction (default 0.01) */
  relativeFloor?: number;
  /** ... and at least this much, in y units (default 0.01) */
  absoluteFloor?: number;
  /**
   * How much of the slope's part of the prediction the noise scales with (default 1): compute times
   * scatter in proportion to the whole time; a network round trip's scatter is mostly the RTT's,
   * far less the bytes' serialisation time.
   */
  slopeNoiseShare?: number;
  /**
   * Remember the regimes before the last changes (default false). A link that alternates between
   * two states (a radio cell's load, a route) then switches back on the first sample the old
   * regime explains and the current one does not, instead of waiting for an alarm and re-learning
   * what it knew twenty seconds ago.
   */
  regimeMemory?: boolean;
  /**
   * Samples at x below this inform only the intercept (default 0: every sample fits both), and a
   * change seen only on such samples restarts only the intercept. A link's requests of a few
   * hundred bytes show their transfer time far below the round trip's jitter: fitting a slope to
   * them read 10 ms of jitter as a 0.4 Mbit/s link (or an infinitely fast one), and a change of
   * round trip seen on them says nothing of the bandwidth.
   */
  slopeEvidenceX?: number;
}

export const TRACKED_FIT_DEFAULTS = { hedgeMemoryMs: 60_000, selectMemoryMs: 20_000 } as const;

/**
 * 'outlier': beyond the clip (learned clipped); 'suspect': the detector is halfway to an alarm, a
 * confirming sample now would settle it; 'change': an alarm, the tracking fit restarted;
 * 'switch': the sample matched the remembered previous regime, which now serves again (nothing
 * to re-measure); 'ignored': unusable.
 */
export type SampleVerdict = 'ok' | 'outlier' | 'suspect' | 'change' | 'switch' | 'ignored';

/** E|e| = σ·√(2/π) for Gaussian noise, so σ ≈ 1.2533 · mean absolute residual. */
const MEAN_ABS_TO_SIGMA = 1.2533;
/** The noise estimates average over about 1/SCALE_GAIN samples: steady, yet following a noisier world. */
const SCALE_GAIN = 0.05;
/** Innovations are clipped at this many σ when learned (Huber; 99% efficient on Gaussian noise). */
const HUBER = 2.5;
/**
 * The record (time-weighted squared errors over the comparison's memory, in mean squared residuals)
 * the hedge must have to keep serving through an alarm: calm conditions stay within a few units,
 * an RTT flipping every 2 s gives 60-200.
 */
const HEDGE_EVIDENCE = 20;
/**
 * The comparison keeps at least this share of its record per sample, however long since the last:
 * where samples come minutes apart (a neighbour used for one input in ten, at 0.1 requests/s), a
 * time memory alone left the choice to the last sample's error, a coin toss, and a hedge picked
 * that way served a link it had fitted to one sample until traffic came back (never, when that
 * estimate made the neighbour lose).
 */
const SELECT_MIN_KEEP = 0.8;
/** Samples kept to restart from after an alarm. */
const RECENT = 8;
/** A regime is remembered only once it has absorbed this many samples: its fit means something. */
const ESTABLISHED = 4;
/** Regimes remembered: the one a link alternates with, and room for a false alarm's duplicate or a third state. */
const REGIMES = 3;
/**
 * Switch back to the remembered regime on one sample when the current fit misses it by this many
 * predictive σ, the remembered one explains it within SWITCH_MATCH σ, and the two predictions at
 * that x are SWITCH_APART σ apart: a lone spike rarely lands on the other regime's prediction, and
 * if it does, the next sample raises an alarm as usual.
 */
const SWITCH_MISS = 3;
const SWITCH_MATCH = 2;
const SWITCH_APART = 4;

export class TrackedFit {
  private fast: AffineRls;
  /** the distinct regimes before the last changes (regimeMemory), latest first, with the samples each had absorbed */
  private readonly regimes: Array<{ fit: AffineRls; samples: number }> = [];
  /** samples the tracking fit absorbed since its last restart or switch */
  private fastSamples = 0;
  private readonly regimeMemory: boolean;
  private readonly slopeEvidenceX: number;
  private readonly xScale: number;
  private readonly slow: AffineRls;
  private readonly cusum: Cusum;
  private readonly clip: number;
  private readonly hedgeMemoryMs: number;
  private readonly selectMemoryMs: number;
  private readonly relFloor: number;
  private readonly absFloor: number;
  private readonly slopeNoiseShare: number;
  /** running mean of |residual| / noise level of each fit; starts at a guess of 8% noise */
  private fastScale = 0.08;
  private slowScale = 0.08;
  /** running mean of the tracking fit's squared residual, y units² (NaN until the first) */
  private meanSquare = Number.NaN;
  /** the latest samples, each with its standardized residual against the tracking fit when it came */
  private readonly recent: Array<[number, number, number]> = [];
  private lastAt = Number.NaN;
  /** decayed, time-weighted sum of (fast error² − slow error²) / mean square: positive when the hedge predicted better */
  private advantage = 0;
  private hedged = false;
  private changes = 0;

  constructor(options: TrackedFitOptions) {
    const prior = options.prior ? { prior: options.prior, priorWeight: options.priorWeight ?? 1 } : {};
    this.fast = new AffineRls({ forgetting: options.forgetting, xScale: options.xScale, ...prior });
    this.slow = new AffineRls({ forgetting: 1, xScale: options.xScale, ...prior });
    this.cusum = new Cusum(options.cusum);
    this.clip = this.cusum.clip;
    this.hedgeMemoryMs = options.hedgeMemoryMs ?? TRACKED_FIT_DEFAULTS.hedgeMemoryMs;
    this.selectMemoryMs = options.selectMemoryMs ?? TRACKED_FIT_DEFAULTS.selectMemoryMs;
    this.relFloor = options.relativeFloor ?? 0.01;
    this.absFloor = options.absoluteFloor ?? 0.01;
    this.slopeNoiseShare = options.slopeNoiseShare ?? 1;
    this.regimeMemory = options.regimeMemory ?? false;
    this.slopeEvidenceX = options.slopeEvidenceX ?? 0;
    this.xScale = options.xScale;
  }

  /** The remembered earlier regimes' parameters (regimeMemory), latest first. */
  get alternatives(): Array<{ slope: number; intercept: number }> {
    // Not one the current fit re-learned after a restart: the link is back there, not elsewhere.
    return this.regimes.filter(({ fit }) => !this.alike(fit, this.fast)).map(({ fit }) => ({ slope: fit.slope, intercept: fit.intercept }));
  }

  /** The tracking fit's own parameters (the current regime, even while the hedge serves). */
  get current(): { slope: number; intercept: number } {
    return { slope: this.fast.slope, intercept: this.fast.intercept };
  }

  /**
   * Whether the current fit predicts what the latest remembered regime does (within SWITCH_APART σ
   * of the noise, at no bytes and at xScale): the alarm that saved it was a false one, or the link
   * came back to where it was before any real change.
   */
  matchesLatestRegime(): boolean {
    const latest = this.regimes[0];
    if (!latest) return false;
    return this.alike(latest.fit, this.fast);
  }

  /** Whether two fits predict alike: within SWITCH_APART σ of the noise at no bytes and at xScale. */
  private alike(a: AffineRls, b: AffineRls): boolean {
    return [0, this.xScale].every((x) => Math.abs(a.predict(x) - b.predict(x)) < SWITCH_APART * this.noiseAt(x));
  }

  private get chosen(): AffineRls {
    return this.hedged ? this.slow : this.fast;
  }

  get slope(): number {
    return this.chosen.slope;
  }

  get intercept(): number {
    return this.chosen.intercept;
  }

  predict(x: number): number {
    return this.chosen.predict(x);
  }

  /** Samples absorbed so far. */
  get samples(): number {
    return this.fast.samples;
  }

  /** Alarms of the change detector so far. */
  get changesDetected(): number {
    return this.changes;
  }

  /** True while the hedging fit serves decisions: the world changes faster than the tracking fit follows. */
  get hedging(): boolean {
    return this.hedged;
  }

  /** The noise's standard deviation relative to the noise level (the prediction, for compute). */
  get relativeNoise(): number {
    return this.fastScale * MEAN_ABS_TO_SIGMA;
  }

  /** The noise's standard deviation expected at x, in y units. */
  noiseAt(x: number): number {
    return this.sigma(this.noiseLevel(this.fast, x), this.fastScale);
  }

  /** How much less the tracking fit knows y(x) than one more sample there would tell (see AffineRls.uncertainty). */
  uncertainty(x: number): number {
    return this.fast.uncertainty(x);
  }

  /**
   * The tracking fit's own standard error at x relative to its prediction: how far off y(x) may be
   * because of what the fit has (not) seen, not because of the noise of one measurement.
   */
  relativeError(x: number): number {
    const level = Math.max(this.fast.predict(x), this.absFloor);
    const sigma = this.sigma(this.noiseLevel(this.fast, x), this.fastScale);
    // At least the noise expected at x: long inputs' parameters were learned from noisier samples
    // than the short ones the fit may see now.
    const pooled = Number.isNaN(this.meanSquare) ? sigma * sigma : Math.max(this.meanSquare, sigma * sigma);
    return Math.sqrt(this.fast.uncertainty(x) * pooled) / level;
  }

  update(x: number, y: number, now: number): SampleVerdict {
    if (!Number.isFinite(x) || !Number.isFinite(y) || x < 0 || y < 0) return 'ignored';
    const dt = Number.isNaN(this.lastAt) ? this.hedgeMemoryMs / 100 : Math.max(0, now - this.lastAt);
    this.lastAt = now;
    const slowError = y - this.slow.predict(x);
    const levelOnly = x < this.slopeEvidenceX;
    this.learnSlow(x, y, dt, levelOnly);
    // Without a prior, the first two samples define the fit and the noise: nothing to compare them with.
    if (this.fast.uninformed && this.fast.samples < 2) {
      this.fast.learn(x, y, { levelOnly });
      this.fastSamples++;
      return 'ok';
    }
    const predicted = this.fast.predict(x);
    const noiseLevel = this.noiseLevel(this.fast, x);
    const sigma = this.sigma(noiseLevel, this.fastScale);
    // The prediction's own error adds to the noise: φᵀPφ times the pooled squared residual (the fit
    // is unweighted, so its parameters carry the noise of every length it saw, not just of this one).
    const pooled = Number.isNaN(this.meanSquare) ? sigma * sigma : this.meanSquare;
    const predictive = Math.sqrt(sigma * sigma + this.fast.uncertainty(x) * pooled);
    const e = y - predicted;
    const known = this.fast.uncertainty(x) <= 1;
    // Right after a restart the tracking fit's errors at lengths it has not seen are its missing
    // data, not its tracking: only where it knows y(x) do its errors count against it.
    if (known) this.compare(e, slowError, pooled, dt);
    const r = e / predictive;
    if (this.regimes.length > 0 && Math.abs(r) >= SWITCH_MISS && this.switchBack(x, y, predicted, predictive, sigma, pooled)) return 'switch';
    this.recent.push([x, y, r]);
    if (this.recent.length > RECENT) this.recent.shift();
    const verdict = this.cusum.update(r);
    if (verdict === 'alarm') {
      this.changes++;
      if (this.regimeMemory) this.remember(this.fast.clone(), this.fastSamples);
      this.fastSamples = this.cusum.changeRun;
      const run = this.newRegime(this.recent.slice(-Math.min(this.cusum.changeRun, this.recent.length)));
      this.fast.restartFrom(run, this.slopeEvidenceX > 0 && run.every(([rx]) => rx < this.slopeEvidenceX) ? 'shift' : 'scale');
      this.recent.length = 0;
      // The restarted fit serves at once unless the hedge has clearly earned its place (flapping):
      // near-equal records in calm times must not keep a stale estimate after a real step.
      if (this.advantage < HEDGE_EVIDENCE) {
        this.advantage = Math.min(this.advantage, 0);
        this.hedged = false;
      }
      return 'change';
    }
    this.fast.learn(x, y, { clip: HUBER * predictive, levelOnly });
    this.fastSamples++;
    const outlier = Math.abs(r) > this.clip;
    // The noise is measured only where the fit knows y(x) better than one sample would: right after
    // a restart, errors are the fit's, not the noise's.
    if (!outlier && known) {
      this.fastScale = (1 - SCALE_GAIN) * this.fastScale + SCALE_GAIN * (Math.abs(e) / noiseLevel);
      this.meanSquare = Number.isNaN(this.meanSquare) ? e * e : (1 - SCALE_GAIN) * this.meanSquare + SCALE_GAIN * e * e;
    }
    if (outlier) return 'outlier';
    // Worth confirming at once only when this very sample surprised: noise alone drifts the
    // statistic halfway up far more often than it produces a 3σ sample on top of that.
    return verdict === 'suspect' && Math.abs(r) >= 3 ? 'suspect' : 'ok';
  }

  /**
   * Keeps an established regime for later, latest first, dropping any remembered one it duplicates
   * (a false alarm must not push out the regime the link really alternates with).
   */
  private remember(fit: AffineRls, samples: number): void {
    if (samples < ESTABLISHED) return;
    for (let i = this.regimes.length - 1; i >= 0; i--) if (this.alike((this.regimes[i] as { fit: AffineRls }).fit, fit)) this.regimes.splice(i, 1);
    this.regimes.unshift({ fit, samples });
    if (this.regimes.length > REGIMES) this.regimes.length = REGIMES;
  }

  /**
   * Whether a remembered regime explains a sample the current fit missed; if so it serves again
   * (the current one is remembered in its place, if established) and the sample is learned.
   */
  private switchBack(x: number, y: number, predicted: number, predictive: number, sigma: number, pooled: number): boolean {
    const at = this.regimes.findIndex(({ fit }) => {
      const altPredicted = fit.predict(x);
      // The noise scales with the regime's own level (a slower link's longer transfers scatter more).
      const altSigma = Math.max(sigma, this.sigma(this.noiseLevel(fit, x), this.fastScale));
      const altPredictive = Math.sqrt(altSigma * altSigma + fit.uncertainty(x) * pooled);
      return Math.abs(y - altPredicted) <= SWITCH_MATCH * altPredictive && Math.abs(altPredicted - predicted) >= SWITCH_APART * Math.max(predictive, altPredictive);
    });
    if (at < 0) return false;
    const [chosen] = this.regimes.splice(at, 1) as [{ fit: AffineRls; samples: number }];
    this.changes++;
    this.remember(this.fast, this.fastSamples);
    this.fast = chosen.fit;
    this.fastSamples = chosen.samples;
    this.cusum.reset();
    this.recent.length = 0;
    if (this.advantage < HEDGE_EVIDENCE) {
      this.advantage = Math.min(this.advantage, 0);
      this.hedged = false;
    }
    this.fast.learn(x, y, { clip: HUBER * Math.max(predictive, this.sigma(this.noiseLevel(this.fast, x), this.fastScale)), levelOnly: x < this.slopeEvidenceX });
    this.fastSamples++;
    return true;
  }

  /**
   * The samples since the estimated change point that agree with the latest one (which raised the
   * alarm, so surely belongs to the new regime): off the old fit in the same direction, by at least
   * half as much and by 2σ at least. Noise that nudged the statistic before the change, or a spike early in the
   * run, must not shape the restart.
   */
  private newRegime(run: ReadonlyArray<[number, number, number]>): Array<[number, number]> {
    const last = (run[run.length - 1] as [number, number, number])[2];
    const least = Math.max(0.5 * Math.abs(last), 2);
    return run.filter(([, , r]) => Math.sign(r) === Math.sign(last) && Math.abs(r) >= least).map(([x, y]) => [x, y]);
  }

  private sigma(noiseLevel: number, scale: number): number {
    return Math.max(scale * MEAN_ABS_TO_SIGMA, this.relFloor) * noiseLevel;
  }

  /** The size the noise at x scales with: the intercept and slopeNoiseShare of the slope's part. */
  private noiseLevel(fit: AffineRls, x: number): number {
    return Math.max(fit.intercept + this.slopeNoiseShare * fit.slope * x, this.absFloor);
  }

  /** The hedging fit: weighted by the time each sample stood for, forgetting over time, never restarted. */
  private learnSlow(x: number, y: number, dt: number, levelOnly: boolean): void {
    const memory = this.hedgeMemoryMs;
    const weight = Math.min(Math.max(dt, memory / 1000), memory) / memory;
    const predicted = this.slow.predict(x);
    const level = this.noiseLevel(this.slow, x);
    const warm = this.slow.uninformed && this.slow.samples < 2;
    const sigma = this.sigma(level, this.slowScale);
    this.slow.learn(x, y, warm ? { weight, levelOnly } : { weight, forgetting: Math.exp(-dt / memory), clip: HUBER * sigma, levelOnly });
    if (!warm) this.slowScale = 0.95 * this.slowScale + 0.05 * Math.min(1, Math.abs(y - predicted) / level);
  }

  /**
   * Which fit predicted better lately, each error weighted by the time its prediction stood, in
   * units of the typical squared residual (absolute: decisions weigh milliseconds, not ratios).
   */
  private compare(fastError: number, slowError: number, meanSquare: number, dt: number): void {
    const memory = this.selectMemoryMs;
    const d = (fastError * fastError - slowError * slowError) / Math.max(meanSquare, this.absFloor * this.absFloor);
    this.advantage = this.advantage * Math.max(Math.exp(-dt / memory), SELECT_MIN_KEEP) + d * Math.min(dt, memory) / memory;
    this.hedged = this.advantage > 0;
  }
}
