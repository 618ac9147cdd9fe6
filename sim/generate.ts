import { stringify } from 'yaml';
import { rankCandidates, type NeighbourView } from '../runtime/engine/rank.js';
import type { Objective } from '../runtime/engine/types.js';
import { sampleLength, type Lengths } from '../stats/lengths.js';
import { Random } from '../stats/random.js';
import { EventQueue } from './event-queue.js';
import { parseScenario, type Scenario } from './scenario.js';
import { World } from './world.js';

/**
 * Random but physically sensible scenarios, so that the mapping's quality is measured on scenarios
 * nobody wrote by hand (docs/scenarios.md, "Generated scenarios"). Every draw below is a range a real
 * deployment can take; the result is a plain scenario file, so a bad one can be saved and replayed.
 *
 * - nominal: devices, links and load fixed for the whole run;
 * - adversity: the same, plus one to three of: a device slowing down for a while, a device outage,
 *   a link's RTT or bandwidth flapping (every 2-120 s), a gradual drift of a device or a link
 *   (10 s steps), and compute noise and link jitter up to 0.4.
 */
export type Family = 'nominal' | 'adversity';
export const FAMILIES: readonly Family[] = ['nominal', 'adversity'];
export const OBJECTIVES: readonly Objective[] = ['latency', 'energy'];

export interface GenerateOptions {
  /** the generator's seed: the same (seed, index, objective, family) is the same scenario */
  seed: number;
  /** which scenario of that seed, 0, 1, ... */
  index: number;
  objective: Objective;
  family: Family;
}

export interface GeneratedScenario {
  /** gen-<objective>-<family>-<seed>-<index>, also the scenario's name */
  name: string;
  /** the scenario file (YAML, with a comment saying how it was drawn) */
  text: string;
  scenario: Scenario;
}

/** Bumped whenever a change to the generator changes what a (seed, index) draws. */
export const GENERATOR_VERSION = 1;

/** A draw is kept unless every input goes to one device; such a draw is kept with this probability. */
const KEEP_ONE_SIDED = 0.1;
/** Inputs where the minority device(s) serve less than this share count as one-sided. */
const ONE_SIDED_SHARE = 0.03;
const MAX_TRIES = 20;
/** Most and least arrival rates: the run must fit in a simulation of seconds, and "idle" still sees traffic. */
const MIN_RATE_PER_SEC = 0.1;
const MAX_RATE_PER_SEC = { nominal: 20, adversity: 4.5 } as const;
const MIN_REQUESTS = 1000;
const MAX_REQUESTS = 4000;
/** The load: the busiest single-device policy's device busy this share of the time, drawn log-uniformly. */
const LOAD_RANGE: [number, number] = [0.01, 0.85];

/**
 * Device classes by their speed on the model relative to a Cortex-A53 (per step), and their fixed
 * cost per request (framework and kernel launches), ms. The model's per-step time on a Cortex-A53
 * is drawn from a tiny GRU (0.05 ms) to the 2x300 CoVe LSTM (3 ms) and beyond.
 */
const CLASSES = {
  mcu: { rank: 0, speed: [0.01, 0.08], fixedMs: [0.5, 8], name: 'end-node', what: 'MCU-class end node (Cortex-M)' },
  arm: { rank: 1, speed: [0.4, 2], fixedMs: [0.5, 4], name: 'end-node', what: 'ARM end node (Cortex-A53/A72)' },
  gateway: { rank: 2, speed: [2, 12], fixedMs: [2, 15], name: 'gateway', what: 'gateway (Jetson/NUC class)' },
  server: { rank: 3, speed: [10, 60], fixedMs: [0.5, 5], name: 'edge', what: 'edge server CPU' },
  gpu: { rank: 4, speed: [80, 1500], fixedMs: [0.5, 4], name: 'cloud', what: 'cloud GPU' },
} as const;
type ClassName = keyof typeof CLASSES;
const DEEPER: readonly ClassName[] = ['gateway', 'server', 'gpu'];

