import { TrackedFit } from './tracked-fit.js';
import { evalPiece, type Piece } from './cost-curve.js';
import { LocalQueue, type LocalTicket } from './local-queue.js';
import { BatchQueue } from './batch-queue.js';
import { BatchGain, type ServingModel } from './batching.js';
import { isIdleCheck, SelfCalibration, type SelfCalibrationPolicy } from './self-calibration.js';
import { NeighbourState, type NeighbourOptions } from './neighbour.js';
import { buildAdvertisement, neighbourCost, neighbourServesLocally, rankCandidates, requestBytes, type NeighbourView, type RankInput } from './rank.js';
import { energyJ } from './energy.js';
import { expectedTimeChanged, probabilityChanged } from './probe-value.js';
import {
  msPerByteToMbps,
  type Advertisement,
  type Decision,
  type Estimate,
  type Objective,
  type PayloadModel,
  type PowerModel,
} from './types.js';

const DEFAULT_PROBE_BYTES = 64 * 1024;
/** Smallest large probe: below this, headers and noise swamp the bytes. */
const MIN_PROBE_BYTES = 4 * 1024;
/**
 * A large probe should take about this long to send, and at least four times the RTT's noise: long
 * enough that the bandwidth shows above the jitter, short enough that the radio on a slow uplink is
 * not kept on for nothing (64 KiB at 3 Mbit/s would be 175 ms at 3-4 W).
 */
const PROBE_TARGET_MS = 10;
/**
 * A probe that is to tell a link's two remembered regimes apart makes their predictions differ by
 * this many σ of the RTT's noise: enough for the fit to switch on that one sample (tracked-fit.ts
 * switches at 3σ off the current regime and within 2σ of the other), and no more bytes than that.
 */
const PROBE_SEPARATION_SIGMA = 6;
/**
 * Under the energy objective, the pings' radio energy is kept within this share of the energy the
 * client requests are estimated to cost the end node: a ping is information bought with the very
 * quantity being minimised, and where requests are rare and cheap (a sensor offloading a reading a
 * minute) pings every few seconds would cost more than the requests they inform.
 */
const PING_ENERGY_SHARE = 0.01;
/** A link's ms per byte for a ping's energy while its bandwidth was never measured: 1 Mbit/s. */
const UNMEASURED_MS_PER_BYTE = 0.008;
/**
 * A bandwidth probe's value counts over this many times the requests the models remember: what it
 * tells of the slope stays until the next payload large enough to show it, and a neighbour that
 * loses by the wrong belief is sent none.
 */
const BANDWIDTH_PROBE_HORIZON = 4;
/** The most of the client requests' estimated energy the bandwidth probes to a neighbour may take. */
const VALUED_PROBE_SHARE = 0.03;
/** Client requests remembered (their lengths and times) to value what a probe could find. */
const RECENT_REQUESTS = 32;
/** Standard normal density and upper tail (Abramowitz & Stegun 7.1.26; error below 1.5e-7). */
function normalDensity(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}
function normalUpper(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const tail = 0.5 * ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? tail : 1 - tail;
}

/**
 * The expected regret of choosing by an estimate that is `gap` better than the alternative and
 * uncertain by a standard error `se` (Gaussian): what knowing the truth would save one decision,
 * se · (φ(d) − d·(1 − Φ(d))) with d = gap / se.
 */
export function decisionRegret(gap: number, se: number): number {
  if (!(se > 0)) return 0;
  const d = Math.abs(gap) / se;
  return se * Math.max(0, normalDensity(d) - d * normalUpper(d));
}

/**
 * The expected loss of deciding between a local cost `local`, known to within a relative error
 * `relErr`, and another candidate's `other`, with the error multiplicative (lognormal: a compute
 * time is never negative, and its uncertainty scales with it). Unlike decisionRegret's additive
 * error, a large relative error leaves no regret where the other candidate is many times cheaper.
 */
export function relativeDecisionRegret(local: number, other: number, relErr: number): number {
  if (!(relErr > 0) || !(local > 0) || !(other > 0)) return 0;
  const sigma = Math.log1p(relErr);
  const d = Math.log(other / local) / sigma;
  const grown = local * Math.exp((sigma * sigma) / 2);
  // Choosing the other now: loss when local is really below it. Choosing local: when above it.
  const loss = local > other ? other * (1 - normalUpper(d)) - grown * (1 - normalUpper(d - sigma)) : grown * normalUpper(d - sigma) - other * normalUpper(d);
  return Math.max(0, loss);
}

/**
 * A compute model's relative error at n, no larger than physics allows given the lengths it knows
 * (`known`: where one more sample would tell less than it knows): an affine time with non-negative
 * coefficients lies at n between T(k) and T(k)·n/k for a known k below n (between T(k)·n/k and
 * T(k) above it), so its log is uncertain by at most ln(n/k) / 2 at two standard deviations. A
 * restarted fit that saw lengths 1 and 8 only claimed a relative error of 138 at 128, and an end
 * node 30 times worse than its neighbour there paid for runs at 128 (gen-energy-adversity-1-29).
 */
export function boundedRelativeError(model: { relativeError(n: number): number }, n: number, known: readonly number[]): number {
  const own = model.relativeError(n);
  let bound = Infinity;
  for (const k of known) bound = Math.min(bound, Math.max(Math.abs(Math.log(n / k)) / 2, Math.log1p(model.relativeError(k))));
  return Math.min(own, Math.expm1(bound));
}

/**
 * Whether a device weighs its probes against its own energy (objective energy, its power model
 * known): then its routine pings are a share of its client requests' energy, so it pings each
 * neighbour twice at start and no more until requests come.
 */
export function valuesProbes(objective: Objective, power: PowerModel | undefined): boolean {
  return objective === 'energy' && power !== undefined;
}

