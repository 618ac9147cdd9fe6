import type { Objective } from '../runtime/engine/types.js';
import { energyJ } from '../runtime/engine/energy.js';
import { requestBytes } from '../runtime/engine/rank.js';
import { StaticAgent, type Origin, type SimRequest } from './agents.js';
import type { SimDevice } from './scenario.js';
import type { World } from './world.js';

/** One way of serving a request from a device, as it would really turn out. */
interface Outcome {
  /** ms from now until the reply is back at the device */
  latencyMs: number;
  /** the device's own radio and idle time on it (tx, rx, waiting), for the energy objective */
  txMs: number;
  rxMs: number;
  computeMs: number;
}

/**
 * A stronger reference than the oracle: the same greedy rule, but knowing what each request will
 * really cost on each device and link (its own compute noise and jitter, and the time queued jobs
 * will really take), not just the expected values. It is still greedy (it does not hold a device
 * free for requests yet to come), so it is a reference, not a lower bound: CRIME can beat it on a
 * loaded system by luck of timing, rarely and by little.
 */
export class HindsightAgent extends StaticAgent {
  constructor(
    private readonly world: World,
    private readonly device: SimDevice,
    private readonly objective: Objective,
  ) {
    super();
  }

  plan(req: SimRequest, origin: Origin): string[] {
    const objective = origin === 'client' ? this.objective : 'latency';
    const power = this.device.power;
    const cost = (o: Outcome): number =>
      objective === 'energy' && power
        ? energyJ(power, { computeMs: o.computeMs, txMs: o.txMs, rxMs: o.rxMs, idleMs: Math.max(0, o.latencyMs - o.txMs - o.rxMs - o.computeMs) })
        : o.latencyMs;
    const options: Array<{ target: string; cost: number }> = [];
    const local = this.localOutcome(this.device.name, req);
    options.push({ target: 'local', cost: cost(local) });
    for (const to of this.device.offloadTo) {
      const o = this.viaNeighbour(this.device.name, to, req);
      if (o) options.push({ target: to, cost: cost(o) });
    }
    options.sort((a, b) => a.cost - b.cost);
    return options.map((o) => o.target);
  }

  private localOutcome(name: string, req: SimRequest, arrivesInMs = 0): Outcome {
    const w = this.world;
    // A batching device: the run it would join takes the batch's factor longer than it alone.
    const factor = w.batches(name) ? w.batchFactor(name, w.outlook(name).batch) : 1;
    const computeMs = w.computeMs(name, req.n, w.noise.compute(req.id, name)) * factor;
    const waitMs = Math.max(0, w.backlogMs(name, true) - arrivesInMs);
    // Queue waits are idle time for the caller; the compute time is active only when it is local.
    return { latencyMs: waitMs + computeMs, txMs: 0, rxMs: 0, computeMs: arrivesInMs === 0 ? computeMs : 0 };
  }

  /** The request sent from `from` to `to`, then served the best way from there; null if `to` is down. */
  private viaNeighbour(from: string, to: string, req: SimRequest): Outcome | null {
    const w = this.world;
    if (w.isDown(to)) return null;
    const { outputBytes } = w.scenario.payload;
    const bytes = requestBytes(w.scenario.payload, req.n);
    const up = w.oneWayMs(from, to, bytes, w.noise.up(req.id, from, to));
    const down = w.oneWayMs(from, to, outputBytes, w.noise.down(req.id, from, to));
    const there = this.bestFrom(to, req, up);
    const msPerByte = w.linkParams(from, to).msPerByte;
    return { latencyMs: up + there + down, txMs: bytes * msPerByte, rxMs: outputBytes * msPerByte, computeMs: 0 };
  }

  /** The quickest way to serve the request at `name`, where it arrives in `arrivesInMs`. */
  private bestFrom(name: string, req: SimRequest, arrivesInMs: number): number {
    let best = this.localOutcome(name, req, arrivesInMs).latencyMs;
    const spec = this.world.scenario.devices.find((d) => d.name === name) as SimDevice;
    for (const to of spec.offloadTo) {
      const o = this.viaNeighbour(name, to, req);
      if (o && o.latencyMs < best) best = o.latencyMs;
    }
    return best;
  }
}
