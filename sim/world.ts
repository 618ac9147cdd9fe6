import { evalCurve, evalPiece, type Piece } from '../runtime/engine/cost-curve.js';
import { batchOutlook, type Outlook } from '../runtime/engine/batching.js';
import { buildAdvertisement, type NeighbourView } from '../runtime/engine/rank.js';
import { planBatch } from '../runtime/server/batch-plan.js';
import { bandwidthToMsPerByte, type Advertisement, type LinkParams } from '../runtime/engine/types.js';
import type { EventQueue } from './event-queue.js';
import { Noise } from './noise.js';
import type { Scenario, SimDevice, SimEvent } from './scenario.js';

/** A request being computed or waiting at one device's runtime. */
export interface Job {
  /** its input's steps (batches group by length) */
  n: number;
  expectedMs: number;
  /** the compute time the job will really take if it starts at the current speed (for the hindsight reference) */
  realisedMs: number;
  /** called when the job starts; returns its true compute time were it run alone */
  start: () => number;
  /** `computeMs`: its run's time (the whole batch's); `batch`: that run's size and longest steps */
  done: (computeMs: number, batch: { size: number; steps: number }) => void;
}

/** A run in progress on a device's runtime: one job, or a batch of them. */
interface Run {
  jobs: Job[];
  until: number;
}

interface DeviceState {
  spec: SimDevice;
  /** expected compute of requests on their way to this device that it is expected to serve */
  inTransitMs: number;
  slowdown: number;
  down: boolean;
  /** jobs waiting for a run, oldest first, with when each arrived */
  queue: Array<{ job: Job; at: number }>;
  /** runs in progress, at most serving.concurrency */
  running: Run[];
  /** a wake-up is set for the first batch held back for companions (maxDelayMs) */
  wakeAt: number;
  /** the device's generation: bumped when it goes down, so work of a dead incarnation is dropped */
  epoch: number;
  /** ms spent computing finished jobs, for utilisation */
  busyMs: number;
  /** the same, per UTILISATION_WINDOW_MS window of simulated time */
  busyByWindow: Map<number, number>;
}

/** Utilisation is also reported per window this long, so a transient overload shows. */
export const UTILISATION_WINDOW_MS = 60_000;

interface LinkState {
  rttMs: number;
  msPerByte: number;
  jitter: number;
}

/**
 * The ground truth of a simulation: devices with FIFO runtimes (one request at a time, or batches
 * grouped as the real runtime groups them, runtime/server/batch-plan.ts, on `concurrency` run
 * slots), links, and the scenario's events changing them over time. Policies never read it
 * directly, except the oracle.
 */
export class World {
  readonly scenario: Scenario;
  readonly entry: string;
  /** the noise of every request at every device and link, the same for every policy */
  readonly noise: Noise;
  private readonly devices = new Map<string, DeviceState>();
  private readonly links = new Map<string, LinkState>();
  private readonly listeners: Array<(e: SimEvent) => void> = [];

  constructor(scenario: Scenario, private readonly q: EventQueue, startMs: number) {
    this.scenario = scenario;
    this.noise = new Noise(scenario.seed);
    for (const d of scenario.devices) this.devices.set(d.name, { spec: d, inTransitMs: 0, slowdown: 1, down: false, queue: [], running: [], wakeAt: Infinity, epoch: 0, busyMs: 0, busyByWindow: new Map() });
    for (const l of scenario.links) {
      this.links.set(`${l.from}->${l.to}`, { rttMs: l.rttMs, msPerByte: bandwidthToMsPerByte(l.bandwidthMbps), jitter: l.jitter });
    }
    this.entry = (scenario.devices.find((d) => d.entry) as SimDevice).name;
    for (const e of scenario.events) q.at(startMs + e.atSec * 1000, () => this.apply(e));
  }

  /** Called after every scenario event (e.g. so a restarted device gets a fresh mapper). */
  onEvent(listener: (e: SimEvent) => void): void {
    this.listeners.push(listener);
  }

  device(name: string): DeviceState {
    return this.devices.get(name) as DeviceState;
  }

  link(from: string, to: string): LinkState {
    return this.links.get(`${from}->${to}`) as LinkState;
  }

  isDown(name: string): boolean {
    return this.device(name).down;
  }

  epoch(name: string): number {
    return this.device(name).epoch;
  }

  /** Whether the device's runtime batches. */
  batches(name: string): boolean {
    return this.device(name).spec.serving.maxBatch > 1;
  }