export interface EngineOptions {
  /** this device's name */
  device: string;
  neighbours: readonly NeighbourOptions[];
  /** the objective for requests that enter here from clients; requests from peers always minimise latency */
  objective: Objective;
  payload: PayloadModel;
  maxSteps: number;
  /** RLS forgetting factor (runtime/defaults.ts has the default the user gets) */
  forgetting: number;
  /** ping a neighbour not heard from for this long */
  pingIdleMs: number;
  /** how often to retry a neighbour that failed (default min(pingIdleMs, 1000) ms) */
  downRetryMs?: number;
  /** for changeWatchMs after its link changed (the second time within 2 × changeWatchMs), an idle neighbour is pinged this often (default pingIdleMs / 10) */
  pingAfterChangeMs?: number;
  /** how long a link that changed is watched closely (default 6 × pingIdleMs) */
  changeWatchMs?: number;
  /** this device's power draw, for the energy objective */
  power?: PowerModel;
  /** compute prior, replaced by what is measured */
  computePrior?: { perStepMs: number; fixedMs: number };
  /** false for a pure router with no model of its own (default true) */
  canCompute?: boolean;
  /** requests the local runtime serves at once (default 1); serving.concurrency when serving is given */
  concurrency?: number;
  /**
   * how the local runtime serves: with maxBatch above 1 its queue is modelled as batches, and a
   * request's cost there is its expected wait plus the service time of the batch it would run in
   * (batching.ts), learned from the batch each reply ran in
   */
  serving?: ServingModel;
  /**
   * most payload of the larger of the two alternating ping sizes, so pings also measure bandwidth
   * (default 64 KiB); on a slow link the probe is cut to about PROBE_TARGET_MS of transfer
   */
  probeBytes?: number;
  /**
   * Under the energy objective, the pings' radio energy is kept within this share of the client
   * requests' estimated energy (default PING_ENERGY_SHARE; Infinity: no budget).
   */
  pingEnergyShare?: number;
  /** bytes a ping reply takes (default 256) */
  pingReplyBytes?: number;
  /** most pieces in an advertised curve (default 8) */
  maxPieces?: number;
  /** current time in ms; injected so simulation and tests control it */
  clock: () => number;
}

export interface OffloadTicket {
  readonly id: number;
  readonly target: string;
  readonly n: number;
  readonly sentAt: number;
  readonly bytes: number;
}

/** What the caller measured for one offload. */
export interface OffloadResult {
  roundTripMs: number;
  /** the callee's own elapsed time for the request (its crime-remote-ms) */
  calleeElapsedMs: number;
  advertisement?: Advertisement;
}

export interface PingResult {
  roundTripMs: number;
  calleeElapsedMs: number;
  /** the ping's request payload in bytes */
  bytes: number;
  advertisement: Advertisement;
}

export interface PlannedPing {
  name: string;
  /** request payload to send, in bytes */
  bytes: number;
}

/** Input lengths fromSteps..toSteps go to target ('local' or a neighbour's name). */
export interface ThresholdRange {
  fromSteps: number;
  toSteps: number;
  target: string;
}

export interface EngineSnapshot {
  device: string;
  compute: {
    perStepMs: number;
    fixedMs: number;
    samples: number;
    changes: number;
    /** self-calibration runs finished, and the device time they took */
    selfCalibrations: number;
    selfCalibrationMs: number;
  };
  queueMs: number;
  queueLength: number;
  /** a batching runtime: its largest batch, a further request's marginal cost (share of a lone run), the batch a request arriving now would run in */
  batching?: { maxBatch: number; marginal: number; expectedBatch: number };
  neighbours: Array<{
    name: string;
    rttMs: number;
    bandwidthMbps: number;
    samples: number;
    down: boolean;
    idleMs: number;
    advertised: boolean;
    queueMs: number;
  }>;
}

/**
 * The distributed mapping engine of one device (CRIME): per request, the argmin of the estimated
 * cost over {local, each neighbour}; models learned from the timestamps of real requests and of
 * pings. Pure: no I/O, time from the injected clock. The mapper and the simulator drive it.
 */
export class MappingEngine {
  readonly device: string;
  readonly objective: Objective;
  readonly payload: PayloadModel;
  readonly maxSteps: number;
  private readonly clock: () => number;
  private readonly power: PowerModel | undefined;
  private readonly compute: TrackedFit | null;
  private readonly queue: LocalQueue | BatchQueue;
  /** what a batch costs against a lone run; null when the runtime does not batch */
  private readonly gain: BatchGain | null;
  private readonly serving: ServingModel;
  private readonly neighbours: NeighbourState[];
  private readonly byName = new Map<string, NeighbourState>();
  private readonly pingIdleMs: number;
  private readonly downRetryMs: number;
  private readonly pingAfterChangeMs: number;
  private readonly changeWatchMs: number;
  private readonly probeBytes: number;
  private readonly pingEnergyShare: number;
  private readonly pingReplyBytes: number;
  private readonly maxPieces: number;
  private localAvailable = true;
  private readonly selfCalibration = new SelfCalibration();
  private readonly calibrating = new Set<number>();
  /** when the compute model last learned anything */
  private lastComputeAt = -Infinity;
  /** the compute model's last sample was surprising: a calibration run would confirm or dismiss it */
  private computeSuspect = false;
  /**
   * Under the energy objective every probe costs the radio energy of its bytes, so a link that
   * alternates between two remembered regimes is probed when the probe is worth it (probe-value.ts),
   * not on a fixed schedule.
   */
  private readonly valueProbing: boolean;
  /** lengths and times of the latest client requests (a ring): what a recovered link would be worth */
  private readonly recentN = new Float64Array(RECENT_REQUESTS);
  private readonly recentAt = new Float64Array(RECENT_REQUESTS);
  private recentCount = 0;
  private recentNext = 0;
  /**
   * Whether a peer has ever asked this device to decide: then its compute model also serves its
   * callers (through the advertisement, under latency), not only its own energy decisions.
   */
  private servesPeers = false;
  /** under the energy objective: the client requests' estimated energy, J (the ping budgets' base) */
  private requestsJ = 0;
  /** decisions a compute sample informs before the model forgets it: 1 / (1 − forgetting) */
  private readonly memory: number;

