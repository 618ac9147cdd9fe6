import { EventQueue } from './event-queue.js';
import type { TraceRequest } from './trace.js';
import { World } from './world.js';
import { Random } from '../stats/random.js';
import type { Agent, Origin, SimRequest } from './agents.js';
import type { Scenario, SimDevice } from './scenario.js';
import { CALIBRATION_STEPS } from '../runtime/defaults.js';
import { energyJ } from '../runtime/engine/energy.js';
import { requestBytes } from '../runtime/engine/rank.js';
import { Fallback, neighbourAtFault, type Candidate } from '../runtime/mapper/fallback.js';

/** What happened to one request under one policy. */
export interface RequestRecord {
  id: number;
  n: number;
  arrivalMs: number;
  latencyMs: number;
  /** end-node (entry device) energy spent on the request, in joules */
  energyJ: number;
  /** time spent waiting in device queues */
  queueMs: number;
  /** the device that computed it, or null if it failed */
  servedBy: string | null;
  path: string[];
}

/** What a run cost beyond its requests, and how busy it kept each device. */
export interface RunStats {
  /** per device: ms spent computing (requests and self-calibration runs) */
  busyMs: Record<string, number>;
  /** per device: the busy share of its busiest minute */
  peakUtilisation: Record<string, number>;
  /** the time requests arrived over: first to last arrival (open loop), or the whole run (closed loop) */
  spanMs: number;
  /** pings sent by every device */
  pings: number;
  /** per device: self-calibration runs, and the ms they took */
  calibrations: Record<string, number>;
  calibrationMs: Record<string, number>;
  /** end-node energy spent outside requests: the radio time of its pings, its self-calibration runs, J */
  overheadEnergyJ: number;
  /**
   * the part of overheadEnergyJ (and of calibrations) from before startMs: the warm-up's pings and
   * runs, before any request could arrive (crime bench mapping measures a live run after its warm-up)
   */
  warmUp: { energyJ: number; calibrations: Record<string, number>; calibrationMs: Record<string, number> };
}

export interface SimOutput {
  records: RequestRecord[];
  stats: RunStats;
}

export type AgentFactory = (world: World, device: SimDevice, clock: () => number) => Agent;

export interface SimulateOptions {
  scenario: Scenario;
  trace: readonly TraceRequest[];
  makeAgent: AgentFactory;
  /** time the first request may arrive; warm-up pings go out before it */
  startMs: number;
  onProgress?: (done: number, total: number) => void;
}

interface Outcome {
  ok: boolean;
  servedBy: string | null;
  path: string[];
  /** a failure the device answered with (its own fallback ran out), not a connection lost with it */
  answered?: boolean;
}

type Finish = (o: Outcome) => void;

/** Ping replies carry an advertisement of a few hundred bytes. */
const PING_REPLY_BYTES = 256;
/** How often mappers look for neighbours due a ping. */
const TICK_MS = 100;

/**
 * Runs one policy over the trace: a discrete-event simulation of the entry's clients, each device's
 * FIFO runtime, the links, pings, and the scenario's events. Requests go through the same steps as
 * in the mapper, with the mapper's own fallback rules (runtime/mapper/fallback.ts): plan, try
 * candidates in order, fall back on failure, learn from timestamps.
 */