  /** A batch of `size` takes this many times a lone run of its longest (the device's true batch cost). */
  batchFactor(name: string, size: number): number {
    return 1 + this.device(name).spec.batchMarginal * Math.max(0, size - 1);
  }

  /** Where a request arriving now at a batching device would run: its wait, and its run's size. */
  outlook(name: string): Outlook {
    const d = this.device(name);
    const piece = this.computePiece(name);
    const o = batchOutlook({
      now: this.q.now,
      busyUntil: d.running.map((r) => r.until),
      waiting: d.queue.map((w) => w.job.n),
      serving: d.spec.serving,
      service: (steps, size) => evalPiece(piece, steps) * this.batchFactor(name, size),
    });
    return { waitMs: o.waitMs + d.inTransitMs, batch: o.batch };
  }

  /**
   * This device as a candidate, truly: its compute piece and queue wait. A batching one: the
   * piece of the run a request arriving now would join, and the wait until that run starts.
   */
  localView(name: string): { compute: Piece; queueMs: number } {
    const piece = this.computePiece(name);
    if (!this.batches(name)) return { compute: piece, queueMs: this.backlogMs(name) };
    const o = this.outlook(name);
    const f = this.batchFactor(name, o.batch);
    return { compute: { slope: piece.slope * f, intercept: piece.intercept * f }, queueMs: o.waitMs };
  }

  /** The work one more request adds to a batching device's queue (its share of a run), as the engine's advertisement has it. */
  addedPiece(name: string): Piece | undefined {
    if (!this.batches(name)) return undefined;
    const d = this.device(name);
    const m = d.spec.serving.maxBatch;
    const share = Math.max(d.spec.batchMarginal, this.batchFactor(name, m) / m);
    const piece = this.computePiece(name);
    return { slope: piece.slope * share, intercept: piece.intercept * share };
  }

  /** True compute piece right now (the expected time, without noise). */
  computePiece(name: string): Piece {
    const d = this.device(name);
    return { slope: d.spec.perStepMs * d.slowdown, intercept: d.spec.fixedMs * d.slowdown };
  }

  computeMs(name: string, n: number, z: number): number {
    const d = this.device(name);
    const p = this.computePiece(name);
    return (p.slope * n + p.intercept) * Math.max(0.05, 1 + d.spec.noise * z);
  }

  /** One direction of a link: half the RTT (jittered) plus the bytes' serialisation time. */
  oneWayMs(from: string, to: string, bytes: number, z: number): number {
    const l = this.link(from, to);
    return (l.rttMs / 2) * Math.max(0.05, 1 + l.jitter * z) + bytes * l.msPerByte + (this.scenario.overhead?.hopMs ?? 0) / 2;
  }

  linkParams(from: string, to: string): LinkParams {
    const l = this.link(from, to);
    return { rttMs: l.rttMs + (this.scenario.overhead?.hopMs ?? 0), msPerByte: l.msPerByte };
  }

  /**
   * A request is on its way to a device: until it arrives, the work it is expected to add there
   * counts in the device's true queue (the oracle knows what is in the wires). Returns the amount
   * to hand back to arrived().
   */
  departed(to: string, n: number): number {
    const adv = this.trueAdvertisement(to);
    const local = adv.local ? evalPiece(adv.local, n) : Infinity;
    const ms = local + adv.queueMs <= evalCurve(adv.remote, n) ? (adv.added ? evalPiece(adv.added, n) : local) : 0;
    this.device(to).inTransitMs += ms;
    return ms;
  }

  arrived(to: string, ms: number): void {
    const d = this.device(to);
    d.inTransitMs = Math.max(0, d.inTransitMs - ms);
  }

  /**
   * Work ahead of a new job at this device: the rest of the current job, the queue, and work in
   * transit to it. `realised`: count queued jobs at the time they will really take, not expected.
   */
  backlogMs(name: string, realised = false): number {
    const d = this.device(name);
    if (this.batches(name)) return this.outlook(name).waitMs;
    let ms = d.inTransitMs;
    for (const r of d.running) ms += Math.max(0, r.until - this.q.now);
    for (const w of d.queue) ms += realised ? w.job.realisedMs : w.job.expectedMs;
    return ms;
  }

  /** ms the device spent on jobs that finished (requests and self-calibration runs). */
  busyMs(name: string): number {
    return this.device(name).busyMs;
  }

  /** The busiest window's busy share (0..1): 1 means the device was saturated for a whole window. */
  peakUtilisation(name: string): number {
    let peak = 0;
    for (const ms of this.device(name).busyByWindow.values()) peak = Math.max(peak, ms / UTILISATION_WINDOW_MS);
    return peak;
  }