  constructor(options: EngineOptions) {
    const forgetting = options.forgetting;
    this.device = options.device;
    this.objective = options.objective;
    this.payload = options.payload;
    this.maxSteps = options.maxSteps;
    this.clock = options.clock;
    this.power = options.power;
    this.compute =
      options.canCompute === false
        ? null
        : new TrackedFit({
            forgetting,
            xScale: 100,
            ...(options.computePrior
              ? { prior: { slope: options.computePrior.perStepMs, intercept: options.computePrior.fixedMs } }
              : {}),
          });
    this.serving = options.serving ?? { maxBatch: 1, maxDelayMs: 0, concurrency: options.concurrency ?? 1 };
    if (this.serving.maxBatch > 1) {
      const gain = new BatchGain(forgetting);
      this.gain = gain;
      this.queue = new BatchQueue(this.serving, (steps, batch) => (this.compute ? this.compute.predict(steps) * gain.factor(batch) : 0));
    } else {
      this.gain = null;
      this.queue = new LocalQueue(this.serving.concurrency);
    }
    this.memory = 1 / Math.max(1e-3, 1 - forgetting);
    this.valueProbing = valuesProbes(options.objective, options.power);
    this.neighbours = options.neighbours.map((o) => new NeighbourState(o, forgetting, this.valueProbing));
    for (const nb of this.neighbours) this.byName.set(nb.name, nb);
    this.pingIdleMs = options.pingIdleMs;
    this.downRetryMs = options.downRetryMs ?? Math.min(this.pingIdleMs, 1000);
    this.pingAfterChangeMs = options.pingAfterChangeMs ?? this.pingIdleMs / 10;
    this.changeWatchMs = options.changeWatchMs ?? 6 * this.pingIdleMs;
    // Large enough that the two ping sizes differ by milliseconds, not by noise, on a fast link.
    this.probeBytes = options.probeBytes ?? DEFAULT_PROBE_BYTES;
    this.pingEnergyShare = options.pingEnergyShare ?? PING_ENERGY_SHARE;
    this.pingReplyBytes = options.pingReplyBytes ?? 256;
    this.maxPieces = options.maxPieces ?? 8;
  }

  get neighbourNames(): string[] {
    return this.neighbours.map((n) => n.name);
  }

  /** The local compute model T(n) = slope·n + intercept, or null if this device cannot compute. */
  computePiece(): Piece | null {
    return this.compute ? { slope: this.compute.slope, intercept: this.compute.intercept } : null;
  }

  /**
   * This device as a candidate now: its compute piece and queue wait. For a batching runtime, the
   * wait until a request's run would start and the piece of that run (the lone run's piece times
   * what a batch of that size costs more), so local(n) + queueMs is the request's expected latency.
   */
  private localView(now: number): { compute: Piece; queueMs: number } {
    const piece = this.computePiece() as Piece;
    if (!this.gain) return { compute: piece, queueMs: (this.queue as LocalQueue).waitMs(now) };
    const outlook = this.queue.outlook(now);
    const f = this.gain.factor(outlook.batch);
    return { compute: { slope: piece.slope * f, intercept: piece.intercept * f }, queueMs: outlook.waitMs };
  }

  /**
   * The work one more request adds to this device's queue, where requests share runs: a lone
   * run's piece times the larger of the marginal cost of a further request and a full batch's
   * share per request. Undefined without batching (then it is the piece itself).
   */
  private addedPiece(): Piece | undefined {
    if (!this.gain || !this.compute) return undefined;
    const share = Math.max(this.gain.marginal, this.gain.factor(this.serving.maxBatch) / this.serving.maxBatch);
    return { slope: this.compute.slope * share, intercept: this.compute.intercept * share };
  }

  /** Ranks local and every usable neighbour for an input of n steps. */
  decide(n: number, origin: 'client' | 'peer' = 'client'): Decision {
    const now = this.clock();
    const objective = origin === 'client' ? this.objective : 'latency';
    if (origin === 'peer') this.servesPeers = true;
    if (origin === 'client') {
      this.recentN[this.recentNext] = n;
      this.recentAt[this.recentNext] = now;
      this.recentNext = (this.recentNext + 1) % RECENT_REQUESTS;
      if (this.recentCount < RECENT_REQUESTS) this.recentCount++;
    }
    const ranked = this.rank(n, objective, now);
    if (origin === 'client') this.requestsJ += ranked[0]?.energyJ ?? 0;
    return { n, objective, choice: ranked[0] ?? null, ranked };
  }

  /**
   * What decide(n) would rank now for a client's request, learning and recording nothing: for
   * showing the cost curves (the mapper's /ui), not for serving.
   */
  estimate(n: number): Estimate[] {
    return this.rank(n, this.objective, this.clock());
  }

  private rank(n: number, objective: Objective, now: number): Estimate[] {
    const views = this.views(now);
    const local = this.canServeLocally ? this.localView(now) : null;
    return rankCandidates({ n, objective, payload: this.payload, power: this.power, local, neighbours: views });
  }

  /**
   * Fixed input-length thresholds from what the engine believes now, queues left out: for every
   * length 1..maxSteps the cheapest candidate under `objective`, as ranges. Null until the initial
   * calibration is complete: every neighbour has answered its first two pings (RTT and bandwidth)
   * and advertised its costs, or is down. The `threshold` mapping policy fixes these once.
   */
  staticThresholds(objective: Objective): ThresholdRange[] | null {
    if (this.neighbours.some((nb) => !nb.down && (nb.link.samples < 2 || !nb.hasAdvertisement))) return null;
    const now = this.clock();
    const neighbours = this.views(now).map((v) => ({ ...v, queueMs: 0 }));
    const local = this.canServeLocally ? { compute: this.computePiece() as Piece, queueMs: 0 } : null;
    const out: ThresholdRange[] = [];
    for (let n = 1; n <= this.maxSteps; n++) {
      const target = rankCandidates({ n, objective, payload: this.payload, power: this.power, local, neighbours })[0]?.target ?? 'local';
      const last = out[out.length - 1];
      if (last && last.target === target) last.toSteps = n;
      else out.push({ fromSteps: n, toSteps: n, target });
    }
    return out;
  }