/** The end node's uplink: RTT ms, bandwidth Mbit/s, radio power sending W. */
const RADIOS = {
  ble: { rttMs: [15, 60], mbps: [0.5, 2], txW: [0.01, 0.04] },
  'low-power Wi-Fi': { rttMs: [3, 30], mbps: [1, 20], txW: [0.1, 0.4] },
  'Wi-Fi': { rttMs: [2, 30], mbps: [5, 300], txW: [0.6, 1.5] },
  LTE: { rttMs: [30, 150], mbps: [1, 50], txW: [1.5, 4] },
  '5G': { rttMs: [8, 40], mbps: [20, 500], txW: [2, 5] },
  Ethernet: { rttMs: [1, 5], mbps: [100, 1000], txW: [0.1, 0.5] },
} as const;
type Radio = keyof typeof RADIOS;
const RADIOS_OF: Record<'mcu' | 'arm' | 'gateway', readonly Radio[]> = {
  mcu: ['ble', 'low-power Wi-Fi'],
  arm: ['Wi-Fi', 'LTE', '5G'],
  gateway: ['Ethernet', 'Wi-Fi'],
};
/** The end node's power while computing, W. */
const ACTIVE_W = { mcu: [0.03, 0.3], arm: [1, 4], gateway: [5, 20] } as const;

type Range = readonly [number, number];

class Draw {
  constructor(private readonly rnd: Random) {}
  uniform([lo, hi]: Range): number {
    return this.rnd.uniform(lo, hi);
  }
  log([lo, hi]: Range): number {
    return Math.exp(this.rnd.uniform(Math.log(lo), Math.log(hi)));
  }
  chance(p: number): boolean {
    return this.rnd.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd.next() * items.length)] as T;
  }
  int(lo: number, hi: number): number {
    return this.rnd.int(lo, hi);
  }
  get random(): Random {
    return this.rnd;
  }
}

/** Numbers in a file: three significant digits are plenty and keep it readable. */
function sig(v: number, digits = 3): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const p = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(v))));
  return Math.round(v * p) / p;
}

interface DeviceDoc {
  name: string;
  entry?: boolean;
  perStepMs: number;
  fixedMs: number;
  noise: number;
  offloadTo?: string[];
  power?: { activeW: number; idleW: number; txW: number; rxW: number };
}
interface LinkDoc {
  from: string;
  to: string;
  rttMs: number;
  bandwidthMbps: number;
  jitter: number;
}
type EventDoc = Record<string, unknown> & { atSec: number };

interface Draft {
  devices: DeviceDoc[];
  links: LinkDoc[];
  lengths: Lengths;
  payload: { stepBytes: number; outputBytes: number };
  notes: string[];
}

/** A seed for (seed, index, objective, family) alone, so scenario i does not depend on how many are drawn. */
function scenarioSeed(o: GenerateOptions): number {
  let h = 0x811c9dc5 ^ GENERATOR_VERSION;
  for (const part of [o.seed, o.index, o.objective === 'energy' ? 1 : 0, o.family === 'adversity' ? 1 : 0]) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** Draws one scenario. Deterministic in its options. */
export function generateScenario(o: GenerateOptions): GeneratedScenario {
  if (!Number.isInteger(o.seed) || o.seed < 0 || !Number.isInteger(o.index) || o.index < 0) {
    throw new RangeError(`seed and index must be integers ≥ 0, got ${o.seed}, ${o.index}`);
  }
  const draw = new Draw(new Random(scenarioSeed(o)));
  const name = `gen-${o.objective}-${o.family}-${o.seed}-${o.index}`;
  let last: GeneratedScenario | null = null;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const generated = drawOnce(draw, name, o);
    last = generated;
    if (oneSidedShare(generated.scenario) >= ONE_SIDED_SHARE || draw.chance(KEEP_ONE_SIDED)) return generated;
  }
  return last as GeneratedScenario;
}