  /** Queues a job on the device's runtime. */
  submit(name: string, job: Job): void {
    const d = this.device(name);
    d.queue.push({ job, at: this.q.now });
    this.pump(d);
  }

  /**
   * Starts every run that is due while a run slot is free: the oldest job alone, or for a
   * batching device the batch the real runtime would form (batch-plan.ts). A batch takes the time
   * of its longest member run alone, times the device's batch factor.
   */
  private pump(d: DeviceState): void {
    const serving = d.spec.serving;
    while (d.running.length < serving.concurrency && d.queue.length > 0) {
      let take = [0];
      if (serving.maxBatch > 1) {
        const plan = planBatch(d.queue.map((w) => ({ steps: w.job.n, enqueuedAt: w.at })), this.q.now, { ...serving, mixedLengths: true, width: 1 });
        if (plan === undefined) return;
        if ('wakeAt' in plan) {
          if (plan.wakeAt < d.wakeAt) {
            d.wakeAt = plan.wakeAt;
            const epoch = d.epoch;
            this.q.at(plan.wakeAt, () => {
              d.wakeAt = Infinity;
              if (d.epoch === epoch) this.pump(d);
            });
          }
          return;
        }
        take = plan.take;
      }
      const taken = new Set(take);
      const jobs = take.map((i) => (d.queue[i] as { job: Job }).job);
      d.queue = d.queue.filter((_, i) => !taken.has(i));
      const alone = jobs.map((j) => j.start());
      const computeMs = Math.max(...alone) * this.batchFactor(d.spec.name, jobs.length);
      const batch = { size: jobs.length, steps: Math.max(...jobs.map((j) => j.n)) };
      const run: Run = { jobs, until: this.q.now + computeMs };
      d.running.push(run);
      const epoch = d.epoch;
      this.q.at(run.until, () => {
        if (d.epoch !== epoch) return;
        // Busy time per run slot: a device running `concurrency` runs at once is busy 1, not more.
        d.busyMs += computeMs / serving.concurrency;
        addBusy(d.busyByWindow, this.q.now - computeMs, this.q.now, 1 / serving.concurrency);
        // The run keeps its slot while its jobs finish: what they start meanwhile queues behind it.
        for (const j of jobs) j.done(computeMs, batch);
        d.running = d.running.filter((r) => r !== run);
        this.pump(d);
      });
    }
  }

  private apply(e: SimEvent): void {
    if (e.kind === 'link') {
      const l = this.link(e.from, e.to);
      if (e.rttMs !== undefined) l.rttMs = e.rttMs;
      if (e.bandwidthMbps !== undefined) l.msPerByte = bandwidthToMsPerByte(e.bandwidthMbps);
    } else {
      const d = this.device(e.device);
      if (e.slowdown !== undefined) d.slowdown = e.slowdown;
      if (e.down === true && !d.down) {
        d.down = true;
        d.inTransitMs = 0;
        d.epoch++;
        d.queue = [];
        d.running = [];
      } else if (e.down === false) {
        d.down = false;
      }
    }
    for (const listener of this.listeners) listener(e);
  }

  /** The truth as the decision rule's neighbour view: what a perfectly informed mapper would know. */
  trueView(from: string, to: string): NeighbourView | null {
    if (this.isDown(to)) return null;
    const adv = this.trueAdvertisement(to);
    return { name: to, link: this.linkParams(from, to), local: adv.local, queueMs: adv.queueMs, remote: adv.remote };
  }

  trueAdvertisement(name: string): Advertisement {
    const views: NeighbourView[] = [];
    for (const to of this.device(name).spec.offloadTo) {
      const v = this.trueView(name, to);
      if (v) views.push(v);
    }
    const local = this.localView(name);
    const advertisement = buildAdvertisement(local.compute, local.queueMs, views, this.scenario.payload, {
      maxSteps: this.scenario.mapping.maxSteps,
      maxPieces: 16,
    });
    const added = this.addedPiece(name);
    return added ? { ...advertisement, added } : advertisement;
  }
}

/** Adds the busy interval [from, to), weighted, to the windows it overlaps. */
function addBusy(windows: Map<number, number>, from: number, to: number, weight = 1): void {
  for (let w = Math.floor(from / UTILISATION_WINDOW_MS); w * UTILISATION_WINDOW_MS < to; w++) {
    const start = Math.max(from, w * UTILISATION_WINDOW_MS);
    const end = Math.min(to, (w + 1) * UTILISATION_WINDOW_MS);
    if (end > start) windows.set(w, (windows.get(w) ?? 0) + (end - start) * weight);
  }
}