  startLocal(n: number): LocalTicket {
    const estimate = this.compute ? this.compute.predict(n) : 0;
    return this.queue.enqueue(n, estimate, this.clock());
  }

  /**
   * A local inference finished: its compute time teaches the compute model. `batch`: the run it
   * was part of, as the runtime's reply says (its size and its longest sequence's steps). A run of
   * one teaches the lone-run model; a larger one teaches what a batch costs against it.
   */
  finishLocal(ticket: LocalTicket, computeMs: number, batch?: { size: number; steps: number }): void {
    this.queue.finish(ticket, this.clock());
    if (this.calibrating.delete(ticket.id)) this.selfCalibration.spent(computeMs);
    if (batch !== undefined && batch.size > 1) {
      if (this.gain && this.compute) this.gain.observe(batch.size, computeMs / this.compute.predict(batch.steps));
      return;
    }
    this.observeCompute(ticket.n, computeMs);
  }

  /** A local inference failed: it leaves the queue and teaches nothing. */
  abortLocal(ticket: LocalTicket): void {
    this.queue.finish(ticket, this.clock());
    this.calibrating.delete(ticket.id);
  }

  /** Learns from a compute time measured outside a request, e.g. warm-up calibration. */
  observeCompute(n: number, computeMs: number): void {
    if (!this.compute) return;
    const now = this.clock();
    const verdict = this.compute.update(n, computeMs, now);
    if (verdict === 'ignored') return;
    this.lastComputeAt = now;
    this.computeSuspect = verdict === 'suspect' || verdict === 'outlier';
  }

  /**
   * The input length of a self-calibration run to start now, or null (self-calibration.ts says
   * when one is due). The caller runs it through the local runtime between startCalibration and
   * finishLocal (or abortLocal), so it queues like a request and its time is learned like one.
   */
  dueCalibration(policy: SelfCalibrationPolicy): number | null {
    const compute = this.compute;
    if (!compute) return null;
    const now = this.clock();
    // Only an entry that no peer relies on may skip lengths by what its own decisions need: a device
    // that serves callers advertises its model to them (a run is what notices a recovered slow
    // gateway).
    const lengths = policy.lengths.filter((n) => n >= 1 && n <= this.maxSteps);
    // Under latency the idle checks hold up next to nothing: they go on, they are what notices the
    // entry's own change of speed, or a model that a few noisy samples set wrong (isIdleCheck: only
    // where the model knows the run is short; gen-latency-adversity-1-94, +5.5 % -> +0.5 %).
    const shortest = Math.min(...lengths);
    const cheap = (n: number): boolean => this.objective === 'latency' && isIdleCheck(compute, n, shortest);
    const weighs = (this.valueProbing || this.objective === 'latency') && !this.servesPeers;
    const matters = weighs ? (n: number): boolean => cheap(n) || this.calibrationWorth(n, lengths, now) : undefined;
    return this.selfCalibration.due(
      policy,
      compute,
      this.maxSteps,
      now,
      {
        idle: this.queue.length === 0,
        quietMs: now - this.lastComputeAt,
        confirm: this.computeSuspect,
        changes: compute.changesDetected,
      },
      matters,
    );
  }

  /**
   * Whether a self-calibration run at n is worth its own energy (value of information). Each recent
   * client request whose length is nearer n than any other calibration length stands for the
   * decisions a run at n informs; each would lose, by deciding on the current model, its expected
   * regret (relativeDecisionRegret between local and the best neighbour, local uncertain by the
   * model's relative standard error there, bounded by the lengths it knows). Summed over the requests the model remembers (1 / (1 − forgetting)
   * of them, at the recent mix of lengths), that must reach the run's own cost: its energy, or
   * under latency the wait of the requests arriving while it holds the device. So an input length
   * that always goes to a neighbour by a wide margin, or a near tie where being wrong costs little,
   * is not calibrated locally at the price of a long run (gen-latency-adversity-1-66: an MCU end
   * node's runs at 128 steps took 1.5 s each and held up the requests behind them, +10.8 %).
   */
  private calibrationWorth(n: number, lengths: readonly number[], now: number): boolean {
    const compute = this.compute;
    const count = this.recentCount;
    if (!compute || count === 0) return true;
    const views = this.views(now);
    // No neighbour to choose instead: the run could change no decision.
    if (views.length === 0) return false;
    const base = { objective: this.objective, payload: this.payload, power: this.power, local: { compute: this.computePiece() as Piece, queueMs: 0 }, neighbours: views };
    const runLocal = rankCandidates({ ...base, n }).find((e) => e.kind === 'local')?.cost ?? 0;
    const known = lengths.filter((l) => compute.uncertainty(l) <= 1);
    const oldest = this.oldestRecent(now);
    // Under latency a run costs the wait of the requests that arrive while it holds the device:
    // at the recent rate, rate × run² / 2 (a long run on a slow end node holds up several).
    const runCost = this.objective === 'latency' ? ((count / Math.max(now - oldest, 1)) * runLocal * runLocal) / 2 : runLocal;
    let regret = 0;
    for (let i = 0; i < count; i++) {
      const m = this.recentN[i] as number;
      let nearest = n;
      for (const l of lengths) if (Math.abs(Math.log(m / l)) < Math.abs(Math.log(m / nearest))) nearest = l;
      if (nearest !== n) continue;
      const ranked = rankCandidates({ ...base, n: m });
      const local = ranked.find((e) => e.kind === 'local');
      const other = ranked.find((e) => e.kind !== 'local');
      if (!local || !other) continue;
      regret += relativeDecisionRegret(local.cost, other.cost, boundedRelativeError(compute, m, known));
    }
    return (regret * this.memory) / count >= runCost;
  }