function drawOnce(draw: Draw, name: string, o: GenerateOptions): GeneratedScenario {
  const adversity = o.family === 'adversity';
  const draft = drawSystem(draw, adversity);
  const { devices, links } = draft;
  // The load: the busiest single-device policy (every input on its device) busy `load` of the time.
  const meanN = meanLength(draft.lengths, draw.random.fork());
  /** s */
  const meanService = (d: DeviceDoc): number => (d.perStepMs * meanN + d.fixedMs) / 1000;
  let load = draw.log(LOAD_RANGE);
  const maxRate = MAX_RATE_PER_SEC[o.family];
  const busiest = (): DeviceDoc => devices.reduce((a, b) => (meanService(b) > meanService(a) ? b : a));
  let rate = load / meanService(busiest());
  // Outside the simulable rates the model is scaled (a larger or a smaller network) to keep the load.
  if (rate > maxRate || rate < MIN_RATE_PER_SEC) {
    const target = Math.min(maxRate, Math.max(MIN_RATE_PER_SEC, rate));
    const scale = rate / target;
    for (const d of devices) {
      d.perStepMs = sig(d.perStepMs * scale);
      d.fixedMs = sig(d.fixedMs * scale);
    }
    draft.notes.push(`model scaled ×${sig(scale, 2)} to keep the load at a simulable rate`);
    rate = load / meanService(busiest());
  }
  load = sig(load, 2);
  const spanTarget = adversity ? draw.uniform([900, 1800]) : draw.log([600, 1800]);
  const requests = Math.max(MIN_REQUESTS, Math.min(MAX_REQUESTS, Math.round(rate * spanTarget)));
  const spanSec = requests / rate;
  draft.notes.push(`load ${load} of ${busiest().name} alone (the busiest single device), ${sig(rate)} requests/s over about ${Math.round(spanSec)} s`);
  const events = adversity ? drawAdversity(draw, draft, spanSec) : [];
  const doc = {
    name,
    description: `generated (generator v${GENERATOR_VERSION}): ${draft.notes.join('; ')}`,
    objective: o.objective,
    seed: (o.seed * 1000 + o.index) % 1_000_000_007,
    requests,
    arrival: { type: 'poisson', ratePerSec: sig(rate, 4) },
    lengths: draft.lengths,
    payload: draft.payload,
    devices,
    links,
    ...(events.length > 0 ? { events } : {}),
  };
  const text = render(doc, o);
  return { name, text, scenario: parseScenario(text) };
}