export function simulate(options: SimulateOptions): SimOutput {
  const { scenario, trace, makeAgent } = options;
  const q = new EventQueue();
  const world = new World(scenario, q, options.startMs);
  const clock = (): number => q.now;
  const agents = new Map<string, Agent>();
  const active = new Map<string, Set<Finish>>();
  const calibrationRnd = new Random(scenario.seed ^ 0x5eed);
  const pingRnd = new Random(scenario.seed ^ 0x9146);
  const { outputBytes } = scenario.payload;
  const entry = world.entry;
  const entryPower = scenario.devices.find((d) => d.name === entry)?.power;
  const noise = world.noise;

  const start = (d: SimDevice): void => {
    const agent = makeAgent(world, d, clock);
    agents.set(d.name, agent);
    active.set(d.name, new Set());
    if (!agent.learns) return;
    for (const n of CALIBRATION_STEPS) {
      if (n <= scenario.mapping.maxSteps) agent.calibrate(n, world.computeMs(d.name, n, calibrationRnd.normal()));
    }
  };
  for (const d of scenario.devices) start(d);
  world.onEvent((e) => {
    if (e.kind !== 'device' || e.down === undefined) return;
    const spec = scenario.devices.find((d) => d.name === e.device) as SimDevice;
    if (e.down) {
      // Everything in flight at the device is lost; callers see the connection reset.
      const lost = [...(active.get(spec.name) ?? [])];
      for (const finish of lost) finish({ ok: false, servedBy: null, path: [] });
    } else {
      start(spec); // a restarted mapper knows nothing and warms up again
    }
  });

  const agentOf = (name: string): Agent => agents.get(name) as Agent;

  /** `from`: the devices the request passed through before `d`. */
  function handle(d: string, req: SimRequest, origin: Origin, from: readonly string[], reply: Finish): void {
    const agent = agentOf(d);
    const path = [...from, d];
    const fallback = new Fallback(
      agent.plan(req, origin).map((t): Candidate => (t === 'local' ? { kind: 'local', target: d } : { kind: 'neighbour', target: t })),
      path,
    );
    const mine = active.get(d) as Set<Finish>;
    const metering = d === entry && origin === 'client' && entryPower !== undefined;
    let done = false;
    const finish: Finish = (o) => {
      if (done) return;
      done = true;
      mine.delete(finish);
      reply(o);
    };
    mine.add(finish);

    const tryNext = (): void => {
      if (done) return;
      const candidate = fallback.next();
      if (candidate === undefined) {
        finish({ ok: false, servedBy: null, path: [d], answered: true });
        return;
      }
      const target = candidate.target;
      if (candidate.kind === 'local') {
        const ticket = agent.localStart(req.n);
        const piece = world.computePiece(d);
        const enqueuedAt = q.now;
        const z = noise.compute(req.id, d);
        world.submit(d, {
          n: req.n,
          expectedMs: piece.slope * req.n + piece.intercept,
          realisedMs: world.computeMs(d, req.n, z),
          start: () => {
            tally(req.id).queueMs += q.now - enqueuedAt;
            return world.computeMs(d, req.n, z);
          },
          done: (computeMs, batch) => {
            agent.localEnd(ticket, computeMs, batch);
            if (metering && entryPower) tally(req.id).energyJ += energyJ(entryPower, { computeMs });
            const served = (): void => finish({ ok: true, servedBy: d, path: [d] });
            const serveMs = scenario.overhead?.serveMs ?? 0;
            if (serveMs > 0) q.after(serveMs, served);
            else served();
          },
        });
        return;
      }
      const ticket = agent.offloadStart(target, req.n);
      const sentAt = q.now;
      const reqBytes = requestBytes(scenario.payload, req.n);
      const msPerByte = world.linkParams(d, target).msPerByte;
      const charge = (ok: boolean): void => {
        if (!metering || !entryPower) return;
        const tx = reqBytes * msPerByte;
        const rx = ok ? outputBytes * msPerByte : 0;
        const wait = Math.max(0, q.now - sentAt - tx - rx);
        tally(req.id).energyJ += energyJ(entryPower, { txMs: tx, rxMs: rx, idleMs: wait });
      };
      // The caller sees a refused or reset connection, or the callee's own UPSTREAM_FAILED, never a
      // bad-input answer: always fall back; the neighbour is marked down by the mapper's rule.
      const failed = (answered: boolean): void => {
        if (done) return;
        charge(false);
        agent.offloadFail(ticket, neighbourAtFault('UPSTREAM_FAILED', answered));
        fallback.failed(candidate, 'UPSTREAM_FAILED');
        tryNext();
      };
      const transit = world.departed(target, req.n);
      q.after(world.oneWayMs(d, target, reqBytes, noise.up(req.id, d, target)), () => {
        world.arrived(target, transit);
        const back = (bytes: number): number => world.oneWayMs(d, target, bytes, noise.down(req.id, d, target));
        if (world.isDown(target)) {
          q.after(back(0), () => failed(false)); // connection refused
          return;
        }
        const arrivedAt = q.now;
        handle(target, req, 'peer', path, (o) => {
          if (!o.ok) {
            q.after(back(0), () => failed(o.answered === true));
            return;
          }
          const elapsed = q.now - arrivedAt;
          const adv = agentOf(target).advertise();
          q.after(back(outputBytes), () => {
            if (done) return;
            agent.offloadEnd(ticket, q.now - sentAt, elapsed, adv);
            charge(true);
            finish({ ok: true, servedBy: o.servedBy, path: [d, ...o.path] });
          });
        });
      });
    };
    tryNext();
  }

  let pings = 0;
  let overheadEnergyJ = 0;
  const warmUp: RunStats['warmUp'] = { energyJ: 0, calibrations: {}, calibrationMs: {} };
  const warming = (): boolean => q.now < options.startMs;
  const chargeOverhead = (j: number): void => {
    overheadEnergyJ += j;
    if (warming()) warmUp.energyJ += j;
  };
  const calibrations: Record<string, number> = Object.fromEntries(scenario.devices.map((d) => [d.name, 0]));
  const calibrationMs: Record<string, number> = Object.fromEntries(scenario.devices.map((d) => [d.name, 0]));

  /** A self-calibration run: it takes the device's runtime like a request, and the end node's energy. */
  function calibrate(d: string, n: number): void {
    const agent = agentOf(d);
    const ticket = agent.calibrationStart(n);
    const piece = world.computePiece(d);
    const z = calibrationRnd.normal();
    world.submit(d, {
      n,
      expectedMs: piece.slope * n + piece.intercept,
      realisedMs: world.computeMs(d, n, z),
      start: () => world.computeMs(d, n, z),
      done: (computeMs, batch) => {
        agent.calibrationEnd(ticket, computeMs, batch);
        calibrations[d] = (calibrations[d] ?? 0) + 1;
        calibrationMs[d] = (calibrationMs[d] ?? 0) + computeMs;
        if (warming()) {
          warmUp.calibrations[d] = (warmUp.calibrations[d] ?? 0) + 1;
          warmUp.calibrationMs[d] = (warmUp.calibrationMs[d] ?? 0) + computeMs;
        }
        if (d === entry && entryPower) chargeOverhead(energyJ(entryPower, { computeMs }));
      },
    });
  }
  /** The entry's radio is on while a ping goes out and while its reply comes in. */
  const chargeRadio = (from: string, to: string, txBytes: number, rxBytes: number): void => {
    if (from !== entry || !entryPower) return;
    const msPerByte = world.linkParams(from, to).msPerByte;
    chargeOverhead(energyJ(entryPower, { txMs: txBytes * msPerByte, rxMs: rxBytes * msPerByte }));
  };

  function ping(from: string, to: string, bytes: number): void {
    const agent = agentOf(from);
    agent.pingSent(to);
    pings++;
    chargeRadio(from, to, bytes, 0);
    const sentAt = q.now;
    const back = (): number => world.oneWayMs(from, to, PING_REPLY_BYTES, pingRnd.normal());
    q.after(world.oneWayMs(from, to, bytes, pingRnd.normal()), () => {
      // A reply to a mapper that restarted meanwhile is dropped, as a closed connection would drop it.
      const current = (): boolean => agentOf(from) === agent;
      if (world.isDown(to)) {
        q.after(back(), () => {
          if (current()) agent.pingFailed(to);
        });
        return;
      }
      const adv = agentOf(to).advertise();
      q.after(back(), () => {
        chargeRadio(from, to, 0, PING_REPLY_BYTES);
        if (current()) agent.pingResult(to, q.now - sentAt, bytes, adv);
      });
    });
  }

  const tallies = new Map<number, { energyJ: number; queueMs: number }>();
  const tally = (id: number): { energyJ: number; queueMs: number } => {
    let t = tallies.get(id);
    if (!t) {
      t = { energyJ: 0, queueMs: 0 };
      tallies.set(id, t);
    }
    return t;
  };
  const records: RequestRecord[] = [];
  const total = trace.length;
  let completed = 0;
  const progressEvery = Math.max(1, Math.floor(total / 100));
  const learning = scenario.devices.some((d) => agentOf(d.name).learns);

  const tick = (): void => {
    for (const d of scenario.devices) {
      if (world.isDown(d.name)) continue;
      const agent = agentOf(d.name);
      for (const p of agent.duePings()) ping(d.name, p.name, p.bytes);
      const n = agent.dueCalibration();
      if (n !== null) calibrate(d.name, n);
    }
    if (completed < total) q.after(TICK_MS, tick);
  };
  if (learning) q.at(0, tick);

  const issue = (t: TraceRequest, arrivalMs: number, then?: () => void): void => {
    const req: SimRequest = { id: t.id, n: t.n };
    handle(entry, req, 'client', [], (o) => {
      records.push({
        id: t.id,
        n: t.n,
        arrivalMs,
        latencyMs: q.now - arrivalMs + (scenario.overhead?.requestMs ?? 0),
        energyJ: tally(t.id).energyJ,
        queueMs: tally(t.id).queueMs,
        servedBy: o.ok ? o.servedBy : null,
        path: o.path,
      });
      tallies.delete(t.id);
      completed++;
      if (options.onProgress && (completed % progressEvery === 0 || completed === total)) options.onProgress(completed, total);
      then?.();
    });
  };

  if (scenario.arrival.type === 'poisson') {
    for (const t of trace) q.at(t.arrivalMs, () => issue(t, t.arrivalMs));
  } else {
    const { clients, thinkMs } = scenario.arrival;
    let nextIndex = 0;
    const client = (): void => {
      const t = trace[nextIndex++];
      if (!t) return;
      issue(t, q.now, () => q.after(thinkMs, client));
    };
    for (let c = 0; c < clients; c++) q.at(options.startMs, client);
  }
  q.run();
  records.sort((a, b) => a.id - b.id);
  const first = trace[0];
  const last = trace[trace.length - 1];
  const openSpan = first && last && Number.isFinite(last.arrivalMs) ? last.arrivalMs - first.arrivalMs : Number.NaN;
  return {
    records,
    stats: {
      busyMs: Object.fromEntries(scenario.devices.map((d) => [d.name, world.busyMs(d.name)])),
      peakUtilisation: Object.fromEntries(scenario.devices.map((d) => [d.name, world.peakUtilisation(d.name)])),
      // A single request (or a closed loop) has no arrival span: the run's own length stands in.
      spanMs: openSpan > 0 ? openSpan : Math.max(1, q.now - options.startMs),
      pings,
      calibrations,
      calibrationMs,
      overheadEnergyJ,
      warmUp,
    },
  };
}