  startCalibration(n: number): LocalTicket {
    const ticket = this.startLocal(n);
    this.calibrating.add(ticket.id);
    this.computeSuspect = false;
    return ticket;
  }

  startOffload(target: string, n: number): OffloadTicket {
    const nb = this.neighbour(target);
    const now = this.clock();
    const view = nb.view(now);
    const serves = view !== null && view.local !== null && neighbourServesLocally(view, n);
    const compute = serves && view.local ? evalPiece(view.local, n) : 0;
    // Its reply is due after the callee's whole part (its queue and compute, or its route onward),
    // not its compute alone: a request it forwards would otherwise look overdue one link's round
    // trip after it was sent, and that false evidence stops a chain of offloads.
    const expected = view !== null ? neighbourCost(view, n) : 0;
    // What it adds to the callee's own queue: its compute, or where it batches only its share of a
    // run; nothing when it passes the request on.
    const added = serves && view.added ? evalPiece(view.added, n) : compute;
    const bytes = requestBytes(this.payload, n);
    return { id: nb.sent(now, bytes, expected, added), target, n, sentAt: now, bytes };
  }

  finishOffload(ticket: OffloadTicket, result: OffloadResult): void {
    const nb = this.neighbour(ticket.target);
    const networkMs = result.roundTripMs - result.calleeElapsedMs;
    nb.heard(this.clock(), ticket.bytes + this.payload.outputBytes, networkMs, result.advertisement, ticket.id);
  }

  /**
   * An offload failed: it no longer loads the neighbour. `down` (the default): the neighbour itself
   * failed, skip it until a ping succeeds; false: it answered that something behind it failed.
   */
  failOffload(ticket: OffloadTicket, down = true): void {
    const nb = this.neighbour(ticket.target);
    nb.forget(ticket.id);
    if (down) nb.down = true;
  }

  /**
   * Whether this device's own runtime can serve: when it cannot, local is no candidate and the
   * advertisement offers no local piece, so callers only see the routes through this device.
   */
  setLocalAvailable(available: boolean): void {
    this.localAvailable = available;
  }

  get canServeLocally(): boolean {
    return this.compute !== null && this.localAvailable;
  }

  /**
   * Neighbours due a ping: not yet probed twice, re-probing after a detected link change, with a
   * surprising last reply, idle for pingIdleMs (pingAfterChangeMs while a link that flaps is
   * watched: it may change back), or down for downRetryMs. The payload alternates
   * between empty and probeBytes so pings measure bandwidth as well as RTT.
   */
  duePings(): PlannedPing[] {
    const now = this.clock();
    const due: PlannedPing[] = [];
    // Only for an entry that no peer relies on: its pings also keep its callers' view fresh. Each
    // neighbour has an equal share: one shared pool went, every time it came back, to the cheap
    // pings of a neighbour that lost anyway, and a dear probe to the one that wins never went out
    // (gen-energy-nominal-1-47, +5.8 %); and one pool saved up for a dear probe starved the rest.
    const budgeted = this.valueProbing && !this.servesPeers && Number.isFinite(this.pingEnergyShare);
    // The first two pings (RTT and bandwidth, before any traffic) are outside the budget.
    // So is a retry of a neighbour that failed: until it answers, everything it served costs its
    // replacement. `pool`: the routine pings' budget, or the bandwidth probes' (VALUED_PROBE_SHARE).
    const affordable = (nb: NeighbourState, bytes: number, pool: 'pingsJ' | 'valuedProbesJ' = 'pingsJ'): boolean => {
      if (!budgeted || nb.pingsSent < 2 || nb.down) return true;
      const share = ((pool === 'pingsJ' ? this.pingEnergyShare : VALUED_PROBE_SHARE) * this.requestsJ) / this.neighbours.length;
      const j = this.pingJ(nb, bytes);
      if (j > share - nb[pool]) return false;
      // Charged when planned, on the link as believed: what the budget allowed for.
      nb[pool] += j;
      return true;
    };
    for (const nb of this.neighbours) {
      if (nb.pingInFlight) continue;
      const quiet = now - Math.max(nb.lastContact, nb.lastUsed);
      // A link is watched closely only once it has shown it flaps (two changes within twice the
      // watch): an isolated change is re-probed once, not paid for with half a minute of pings.
      const watched = now - nb.lastChangeAt < this.changeWatchMs && nb.lastChangeAt - nb.previousChangeAt < 2 * this.changeWatchMs;
      // A link with a remembered other regime, under the energy objective: an empty ping now and
      // then keeps the neighbour's advertisement and RTT fresh; the bandwidth probe goes out when
      // what it may find is worth its energy.
      const valued = this.valueProbing && !nb.down && nb.pingsSent >= 2 && nb.reprobe === 0 && !nb.confirmWanted;
      const probe = valued ? this.valuedProbe(nb, now) : null;
      if (typeof probe === 'number') {
        // Its value was weighed against its energy already (valuedProbe): outside the budget.
        due.push({ name: nb.name, bytes: probe });
        continue;
      }
      // A bandwidth probe takes the payload's turn: empty pings in between give the fit a second
      // size (probes all of one size leave round trip and bandwidth one equation for two unknowns).
      if (valued && quiet >= this.pingIdleMs && nb.pingsSent % 2 === 1) {
        // Within a budget of its own, VALUED_PROBE_SHARE of the requests' energy per neighbour: the
        // value it weighs rests on the link fit's own standard error, which forgetting keeps from
        // shrinking where requests are far larger than a probe (an MCU end node paid 20 % of its
        // energy in probes to a neighbour it never used); within the routine pings' budget the
        // probes that mattered came too late (gen-energy-adversity-1-46 +4 % -> +34 %).
        const bytes = this.bandwidthProbe(nb, now);
        if (bytes !== null) {
          if (affordable(nb, bytes, 'valuedProbesJ')) due.push({ name: nb.name, bytes });
          continue;
        }
      }
      if (probe === 'wait') {
        if (quiet >= this.pingIdleMs && affordable(nb, 0)) due.push({ name: nb.name, bytes: 0 });
        continue;
      }
      // Nothing remembered would pay (or nothing is remembered): the usual pace, both sizes in turn,
      // but under the energy objective never the close watch of a flapping link.
      const wait = nb.down ? this.downRetryMs : watched && !this.valueProbing ? this.pingAfterChangeMs : this.pingIdleMs;
      // The first two pings go out back to back: RTT and bandwidth are both known before traffic.
      // After a detected change, two more (one of each size) re-measure both at once.
      // A reply far off the model is confirmed or dismissed by a ping at once, not by the next request.
      if (nb.pingsSent < 2 || nb.reprobe > 0 || nb.confirmWanted || quiet >= wait) {
        const bytes = this.pingCarriesPayload(nb, now) ? this.probeSize(nb) : 0;
        if (affordable(nb, bytes)) due.push({ name: nb.name, bytes });
      }
    }
    return due;
  }