function drawSystem(draw: Draw, adversity: boolean): Draft {
  const notes: string[] = [];
  const endClass = draw.pick<'mcu' | 'arm' | 'gateway'>(['mcu', 'arm', 'arm', 'gateway']);
  const deeper = DEEPER.filter((c) => CLASSES[c].rank > CLASSES[endClass].rank);
  const levels = Math.min(1 + deeper.length, draw.pick([2, 2, 3, 3, 4]));
  // Which deeper classes, in order: any `levels - 1` of those above the end node.
  const chosen = deeper.slice();
  while (chosen.length > levels - 1) chosen.splice(draw.int(0, chosen.length - 1), 1);
  const fanOut = draw.chance(0.35);
  // The model's per-step time on a Cortex-A53: MCUs only run small ones.
  const modelMs = draw.log(endClass === 'mcu' ? [0.05, 0.6] : [0.05, 5]);
  const noise = (): number => sig(adversity && draw.chance(0.3) ? draw.uniform([0.15, 0.4]) : draw.uniform([0.02, 0.1]), 2);
  const device = (cls: ClassName, name: string): DeviceDoc => {
    const c = CLASSES[cls];
    const perStepMs = sig(Math.max(0.004, modelMs / draw.log(c.speed)));
    return { name, perStepMs, fixedMs: sig(draw.log(c.fixedMs)), noise: noise() };
  };
  const radio = draw.pick(RADIOS_OF[endClass]);
  const r = RADIOS[radio];
  const txW = draw.log(r.txW);
  const activeW = draw.log(ACTIVE_W[endClass]);
  const end: DeviceDoc = {
    ...device(endClass, 'end-node'),
    entry: true,
    offloadTo: [],
    power: { activeW: sig(activeW), idleW: sig(activeW * draw.log([0.05, 0.3])), txW: sig(txW), rxW: sig(txW * draw.uniform([0.5, 1])) },
  };
  const devices: DeviceDoc[] = [end];
  const links: LinkDoc[] = [];
  const jitter = (): number => sig(adversity && draw.chance(0.3) ? draw.uniform([0.15, 0.4]) : draw.uniform([0.02, 0.1]), 2);
  const link = (from: DeviceDoc, to: DeviceDoc, toClass: ClassName, hop: number): void => {
    let rttMs: number;
    let mbps: number;
    if (hop === 0) {
      rttMs = draw.log(r.rttMs);
      mbps = draw.log(r.mbps);
      // Straight from the end node's radio to a server or a cloud: the WAN's RTT adds up.
      if (toClass !== 'gateway') rttMs += draw.log(toClass === 'gpu' ? [10, 150] : [1, 20]);
    } else if (toClass === 'gpu') {
      rttMs = draw.log([10, 200]);
      mbps = draw.log([10, 1000]);
    } else {
      rttMs = draw.log([1, 20]);
      mbps = draw.log([50, 1000]);
    }
    from.offloadTo = [...(from.offloadTo ?? []), to.name];
    links.push({ from: from.name, to: to.name, rttMs: sig(Math.min(300, Math.max(1, rttMs))), bandwidthMbps: sig(Math.min(1000, Math.max(0.5, mbps))), jitter: jitter() });
  };
  let parent = end;
  chosen.forEach((cls, i) => {
    const lastLevel = i === chosen.length - 1;
    const base = CLASSES[cls].name;
    if (lastLevel && fanOut) {
      const a = device(cls, `${base}-a`);
      const b = device(cls, `${base}-b`);
      devices.push(a, b);
      link(parent, a, cls, i);
      link(parent, b, cls, i);
      return;
    }
    const d = device(cls, base);
    devices.push(d);
    link(parent, d, cls, i);
    parent = d;
  });
  const chain = [CLASSES[endClass].what, ...chosen.map((c, i) => (i === chosen.length - 1 && fanOut ? `two ${CLASSES[c].what}s` : CLASSES[c].what))];
  notes.push(`${levels} levels: ${chain.join(' -> ')}, ${radio} uplink; model ${sig(modelMs, 2)} ms/step on a Cortex-A53`);
  const tokens = draw.chance(0.4);
  const payload = {
    stepBytes: tokens ? draw.pick([2, 4]) : 4 * Math.round(draw.log([8, 300])),
    outputBytes: draw.chance(0.5) ? draw.pick([4, 8, 16]) : 4 * Math.round(draw.log([2, 300])),
  };
  notes.push(tokens ? `token ids (${payload.stepBytes} B/step)` : `${payload.stepBytes / 4}-float vectors per step`);
  const lengths = drawLengths(draw, notes);
  return { devices, links, lengths, payload, notes };
}

function drawLengths(draw: Draw, notes: string[]): Lengths {
  const cap = (v: number): number => Math.max(2, Math.min(2000, Math.ceil(v)));
  const kind = draw.pick(['lognormal', 'lognormal', 'bimodal', 'truncated', 'uniform']);
  if (kind === 'lognormal') {
    const median = sig(draw.log([3, 300]), 2);
    const sigma = sig(draw.uniform([0.3, 1.2]), 2);
    notes.push(`lognormal lengths around ${median}`);
    return { type: 'lognormal', median, sigma, min: 1, max: cap(median * Math.exp(3.3 * sigma)) };
  }
  if (kind === 'bimodal') {
    const short = sig(draw.log([2, 40]), 2);
    const long = sig(short * draw.log([4, 30]), 2);
    const sigmas = [sig(draw.uniform([0.2, 0.6]), 2), sig(draw.uniform([0.2, 0.6]), 2)] as const;
    const weight = sig(draw.uniform([0.3, 0.8]), 2);
    notes.push(`bimodal lengths around ${short} and ${long}`);
    return {
      type: 'mixture',
      parts: [
        { weight, median: short, sigma: sigmas[0] },
        { weight: sig(1 - weight, 2), median: long, sigma: sigmas[1] },
      ],
      min: 1,
      max: cap(long * Math.exp(3.3 * sigmas[1])),
    };
  }
  if (kind === 'truncated') {
    // Inputs cut at the model's maximum length: 7-30 % of them land on it.
    const median = sig(draw.log([10, 500]), 2);
    const sigma = sig(draw.uniform([0.4, 1]), 2);
    const max = cap(median * Math.exp(sigma * draw.uniform([0.5, 1.5])));
    notes.push(`lognormal lengths around ${median} truncated at ${max}`);
    return { type: 'lognormal', median, sigma, min: 1, max };
  }
  const max = cap(draw.log([16, 1000]));
  notes.push(`uniform lengths 1-${max}`);
  return { type: 'uniform', min: 1, max };
}

