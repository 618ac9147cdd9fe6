/**
 * When a device should time one of its own inferences to keep its compute model fresh, and at
 * which length. A device learns its speed from the requests it serves; when it serves none (callers
 * abandoned it while it was slow, and it has since recovered) or only some lengths (callers send it
 * only short inputs), its model goes stale where nobody looks, and nobody will look because of it.
 *
 * A run is due, while the local runtime is idle, when
 * - the model's last sample looked surprising (confirm it before the next caller pays for it);
 * - at some calibration length the model lacks data and it matters: one more sample there would
 *   tell more than everything the model remembers about it (uncertainty above 1), and the
 *   prediction's own standard error there exceeds `tolerance` of the prediction (after a restart,
 *   or after long forgetting at lengths no request brings); the most uncertain length is run;
 * - or nothing was learned for `idleMs`: a short run (cycling through the lengths that take at most
 *   IDLE_RUN_MS, or the shortest) tells whether the device's speed changed; if it did, the restarted
 *   model is unsure at the other lengths and the rule above spreads the next runs. While such
 *   checks find nothing new, the wait between them doubles, up to IDLE_BACKOFF × `idleMs`; a change
 *   of the model sets it back to `idleMs`.
 *
 * Runs are paced by a token bucket: device time accrues at `budget` (a share of wall time) up to
 * `budget × BURST_MS`, and a run starts only if its predicted time is covered. So calibration never
 * takes more than `budget` of the device, and short runs go first when the budget is tight.
 */
export interface SelfCalibrationPolicy {
  /** time one run when nothing was learned for this long, ms */
  idleMs: number;
  /** most share of the device's time spent calibrating, 0..1 (0 turns self-calibration off) */
  budget: number;
  /** input lengths to calibrate at (those above the model's maxSteps are skipped) */
  lengths: readonly number[];
  /** relative standard error of a prediction above which a length is worth a run (default 0.2) */
  tolerance?: number;
}

/** The model as self-calibration sees it. */
export interface CalibratedModel {
  predict(n: number): number;
  /** the prediction's own standard error at n, relative to the prediction */
  relativeError(n: number): number;
  /** the prediction's variance at n in units of one sample's noise variance */
  uncertainty(n: number): number;
}

/** Idle checks use runs at most this long: a request arriving meanwhile waits for it. */
const IDLE_RUN_MS = 50;
/** Idle checks that find nothing back off to at most this many times idleMs. */
const IDLE_BACKOFF = 4;
/** The bucket holds at most this much wall time's worth of budget. */
const BURST_MS = 60_000;

/**
 * Whether a run at n is an idle check: the shortest length, or one the model knows (uncertainty at
 * most 1) takes IDLE_RUN_MS or less. Short by the model only where it knows: a restarted fit's
 * slope may be about nothing, and made a run of 128 steps, 1.1 s on an end node, look like one.
 */
export function isIdleCheck(model: CalibratedModel, n: number, shortest: number): boolean {
  return n === shortest || (model.uncertainty(n) <= 1 && model.predict(n) <= IDLE_RUN_MS);
}

export class SelfCalibration {
  private tokensMs = 0;
  private accruedAt = Number.NaN;
  private next = 0;
  private runs = 0;
  private spentMs = 0;
  /** how many times idleMs to wait before the next idle check */
  private idleFactor = 1;
  private changesSeen = 0;

  /** Runs finished so far. */
  get count(): number {
    return this.runs;
  }

  /** Device time spent on them, ms. */
  get totalMs(): number {
    return this.spentMs;
  }

  /**
   * The length to run now, or null. `idle`: the runtime has nothing to do; `quietMs`: time since
   * the model last learned anything; `confirm`: its last sample was surprising; `changes`: how many
   * changes the model has detected so far.
   */
  due(
    policy: SelfCalibrationPolicy,
    model: CalibratedModel,
    maxSteps: number,
    now: number,
    state: { idle: boolean; quietMs: number; confirm: boolean; changes: number },
    matters?: (n: number) => boolean,
  ): number | null {
    if (!(policy.budget > 0)) return null;
    this.accrue(policy.budget, now);
    if (state.changes !== this.changesSeen) {
      this.changesSeen = state.changes;
      this.idleFactor = 1;
    }
    if (!state.idle) return null;
    const all = policy.lengths.filter((n) => n >= 1 && n <= maxSteps);
    // Runs only go where what they may find could change a decision (the caller says where, when it
    // can tell), except a confirmation: a short run that checks the sample just learned.
    const lengths = matters ? all.filter(matters) : all;
    const affordable = (n: number): boolean => model.predict(n) <= this.tokensMs;
    const tolerance = policy.tolerance ?? 0.2;
    let worst: number | null = null;
    let worstError = tolerance;
    for (const n of lengths) {
      if (model.uncertainty(n) <= 1) continue;
      const error = model.relativeError(n);
      if (error > worstError && affordable(n)) {
        worst = n;
        worstError = error;
      }
    }
    if (worst !== null) return worst;
    const idleCheck = state.quietMs >= policy.idleMs * this.idleFactor;
    if (state.confirm || idleCheck) {
      const from = state.confirm ? all : lengths;
      if (from.length === 0) return null;
      const shortest = Math.min(...from);
      const cheap = from.filter((n) => isIdleCheck(model, n, shortest));
      // Cycle through them; skip (for now) one the budget does not cover yet.
      for (let i = 0; i < cheap.length; i++) {
        const n = cheap[(this.next + i) % cheap.length] as number;
        if (affordable(n)) {
          this.next = (this.next + i + 1) % cheap.length;
          if (idleCheck && !state.confirm) this.idleFactor = Math.min(IDLE_BACKOFF, this.idleFactor * 2);
          return n;
        }
      }
    }
    return null;
  }

  /** A run finished after computeMs of device time. */
  spent(computeMs: number): void {
    this.runs++;
    this.spentMs += computeMs;
    this.tokensMs -= computeMs;
  }

  private accrue(budget: number, now: number): void {
    if (!Number.isNaN(this.accruedAt)) {
      this.tokensMs = Math.min(budget * BURST_MS, this.tokensMs + budget * Math.max(0, now - this.accruedAt));
    }
    this.accruedAt = now;
  }
}