  pingSent(name: string): void {
    const nb = this.neighbour(name);
    nb.pingInFlight = true;
    nb.pingsSent++;
    if (nb.reprobe > 0) nb.reprobe--;
    nb.confirmWanted = false;
    nb.lastUsed = this.clock();
  }

  pingResult(name: string, result: PingResult): void {
    const nb = this.neighbour(name);
    nb.pingInFlight = false;
    nb.heard(this.clock(), result.bytes + this.pingReplyBytes, result.roundTripMs - result.calleeElapsedMs, result.advertisement);
  }

  pingFailed(name: string): void {
    const nb = this.neighbour(name);
    nb.pingInFlight = false;
    // A failed ping is not one of the first two (RTT and bandwidth, outside the energy budget): they
    // go out again once the neighbour answers. An entry whose gateway started after it had one
    // answer and, under the energy objective, no budget for the second before traffic.
    if (nb.pingsSent <= 2) nb.pingsSent--;
    nb.down = true;
  }

  /** This device's cost curve for its callers: own compute + queue, and its routes onward. */
  advertise(): Advertisement {
    const now = this.clock();
    const local = this.canServeLocally ? this.localView(now) : null;
    const advertisement = buildAdvertisement(local?.compute ?? null, local?.queueMs ?? this.queue.outlook(now).waitMs, this.views(now), this.payload, {
      maxSteps: this.maxSteps,
      maxPieces: this.maxPieces,
    });
    const added = local ? this.addedPiece() : undefined;
    return added ? { ...advertisement, added } : advertisement;
  }

  snapshot(): EngineSnapshot {
    const now = this.clock();
    return {
      device: this.device,
      compute: {
        perStepMs: this.compute?.slope ?? 0,
        fixedMs: this.compute?.intercept ?? 0,
        samples: this.compute?.samples ?? 0,
        changes: this.compute?.changesDetected ?? 0,
        selfCalibrations: this.selfCalibration.count,
        selfCalibrationMs: this.selfCalibration.totalMs,
      },
      queueMs: this.queue.outlook(now).waitMs,
      queueLength: this.queue.length,
      ...(this.gain ? { batching: { maxBatch: this.serving.maxBatch, marginal: this.gain.marginal, expectedBatch: this.queue.outlook(now).batch } } : {}),
      neighbours: this.neighbours.map((nb) => ({
        name: nb.name,
        rttMs: nb.link.intercept,
        bandwidthMbps: msPerByteToMbps(nb.link.slope),
        samples: nb.link.samples,
        down: nb.down,
        idleMs: now - Math.max(nb.lastContact, nb.lastUsed),
        advertised: nb.hasAdvertisement,
        queueMs: nb.view(now)?.queueMs ?? 0,
      })),
    };
  }

  /**
   * Whether the ping now due to this neighbour is the large one, that measures bandwidth. Under the
   * latency objective, a confirmation (a changed bandwidth shows only on a large payload), the
   * second ping of a re-probe, and every other ping. Under the energy objective every payload byte
   * costs the end node's radio: re-probes, confirmations and retries go out empty (the RTT they measure
   * tells a change from a one-off, and requests sent there measure the bandwidth for free), and the
   * bandwidth is probed in turn with the RTT only where it could matter (bandwidthMatters).
   */
  private pingCarriesPayload(nb: NeighbourState, now: number): boolean {
    if (!this.valueProbing) return nb.reprobe > 0 ? nb.reprobe === 1 : nb.confirmWanted || nb.pingsSent % 2 === 1;
    // A retry of a neighbour that failed only asks whether it is back: a payload to it cost an end
    // node a probe of 36 KB every other second of a gateway's outage (gen-energy-adversity-1-1).
    if (nb.down || nb.reprobe > 0 || nb.confirmWanted || nb.pingsSent % 2 === 0) return false;
    return this.bandwidthMatters(nb, now);
  }

