/**
 * The scenario `crime up TOPOLOGY --local SETTINGS` would run under a load file: the topology's
 * devices, offload graph, objective, power and mapping settings; each device's speed as its local
 * settings emulate it (or as measured on this machine, for a device running at full speed); the
 * links as the local settings set them; the payload the mappers put on the wire for this model; the
 * load's trace and events. `crime sim --topology`, and `crime bench mapping` for its predictions.
 */
import type { PayloadModel } from '../runtime/engine/types.js';
import type { Topology } from '../runtime/topology/topology.js';
import { InvalidInputError } from '../runtime/validate.js';
import { eventsFor, type LoadFile } from './load-file.js';
import { type Scenario, type SimDevice, type SimLink } from './scenario.js';

/** What the simulator needs of a local run's settings (local/settings.ts has the parser). */
export interface LocalConditions {
  links: ReadonlyArray<{ from: string; to: string; rttMs: number; bandwidthMbps: number }>;
  devices: ReadonlyArray<{ name: string; emulate: { perStepMs: number; fixedMs: number } }>;
}

/** A compute profile: perStepMs·n + fixedMs. */
export interface Speed {
  perStepMs: number;
  fixedMs: number;
}

/**
 * How far a live local run strays from its settings, which the simulated one then strays alike: an
 * emulated device's compute time and a link's one-way delay are timers on a shared machine, late by
 * a little and rarely early (relative σ; the simulator draws both sides alike).
 */
export interface LiveNoise {
  compute: number;
  jitter: number;
}

export const LIVE_NOISE: LiveNoise = { compute: 0.02, jitter: 0.05 };

/** What a live run adds to requests, to serving them and to trips between mappers (Scenario.overhead). */
export interface LiveOverhead {
  requestMs: number;
  serveMs: number;
  hopMs: number;
}

/**
 * The overhead of a local run on the 2-core machine this project is measured on, lightly loaded
 * (docs/mapping-bench.md): `crime bench mapping` measures it again before its runs.
 */
export const LIVE_OVERHEAD: LiveOverhead = { requestMs: 1, serveMs: 1, hopMs: 1.5 };

export interface TopologyRun {
  topology: Topology;
  local: LocalConditions;
  load: LoadFile;
  /** what the mappers put on the wire for this model (runtime/mapper/payload.ts) */
  payload: PayloadModel;
  /** devices the local settings do not emulate run at this machine's speed: measured */
  measured?: Readonly<Record<string, Speed>>;
  noise?: LiveNoise;
  overhead?: LiveOverhead;
}

/** The speed a device runs at in a local run, or undefined when it runs at this machine's speed. */
export function emulatedSpeed(local: LocalConditions, device: string): Speed | undefined {
  return local.devices.find((d) => d.name === device)?.emulate;
}

export function scenarioFromTopology(run: TopologyRun): Scenario {
  const { topology: t, local, load } = run;
  const noise = run.noise ?? LIVE_NOISE;
  const devices: SimDevice[] = t.devices.map((d, i) => {
    const speed = emulatedSpeed(local, d.name) ?? run.measured?.[d.name];
    if (!speed) throw new InvalidInputError(`spec.devices[${i}]`, `${d.name} runs at this machine's speed in a local run: emulate it in the local settings (devices[].perStepMs) or measure it`);
    return {
      name: d.name,
      entry: d.entry,
      perStepMs: speed.perStepMs,
      fixedMs: speed.fixedMs,
      noise: noise.compute,
      offloadTo: [...d.offloadTo],
      ...(d.power ? { power: d.power } : {}),
      serving: { ...d.serving },
      // An emulated device holds a batch for the time of its longest input (runtime/backends/emulated.ts):
      // the rest come free. One at this machine's speed is taken to gain nothing from batching.
      batchMarginal: emulatedSpeed(local, d.name) ? 0 : 1,
    };
  });
  const links: SimLink[] = t.devices.flatMap((d) =>
    d.offloadTo.map((to) => {
      const l = local.links.find((x) => x.from === d.name && x.to === to);
      // Without an entry the local run is a plain loopback hop: no delay, no bandwidth limit.
      return { from: d.name, to, rttMs: l?.rttMs ?? 0, bandwidthMbps: l?.bandwidthMbps ?? Infinity, jitter: noise.jitter };
    }),
  );
  const { stepBytes, outputBytes, overheadBytes } = run.payload;
  return {
    name: `${t.name}/${load.name}`,
    description: load.description,
    objective: t.objective,
    seed: load.seed,
    requests: load.requests,
    arrival: load.arrival,
    lengths: load.lengths,
    payload: { stepBytes, outputBytes, ...(overheadBytes === undefined ? {} : { overheadBytes }) },
    mapping: {
      forgetting: t.mapping.forgetting,
      pingIdleSeconds: t.mapping.pingIdleSeconds,
      maxSteps: t.model.maxSteps,
      selfCalibration: t.mapping.selfCalibration,
    },
    devices,
    links,
    events: eventsFor(load, t),
    overhead: run.overhead ?? LIVE_OVERHEAD,
  };
}
