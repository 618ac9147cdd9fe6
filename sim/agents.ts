import { MappingEngine, type OffloadTicket, type PlannedPing } from '../runtime/engine/engine.js';
import { rankCandidates, type NeighbourView } from '../runtime/engine/rank.js';
import type { LocalTicket } from '../runtime/engine/local-queue.js';
import type { Advertisement, Objective } from '../runtime/engine/types.js';
import type { SelfCalibrationPolicy } from '../runtime/engine/self-calibration.js';
import { selfCalibrationPolicy } from '../runtime/mapping-settings.js';
import type { Scenario, SimDevice } from './scenario.js';
import type { World } from './world.js';

export type Origin = 'client' | 'peer';

export interface SimRequest {
  id: number;
  n: number;
  /** for pinned policies: the device the entry chose to serve this request */
  pinned?: string;
}

/**
 * One device's mapper under one policy. The simulator calls it exactly where the real mapper calls
 * the engine: to plan a request (the order in which to try candidates), and with the timestamps of
 * local runs, offloads and pings. Policies that do not learn ignore the timestamps.
 */
export interface Agent {
  readonly learns: boolean;
  /** A warm-up compute measurement, taken before traffic as the runtime's warm-up does. */
  calibrate(n: number, computeMs: number): void;
  /** Candidates to try in order: 'local' or a neighbour's name. */
  plan(req: SimRequest, origin: Origin): string[];
  localStart(n: number): LocalTicket | null;
  /** `batch`: the run it was part of (size and longest steps), as a runtime's reply says */
  localEnd(ticket: LocalTicket | null, computeMs: number, batch?: { size: number; steps: number }): void;
  localAbort(ticket: LocalTicket | null): void;
  offloadStart(target: string, n: number): OffloadTicket | null;
  offloadEnd(ticket: OffloadTicket | null, roundTripMs: number, calleeElapsedMs: number, adv: Advertisement): void;
  /** `down`: the neighbour itself failed (see neighbourAtFault in runtime/mapper/fallback.ts) */
  offloadFail(ticket: OffloadTicket | null, down: boolean): void;
  duePings(): PlannedPing[];
  /** The length of a self-calibration run to start now, or null. */
  dueCalibration(): number | null;
  calibrationStart(n: number): LocalTicket | null;
  calibrationEnd(ticket: LocalTicket | null, computeMs: number, batch?: { size: number; steps: number }): void;
  pingSent(name: string): void;
  pingResult(name: string, roundTripMs: number, bytes: number, adv: Advertisement): void;
  pingFailed(name: string): void;
  advertise(): Advertisement;
}

const EMPTY: Advertisement = { local: null, queueMs: 0, remote: [] };

/** An agent that learns nothing; policies override plan(). */
export abstract class StaticAgent implements Agent {
  readonly learns = false;
  abstract plan(req: SimRequest, origin: Origin): string[];
  calibrate(): void {}
  localStart(): null {
    return null;
  }
  localEnd(): void {}
  localAbort(): void {}
  offloadStart(): null {
    return null;
  }
  offloadEnd(): void {}
  offloadFail(): void {}
  duePings(): PlannedPing[] {
    return [];
  }
  dueCalibration(): null {
    return null;
  }
  calibrationStart(): null {
    return null;
  }
  calibrationEnd(): void {}
  pingSent(): void {}
  pingResult(): void {}
  pingFailed(): void {}
  advertise(): Advertisement {
    return EMPTY;
  }
}

/** CRIME: the real engine, learning online from simulated timestamps and pings only. */
export class CrimeAgent implements Agent {
  readonly learns = true;
  readonly engine: MappingEngine;
  private readonly calibration: SelfCalibrationPolicy;