  /**
   * Whether the neighbour's bandwidth could change a decision: whether any recent client request
   * (any of a spread of lengths before there are requests) would go elsewhere with the link
   * infinitely fast than with it four times slower than believed (at least a slow radio's). A
   * neighbour that loses on its idle round trip alone cannot win whatever its bandwidth; one that
   * wins by far, with requests of a few bytes, wins at any bandwidth: probing either costs the end
   * node radio energy for nothing (gen-energy-nominal-1-41: token ids over BLE, 20 probes of 4 KiB
   * cost 0.9 % of the requests' energy).
   */
  private bandwidthMatters(nb: NeighbourState, now: number): boolean {
    const seen = this.withNeighbour(nb, now);
    if (!seen) return true; // no advertisement yet: nothing to judge by
    const { views, at, view, base } = seen;
    const free = views.slice();
    free[at] = { ...view, link: { rttMs: view.link.rttMs, msPerByte: 0 } };
    const slow = views.slice();
    slow[at] = { ...view, link: { rttMs: view.link.rttMs, msPerByte: Math.max(4 * view.link.msPerByte, UNMEASURED_MS_PER_BYTE) } };
    const turns = (n: number): boolean => rankCandidates({ ...base, n, neighbours: free })[0]?.target !== rankCandidates({ ...base, n, neighbours: slow })[0]?.target;
    if (this.recentCount > 0) {
      for (let i = 0; i < this.recentCount; i++) if (turns(this.recentN[i] as number)) return true;
      return false;
    }
    for (let n = 1; n <= this.maxSteps; n = Math.max(n + 1, Math.round(n * 1.5))) if (turns(n)) return true;
    return turns(this.maxSteps);
  }

  /** The end node's radio energy for a ping of `bytes` and its reply, on the link as believed, J. */
  private pingJ(nb: NeighbourState, bytes: number): number {
    return this.pingRadioJ(bytes, this.pricedMsPerByte(nb));
  }

  /** Radio energy of a ping of `bytes` and its reply at `msPerByte`, J. */
  private pingRadioJ(bytes: number, msPerByte: number): number {
    if (!this.power) return 0;
    return energyJ(this.power, { txMs: bytes * msPerByte, rxMs: this.pingReplyBytes * msPerByte });
  }

  /**
   * The link's transfer time per byte as a ping's price: a bandwidth never measured (a neighbour
   * that lost on its round trip alone is never sent a payload) is taken to be a slow radio's, not
   * the fit's unidentified slope of about nothing.
   */
  private pricedMsPerByte(nb: NeighbourState): number {
    return Math.max(nb.link.slope, nb.measuredMsPerByte > 0 ? nb.measuredMsPerByte : UNMEASURED_MS_PER_BYTE);
  }

  /** The large ping's payload for this neighbour: PROBE_TARGET_MS of transfer at the believed bandwidth. */
  private probeSize(nb: NeighbourState): number {
    const msPerByte = nb.link.slope;
    // Under the energy objective the first probe is sized for a slow radio (PROBE_TARGET_MS of
    // transfer at 1 Mbit/s): the largest payload sent blind over a 1 Mbit/s uplink costs an MCU
    // end node more than a thousand of its requests. On a fast link it shows little; the next probe
    // grows from what it showed.
    if (this.valueProbing && nb.measuredMsPerByte === 0) return Math.round(Math.min(this.probeBytes, Math.max(MIN_PROBE_BYTES, PROBE_TARGET_MS / this.pricedMsPerByte(nb))));
    if (!(msPerByte > 0)) return this.probeBytes; // bandwidth not known yet
    const targetMs = Math.max(PROBE_TARGET_MS, 4 * nb.link.noiseAt(0));
    return Math.round(Math.min(this.probeBytes, Math.max(MIN_PROBE_BYTES, targetMs / msPerByte)));
  }

  /**
   * A payload probe for a link whose transfer time, as its fit knows it, leaves the recent
   * decisions in doubt (value of information), or null. Requests not sent to this neighbour do not
   * measure its link, so a bandwidth believed too low is never corrected by traffic: only the inputs
   * the neighbour still wins go there. Each recent client request not sent here would lose its
   * expected regret (relativeDecisionRegret: the neighbour's cost uncertain by what the link's
   * standard error at the request's size changes in it); what one probe takes off that, summed over
   * BANDWIDTH_PROBE_HORIZON times the requests the models remember, must reach the probe's energy.
   */
  private bandwidthProbe(nb: NeighbourState, now: number): number | null {
    const count = this.recentCount;
    if (count < 2 || !this.power || nb.measuredMsPerByte === 0) return null;
    const seen = this.withNeighbour(nb, now);
    if (!seen) return null;
    const { views, at, view, base } = seen;
    const probeBytes = this.probeSize(nb);
    const probeNoiseMs = nb.link.noiseAt(probeBytes);
    const faster = views.slice();
    // The neighbour's cost relative error if its link's transfer time at `bytes` could be seMs less:
    // a lognormal one standard deviation below the belief there (a transfer that is most of the
    // cost may be nearly free; a symmetric relative error would never reach that).
    const relativeShift = (n: number, bytes: number, seMs: number, cost: number): number => {
      faster[at] = { ...view, link: { rttMs: view.link.rttMs, msPerByte: Math.max(0, view.link.msPerByte - seMs / bytes) } };
      const fast = rankCandidates({ ...base, n, neighbours: faster }).find((e) => e.target === nb.name);
      return fast && fast.cost > 0 ? cost / fast.cost - 1 : 0;
    };
    let gain = 0;
    for (let i = 0; i < count; i++) {
      const n = this.recentN[i] as number;
      const ranked = rankCandidates({ ...base, n, neighbours: views });
      const best = ranked[0];
      const mine = ranked.find((e) => e.target === nb.name);
      if (!best || !mine || best.target === nb.name || !(mine.cost > 0)) continue;
      const bytes = requestBytes(this.payload, n);
      const seMs = nb.link.relativeError(bytes) * nb.link.predict(bytes);
      // What one probe adds: its transfer time known to its noise, scaled to this request's bytes.
      const probeSeMs = (probeNoiseMs * bytes) / probeBytes;
      const afterMs = 1 / Math.sqrt(1 / (seMs * seMs) + 1 / (probeSeMs * probeSeMs));
      const before = relativeDecisionRegret(mine.cost, best.cost, relativeShift(n, bytes, seMs, mine.cost));
      const after = relativeDecisionRegret(mine.cost, best.cost, relativeShift(n, bytes, afterMs, mine.cost));
      gain += before - after;
    }
    return (gain * BANDWIDTH_PROBE_HORIZON * this.memory) / count >= this.pingJ(nb, probeBytes) ? probeBytes : null;
  }