function meanLength(lengths: Lengths, rnd: Random): number {
  let sum = 0;
  const draws = 2000;
  for (let i = 0; i < draws; i++) sum += sampleLength(lengths, rnd);
  return sum / draws;
}

/** One to three perturbations, each on its own device or link, within the run. */
function drawAdversity(draw: Draw, draft: Draft, spanSec: number): EventDoc[] {
  const events: EventDoc[] = [];
  const used = new Set<string>();
  const kinds = ['slowdown', 'outage', 'flap', 'flap', 'drift', 'noise'] as const;
  const count = draw.int(1, 3);
  const t = (share: number): number => sig(share * spanSec, 3);
  for (let k = 0; k < count; k++) {
    const kind = draw.pick(kinds);
    if (kind === 'noise') {
      if (used.has('noise')) continue;
      used.add('noise');
      const level = (): number => sig(draw.uniform([0.15, 0.4]), 2);
      for (const d of draft.devices) d.noise = level();
      for (const l of draft.links) l.jitter = level();
      draft.notes.push('compute noise and link jitter 0.15-0.4');
      continue;
    }
    if (kind === 'slowdown' || kind === 'outage' || (kind === 'drift' && draw.chance(0.5))) {
      // The entry may slow down (thermal throttling) but not go down: clients would have nowhere to send.
      const candidates = draft.devices.filter((d) => !used.has(d.name) && (kind !== 'outage' || d.entry !== true));
      if (candidates.length === 0) continue;
      const d = draw.pick(candidates);
      used.add(d.name);
      const at = t(draw.uniform([0.1, 0.7]));
      if (kind === 'slowdown') {
        const factor = sig(draw.log([2, 8]), 2);
        const duration = sig(draw.log([30, 300]), 2);
        events.push({ atSec: at, device: d.name, slowdown: factor }, { atSec: sig(at + duration), device: d.name, slowdown: 1 });
        draft.notes.push(`${d.name} ${factor}x slower at ${at} s for ${duration} s`);
      } else if (kind === 'outage') {
        const duration = sig(draw.log([10, 120]), 2);
        events.push({ atSec: at, device: d.name, down: true }, { atSec: sig(at + duration), device: d.name, down: false });
        draft.notes.push(`${d.name} down at ${at} s for ${duration} s`);
      } else {
        const factor = draw.log([2, 6]);
        const steps = Math.round(draw.log([100, 400]) / 10);
        const ramp = Array.from({ length: steps }, (_, i) => sig(1 + ((factor - 1) * (i + 1)) / steps, 3));
        const hold = Math.round(draw.uniform([0, 200]) / 10) * 10;
        const down = ramp.slice(0, -1).reverse().concat([1]);
        events.push({ atSec: at, everySec: 10, untilSec: at + 10 * (steps - 1), device: d.name, slowdown: ramp });
        events.push({ atSec: at + 10 * steps + hold, everySec: 10, untilSec: at + 10 * (2 * steps - 1) + hold, device: d.name, slowdown: down });
        draft.notes.push(`${d.name} drifting ${sig(factor, 2)}x slower over ${10 * steps} s from ${at} s, back after ${hold} s`);
      }
      continue;
    }
    const links = draft.links.filter((l) => !used.has(`${l.from}->${l.to}`));
    if (links.length === 0) continue;
    const l = draw.pick(links);
    const key = `${l.from}->${l.to}`;
    used.add(key);
    const param = draw.chance(0.5) ? 'rttMs' : 'bandwidthMbps';
    const factor = draw.log([2, 10]);
    const bad = param === 'rttMs' ? sig(Math.min(300, l.rttMs * factor)) : sig(Math.max(0.5, l.bandwidthMbps / factor));
    const good = param === 'rttMs' ? l.rttMs : l.bandwidthMbps;
    const what = param === 'rttMs' ? `RTT ${good} <-> ${bad} ms` : `bandwidth ${good} <-> ${bad} Mbit/s`;
    if (kind === 'flap') {
      const every = sig(draw.log([2, 120]), 2);
      const start = t(draw.uniform([0, 0.3]));
      const until = sig(Math.min(spanSec, start + Math.max(8 * every, draw.uniform([0.3, 1]) * spanSec)));
      events.push({ atSec: start, everySec: every, untilSec: until, link: key, [param]: [bad, good] });
      draft.notes.push(`${key} ${what} every ${every} s from ${start} to ${until} s`);
    } else {
      const steps = Math.round(draw.log([100, 400]) / 10);
      const at = t(draw.uniform([0.1, 0.6]));
      const value = (f: number): number => sig(param === 'rttMs' ? good + (bad - good) * f : good / (1 + (good / bad - 1) * f));
      const ramp = Array.from({ length: steps }, (_, i) => value((i + 1) / steps));
      events.push({ atSec: at, everySec: 10, untilSec: at + 10 * (steps - 1), link: key, [param]: ramp });
      draft.notes.push(`${key} drifting to ${param === 'rttMs' ? `${bad} ms` : `${bad} Mbit/s`} over ${10 * steps} s from ${at} s`);
    }
  }
  if (events.length === 0 && !used.has('noise')) {
    for (const d of draft.devices) d.noise = sig(draw.uniform([0.15, 0.4]), 2);
    draft.notes.push('compute noise 0.15-0.4');
  }
  return events;
}