  constructor(scenario: Scenario, device: SimDevice, clock: () => number) {
    this.calibration = selfCalibrationPolicy(scenario.mapping.selfCalibration);
    this.engine = new MappingEngine({
      device: device.name,
      neighbours: device.offloadTo.map((name) => ({ name })),
      objective: scenario.objective,
      payload: scenario.payload,
      maxSteps: scenario.mapping.maxSteps,
      forgetting: scenario.mapping.forgetting,
      pingIdleMs: scenario.mapping.pingIdleSeconds * 1000,
      ...(device.power ? { power: device.power } : {}),
      serving: device.serving,
      clock,
    });
  }

  calibrate(n: number, computeMs: number): void {
    this.engine.observeCompute(n, computeMs);
  }
  plan(req: SimRequest, origin: Origin): string[] {
    return this.engine.decide(req.n, origin).ranked.map((e) => e.target);
  }
  localStart(n: number): LocalTicket {
    return this.engine.startLocal(n);
  }
  localEnd(ticket: LocalTicket, computeMs: number, batch?: { size: number; steps: number }): void {
    this.engine.finishLocal(ticket, computeMs, batch);
  }
  localAbort(ticket: LocalTicket): void {
    this.engine.abortLocal(ticket);
  }
  offloadStart(target: string, n: number): OffloadTicket {
    return this.engine.startOffload(target, n);
  }
  offloadEnd(ticket: OffloadTicket, roundTripMs: number, calleeElapsedMs: number, adv: Advertisement): void {
    this.engine.finishOffload(ticket, { roundTripMs, calleeElapsedMs, advertisement: adv });
  }
  offloadFail(ticket: OffloadTicket, down: boolean): void {
    this.engine.failOffload(ticket, down);
  }
  duePings(): PlannedPing[] {
    return this.engine.duePings();
  }
  dueCalibration(): number | null {
    return this.engine.dueCalibration(this.calibration);
  }
  calibrationStart(n: number): LocalTicket {
    return this.engine.startCalibration(n);
  }
  calibrationEnd(ticket: LocalTicket, computeMs: number, batch?: { size: number; steps: number }): void {
    this.engine.finishLocal(ticket, computeMs, batch);
  }
  pingSent(name: string): void {
    this.engine.pingSent(name);
  }
  pingResult(name: string, roundTripMs: number, bytes: number, adv: Advertisement): void {
    this.engine.pingResult(name, { roundTripMs, calleeElapsedMs: 0, bytes, advertisement: adv });
  }
  pingFailed(name: string): void {
    this.engine.pingFailed(name);
  }
  advertise(): Advertisement {
    return this.engine.advertise();
  }
}

/**
 * The same decision rule fed with the true current parameters, queues and device states: a greedy
 * rule with perfect current information, not a bound (see HindsightAgent for a stronger reference).
 */
export class OracleAgent extends StaticAgent {
  constructor(
    private readonly world: World,
    private readonly device: SimDevice,
    private readonly objective: Objective,
  ) {
    super();
  }

  plan(req: SimRequest, origin: Origin): string[] {
    const views: NeighbourView[] = [];
    for (const to of this.device.offloadTo) {
      const v = this.world.trueView(this.device.name, to);
      if (v) views.push(v);
    }
    const ranked = rankCandidates({
      n: req.n,
      objective: origin === 'client' ? this.objective : 'latency',
      payload: this.world.scenario.payload,
      power: this.device.power,
      local: this.world.localView(this.device.name),
      neighbours: views,
    });
    return ranked.map((e) => e.target);
  }
}

/**
 * Routes every request to the device the entry pinned it to, along the shortest offload path;
 * falls back to computing locally when the next hop fails. `choose` pins at the entry.
 */
export class PinnedAgent extends StaticAgent {
  constructor(
    private readonly device: SimDevice,
    private readonly nextHop: ReadonlyMap<string, string>,
    private readonly choose: ((n: number) => string) | null,
  ) {
    super();
  }

  plan(req: SimRequest, origin: Origin): string[] {
    if (origin === 'client' && this.choose) req.pinned = this.choose(req.n);
    const target = req.pinned;
    if (target === undefined || target === this.device.name) return ['local'];
    const hop = this.nextHop.get(target);
    return hop ? [hop, 'local'] : ['local'];
  }
}