  /**
   * A probe for a link with remembered earlier regimes: the bytes telling the current regime from
   * the one most worth finding, if the probe is worth sending now; 'wait' if not yet; null if no
   * remembered regime would be worth anything (the usual pings then go on). Worth it when the
   * expected regret since the last contact (what recent requests would have gained per ms had they
   * known the link was back in that regime, times the expected time it has been there) reaches the
   * probe's own energy on the link as believed.
   */
  private valuedProbe(nb: NeighbourState, now: number): number | 'wait' | null {
    const count = this.recentCount;
    const alternatives = nb.link.alternatives;
    if (count < 2 || !this.power || alternatives.length === 0) return null;
    const seen = this.withNeighbour(nb, now);
    if (!seen) return null;
    const { views, at, view, base } = seen;
    const choices: Array<string | null> = [];
    const oldest = this.oldestRecent(now);
    for (let i = 0; i < count; i++) {
      choices.push(rankCandidates({ ...base, n: this.recentN[i] as number, neighbours: views })[0]?.target ?? null);
    }
    let gain = 0;
    let alternative = alternatives[0] as { slope: number; intercept: number };
    const altViews = views.slice();
    for (const alt of alternatives) {
      altViews[at] = { ...view, link: { rttMs: alt.intercept, msPerByte: alt.slope } };
      let g = 0;
      for (let i = 0; i < count; i++) {
        const choice = choices[i];
        // Requests sent to this neighbour measure the link themselves: nothing for a probe to add.
        if (choice === null || choice === undefined || choice === nb.name) continue;
        const ranked = rankCandidates({ ...base, n: this.recentN[i] as number, neighbours: altViews });
        const mine = ranked.find((e) => e.target === choice);
        if (mine && ranked[0]) g += mine.cost - ranked[0].cost;
      }
      if (g > gain) {
        gain = g;
        alternative = alt;
      }
    }
    if (!(gain > 0)) return null;
    // Gain per ms: the requests' mean gain at the rate they came (to now, so a pause lowers it).
    const perMs = gain / Math.max(now - oldest, this.pingAfterChangeMs);
    const bytes = this.separatingBytes(nb, alternative);
    const probeJ = this.pingRadioJ(bytes, view.link.msPerByte);
    const since = nb.lastChangeAt;
    const fallbackMs = 2 * this.changeWatchMs;
    let changed = expectedTimeChanged(nb.lastContact - since, now - since, nb.changeIntervals, fallbackMs);
    // Requests still go to this neighbour (the longest inputs, or one is in flight): the next reply
    // measures the link for free, so a probe now can only save the regret until then, and only if
    // the link has changed by now.
    const sentTo = choices.filter((c) => c === nb.name).length;
    const passiveMs = Math.min(nb.nextReplyInMs(now), sentTo > 0 ? (now - oldest) / sentTo + view.link.rttMs : Infinity);
    if (Number.isFinite(passiveMs)) {
      changed = Math.min(changed, passiveMs * probabilityChanged(nb.lastContact - since, now - since, nb.changeIntervals, fallbackMs));
    }
    return perMs * changed >= probeJ ? bytes : 'wait';
  }

  /**
   * The smallest payload whose round trip the two regimes predict PROBE_SEPARATION_SIGMA noise σ
   * apart (0 when their RTTs alone are), at most probeBytes.
   */
  private separatingBytes(nb: NeighbourState, alternative: { slope: number; intercept: number }): number {
    const current = nb.link.current;
    const dRtt = alternative.intercept - current.intercept;
    const dMsPerByte = alternative.slope - current.slope;
    let bytes = 0;
    // The noise grows with the transfer: size at 0 bytes, then again at that size until it settles.
    for (let i = 0; i < 8; i++) {
      const target = PROBE_SEPARATION_SIGMA * nb.link.noiseAt(bytes);
      if (Math.abs(dRtt) >= target) return Math.ceil(bytes);
      if (dMsPerByte === 0) return this.probeBytes;
      const next = Math.min(this.probeBytes, Math.max(0, (target - Math.sign(dMsPerByte) * dRtt) / Math.abs(dMsPerByte)));
      const settled = Math.abs(next - bytes) <= 0.01 * next;
      bytes = next;
      if (settled) break;
    }
    return Math.ceil(bytes);
  }

  /**
   * The usable neighbours as the decision rule sees them now, where `nb` is among them, and the
   * rest of a ranking's input (local as it stands): what the rules that vary one link start from.
   */
  private withNeighbour(nb: NeighbourState, now: number): { views: NeighbourView[]; at: number; view: NeighbourView; base: Omit<RankInput, 'n' | 'neighbours'> } | null {
    const views = this.views(now);
    const at = views.findIndex((v) => v.name === nb.name);
    if (at < 0) return null;
    const base = { objective: this.objective, payload: this.payload, power: this.power, local: this.canServeLocally ? this.localView(now) : null };
    return { views, at, view: views[at] as NeighbourView, base };
  }

  /** When the oldest of the recent client requests came (now when there are none). */
  private oldestRecent(now: number): number {
    let oldest = now;
    for (let i = 0; i < this.recentCount; i++) oldest = Math.min(oldest, this.recentAt[i] as number);
    return oldest;
  }

  /** The usable neighbours as the decision rule sees them now. */
  private views(now: number): NeighbourView[] {
    const views: NeighbourView[] = [];
    for (const nb of this.neighbours) {
      const v = nb.view(now);
      if (v) views.push(v);
    }
    return views;
  }

  private neighbour(name: string): NeighbourState {
    const nb = this.byName.get(name);
    if (!nb) throw new RangeError(`unknown neighbour "${name}" of device "${this.device}"`);
    return nb;
  }
}