/**
 * The share of inputs the oracle would send, on the system as drawn (no queues, no events), to
 * other devices than the one it sends most to: near 0, the scenario only tests that CRIME finds the
 * one right device.
 */
export function oneSidedShare(s: Scenario): number {
  const world = new World(s, new EventQueue(), 0);
  const entry = s.devices.find((d) => d.entry)!;
  const views: NeighbourView[] = [];
  for (const to of entry.offloadTo) {
    const v = world.trueView(entry.name, to);
    if (v) views.push(v);
  }
  const counts = new Map<string, number>();
  const rnd = new Random(s.seed);
  const draws = 400;
  for (let i = 0; i < draws; i++) {
    const n = sampleLength(s.lengths, rnd);
    const best = rankCandidates({ n, objective: s.objective, payload: s.payload, power: entry.power, local: { compute: world.computePiece(entry.name), queueMs: 0 }, neighbours: views })[0];
    if (best) counts.set(best.target, (counts.get(best.target) ?? 0) + 1);
  }
  return 1 - Math.max(0, ...counts.values()) / draws;
}

function render(doc: Record<string, unknown>, o: GenerateOptions): string {
  const flow = (v: unknown): string => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
  const lines = [
    `# Generated by \`crime sim --generate 1 --from ${o.index} --seed ${o.seed} --objective ${o.objective} --family ${o.family}\``,
    `# (generator v${GENERATOR_VERSION}): a plain scenario file, to edit and replay with \`crime sim --scenario FILE\`.`,
    '# The ranges it was drawn from are in docs/scenarios.md ("Generated scenarios").',
  ];
  for (const [key, value] of Object.entries(doc)) {
    if (Array.isArray(value)) {
      lines.push(`${key}:`);
      for (const item of value) lines.push(`  - ${flow(item)}`);
    } else {
      lines.push(`${key}: ${flow(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
