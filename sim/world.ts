import { evalCurve, evalPiece, type Piece } from '../runtime/engine/cost-curve.js';
import { buildAdvertisement, type NeighbourView } from '../runtime/engine/rank.js';
import { bandwidthToMsPerByte, type Advertisement, type LinkParams } from '../runtime/engine/types.js';
import type { EventQueue } from './event-queue.js';
import { Noise } from './noise.js';
import type { Scenario, SimDevice, SimEvent } from './scenario.js';

/** A request being computed or waiting at one device's runtime. */
export interface Job {
  expectedMs: number;
  /** the compute time the job will really take if it starts at the current speed (for the hindsight reference) */
  realisedMs: number;
  /** called when the job starts; returns its true compute time */
  start: () => number;
  done: (computeMs: number) => void;
}

interface DeviceState {
  spec: SimDevice;
  /** expected compute of requests on their way to this device that it is expected to serve */
  inTransitMs: number;
  slowdown: number;
  down: boolean;
  queue: Job[];
  busy: Job | null;
  /** when the job in service finishes */
  busyUntil: number;
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
 * The ground truth of a simulation: devices with FIFO single-server runtimes, links, and the
 * scenario's events changing them over time. Policies never read it directly, except the oracle.
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
    for (const d of scenario.devices) this.devices.set(d.name, { spec: d, inTransitMs: 0, slowdown: 1, down: false, queue: [], busy: null, busyUntil: 0, epoch: 0, busyMs: 0, busyByWindow: new Map() });
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
    const ms = local + adv.queueMs <= evalCurve(adv.remote, n) ? local : 0;
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
    let ms = d.inTransitMs + (d.busy ? Math.max(0, d.busyUntil - this.q.now) : 0);
    for (const j of d.queue) ms += realised ? j.realisedMs : j.expectedMs;
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
    d.queue.push(job);
    if (!d.busy) this.startNext(d);
  }

  private startNext(d: DeviceState): void {
    const job = d.queue.shift();
    if (!job) {
      d.busy = null;
      return;
    }
    d.busy = job;
    const epoch = d.epoch;
    const computeMs = job.start();
    d.busyUntil = this.q.now + computeMs;
    this.q.at(d.busyUntil, () => {
      if (d.epoch !== epoch) return;
      d.busyMs += computeMs;
      addBusy(d.busyByWindow, this.q.now - computeMs, this.q.now);
      job.done(computeMs);
      this.startNext(d);
    });
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
        d.busy = null;
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
    return buildAdvertisement(this.computePiece(name), this.backlogMs(name), views, this.scenario.payload, {
      maxSteps: this.scenario.mapping.maxSteps,
      maxPieces: 16,
    });
  }
}

/** Adds the busy interval [from, to) to the windows it overlaps. */
function addBusy(windows: Map<number, number>, from: number, to: number): void {
  for (let w = Math.floor(from / UTILISATION_WINDOW_MS); w * UTILISATION_WINDOW_MS < to; w++) {
    const start = Math.max(from, w * UTILISATION_WINDOW_MS);
    const end = Math.min(to, (w + 1) * UTILISATION_WINDOW_MS);
    if (end > start) windows.set(w, (windows.get(w) ?? 0) + end - start);
  }
}
