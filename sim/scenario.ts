import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Objective, PowerModel } from '../runtime/engine/types.js';
import { checkOffloadGraph } from '../runtime/offload-graph.js';
import { longestLength, type Lengths } from '../stats/lengths.js';
import {
  InvalidInputError,
  at,
  bool,
  known,
  list,
  num,
  numValue,
  obj,
  oneOf,
  optNum,
  optObj,
  optPower,
  str,
  strValue,
  type Obj,
} from '../runtime/validate.js';
import { MAPPING_DEFAULTS, SERVING_DEFAULTS } from '../runtime/defaults.js';
import { parseServingSettings, type ServingSettings } from '../runtime/serving-settings.js';
import { parseSelfCalibration, type SelfCalibrationSettings } from '../runtime/mapping-settings.js';

export type Arrival = { type: 'poisson'; ratePerSec: number } | { type: 'closed'; clients: number; thinkMs: number };

export interface SimDevice {
  name: string;
  entry: boolean;
  perStepMs: number;
  fixedMs: number;
  /** relative standard deviation of compute times */
  noise: number;
  offloadTo: string[];
  power?: PowerModel;
  /** how its runtime serves (batching, concurrent runs); default one request at a time */
  serving: ServingSettings;
  /**
   * The truth about its batches: what each request beyond the first adds to a run, as a share of
   * a lone run of the longest (0: a batch costs what one request does, as on a GPU; 1: nothing
   * gained). Default 1.
   */
  batchMarginal: number;
}

export interface SimLink {
  from: string;
  to: string;
  rttMs: number;
  bandwidthMbps: number;
  /** relative standard deviation of each one-way delay */
  jitter: number;
}

export type SimEvent =
  | { atSec: number; kind: 'link'; from: string; to: string; rttMs?: number; bandwidthMbps?: number }
  | { atSec: number; kind: 'device'; device: string; slowdown?: number; down?: boolean };

export interface Sweep {
  /** "from->to" */
  link: string;
  rttMs: number[];
}

export interface Scenario {
  name: string;
  description: string;
  objective: Objective;
  seed: number;
  requests: number;
  arrival: Arrival;
  lengths: Lengths;
  payload: { stepBytes: number; outputBytes: number };
  mapping: {
    forgetting: number;
    pingIdleSeconds: number;
    maxSteps: number;
    /** CRIME's self-calibration (runtime/defaults.ts has the defaults; budget 0 turns it off) */
    selfCalibration: SelfCalibrationSettings;
  };
  devices: SimDevice[];
  links: SimLink[];
  events: SimEvent[];
  sweep?: Sweep;
}

const TOP = ['name', 'description', 'objective', 'seed', 'requests', 'arrival', 'lengths', 'payload', 'mapping', 'devices', 'links', 'events', 'sweep', 'sources'];

/** Parses and validates a scenario file's text; throws InvalidInputError naming the bad field. */
export function parseScenario(text: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new InvalidInputError('', `not valid YAML${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc, '(scenario)');
  known(root, '', TOP);
  const lengths = parseLengths(obj(root.lengths, 'lengths'));
  const devices = list(root.devices, 'devices').map((d, i) => parseDevice(d, at('devices', i)));
  const scenario: Scenario = {
    name: str(root, 'name', ''),
    description: typeof root.description === 'string' ? root.description : '',
    objective: oneOf(root, 'objective', '', ['latency', 'energy'] as const, 'latency'),
    seed: optNum(root, 'seed', '', 1, { integer: true, min: 0 }),
    requests: num(root, 'requests', '', { integer: true, min: 1, max: 10_000_000 }),
    arrival: parseArrival(obj(root.arrival, 'arrival')),
    lengths,
    payload: parsePayload(obj(root.payload, 'payload')),
    mapping: parseMapping(optObj(root, 'mapping', '') ?? {}, longestLength(lengths)),
    devices,
    links: root.links === undefined ? [] : list(root.links, 'links').map((l, i) => parseLink(l, at('links', i))),
    events: [],
  };
  const sweep = optObj(root, 'sweep', '');
  if (sweep) scenario.sweep = parseSweep(sweep);
  const events = parseEvents(root.events);
  checkTopology(scenario, events);
  scenario.events = flattenEvents(events);
  return scenario;
}

function parseArrival(a: Obj): Arrival {
  const type = oneOf(a, 'type', 'arrival', ['poisson', 'closed'] as const);
  if (type === 'poisson') {
    known(a, 'arrival', ['type', 'ratePerSec']);
    return { type, ratePerSec: num(a, 'ratePerSec', 'arrival', { above: 0 }) };
  }
  known(a, 'arrival', ['type', 'clients', 'thinkMs']);
  return {
    type,
    clients: optNum(a, 'clients', 'arrival', 1, { integer: true, min: 1, max: 10_000 }),
    thinkMs: optNum(a, 'thinkMs', 'arrival', 0, { min: 0 }),
  };
}

function parseLengths(l: Obj): Lengths {
  const type = oneOf(l, 'type', 'lengths', ['lognormal', 'uniform', 'list', 'mixture'] as const);
  if (type === 'list') {
    known(l, 'lengths', ['type', 'values']);
    const values = list(l.values, 'lengths.values').map((v, i) => numValue(v, at('lengths.values', i), { integer: true, min: 1 }));
    if (values.length === 0) throw new InvalidInputError('lengths.values', 'must not be empty');
    return { type, values };
  }
  if (type === 'uniform') {
    known(l, 'lengths', ['type', 'min', 'max']);
    const min = num(l, 'min', 'lengths', { integer: true, min: 1 });
    return { type, min, max: num(l, 'max', 'lengths', { integer: true, min }) };
  }
  if (type === 'mixture') {
    known(l, 'lengths', ['type', 'parts', 'min', 'max']);
    const parts = list(l.parts, 'lengths.parts').map((v, i) => {
      const path = at('lengths.parts', i);
      const p = obj(v, path);
      known(p, path, ['weight', 'median', 'sigma']);
      return { weight: num(p, 'weight', path, { above: 0 }), median: num(p, 'median', path, { above: 0 }), sigma: num(p, 'sigma', path, { min: 0, max: 5 }) };
    });
    if (parts.length === 0) throw new InvalidInputError('lengths.parts', 'must not be empty');
    const min = optNum(l, 'min', 'lengths', 1, { integer: true, min: 1 });
    return { type, parts, min, max: num(l, 'max', 'lengths', { integer: true, min }) };
  }
  known(l, 'lengths', ['type', 'median', 'sigma', 'min', 'max']);
  const min = optNum(l, 'min', 'lengths', 1, { integer: true, min: 1 });
  return {
    type,
    median: num(l, 'median', 'lengths', { above: 0 }),
    sigma: num(l, 'sigma', 'lengths', { min: 0, max: 5 }),
    min,
    max: num(l, 'max', 'lengths', { integer: true, min }),
  };
}

function parsePayload(p: Obj): Scenario['payload'] {
  known(p, 'payload', ['stepBytes', 'outputBytes']);
  return { stepBytes: num(p, 'stepBytes', 'payload', { min: 1 }), outputBytes: optNum(p, 'outputBytes', 'payload', 8, { min: 0 }) };
}

function parseMapping(m: Obj, longest: number): Scenario['mapping'] {
  known(m, 'mapping', ['forgetting', 'pingIdleSeconds', 'maxSteps', 'selfCalibration']);
  const maxSteps = optNum(m, 'maxSteps', 'mapping', Math.max(longest, 1), { integer: true, min: 1 });
  if (maxSteps < longest) throw new InvalidInputError('mapping.maxSteps', `must be at least the longest input (${longest})`);
  return {
    forgetting: optNum(m, 'forgetting', 'mapping', MAPPING_DEFAULTS.forgetting, { above: 0, max: 1 }),
    pingIdleSeconds: optNum(m, 'pingIdleSeconds', 'mapping', MAPPING_DEFAULTS.pingIdleSeconds, { above: 0 }),
    maxSteps,
    selfCalibration: parseSelfCalibration(optObj(m, 'selfCalibration', 'mapping') ?? {}, 'mapping.selfCalibration'),
  };
}

function parseDevice(v: unknown, path: string): SimDevice {
  const d = obj(v, path);
  known(d, path, ['name', 'entry', 'perStepMs', 'fixedMs', 'noise', 'offloadTo', 'power', 'serving', 'batchMarginal', 'source']);
  const device: SimDevice = {
    name: str(d, 'name', path),
    entry: bool(d, 'entry', path, false),
    perStepMs: num(d, 'perStepMs', path, { min: 0 }),
    fixedMs: optNum(d, 'fixedMs', path, 0, { min: 0 }),
    noise: optNum(d, 'noise', path, 0.05, { min: 0, max: 1 }),
    offloadTo:
      d.offloadTo === undefined ? [] : list(d.offloadTo, at(path, 'offloadTo')).map((t, i) => strValue(t, at(at(path, 'offloadTo'), i))),
    serving: parseServingSettings(optObj(d, 'serving', path) ?? {}, at(path, 'serving'), SERVING_DEFAULTS.off),
    batchMarginal: optNum(d, 'batchMarginal', path, 1, { min: 0, max: 2 }),
  };
  const power = optPower(d, 'power', path);
  if (power) device.power = power;
  return device;
}

function parseLink(v: unknown, path: string): SimLink {
  const l = obj(v, path);
  known(l, path, ['from', 'to', 'rttMs', 'bandwidthMbps', 'jitter', 'source']);
  return {
    from: str(l, 'from', path),
    to: str(l, 'to', path),
    rttMs: num(l, 'rttMs', path, { min: 0 }),
    bandwidthMbps: num(l, 'bandwidthMbps', path, { above: 0 }),
    jitter: optNum(l, 'jitter', path, 0.05, { min: 0, max: 1 }),
  };
}

function parseLinkName(value: unknown, path: string): { from: string; to: string } {
  const m = typeof value === 'string' ? /^\s*([^\s>-][^\s>]*?)\s*->\s*([^\s>]+)\s*$/.exec(value) : null;
  if (!m) throw new InvalidInputError(path, `must look like "from->to", got ${JSON.stringify(value)}`);
  return { from: m[1] as string, to: m[2] as string };
}

/** Most events a file may expand to with everySec (a 2 s flap over a day is 43 200). */
const MAX_EVENTS = 100_000;

/**
 * One event, or a repeating one: with everySec and untilSec it recurs from atSec to untilSec, and
 * each value given as a list is taken in turn (cycling), so `rttMs: [150, 20]` flaps a link and a
 * list as long as the repetitions ramps a device's slowdown.
 */
function parseEvent(v: unknown, path: string): SimEvent[] {
  const e = obj(v, path);
  const atSec = num(e, 'atSec', path, { min: 0 });
  const repeating = e.everySec !== undefined || e.untilSec !== undefined;
  const everySec = repeating ? num(e, 'everySec', path, { above: 0 }) : 0;
  const untilSec = repeating ? num(e, 'untilSec', path, { min: atSec }) : atSec;
  const count = Math.floor((untilSec - atSec) / (everySec || 1) + 1e-9) + 1;
  if (count > MAX_EVENTS) throw new InvalidInputError(path, `repeats ${count} times; at most ${MAX_EVENTS}`);
  const values = <T>(key: string, parse: (x: unknown, field: string) => T): T[] | undefined => {
    const raw = e[key];
    if (raw === undefined) return undefined;
    if (!Array.isArray(raw)) return [parse(raw, at(path, key))];
    if (!repeating) throw new InvalidInputError(at(path, key), 'a list of values needs everySec and untilSec');
    if (raw.length === 0) throw new InvalidInputError(at(path, key), 'must not be empty');
    return raw.map((x, i) => parse(x, at(at(path, key), i)));
  };
  const times = Array.from({ length: count }, (_, k) => atSec + k * everySec);
  const pick = <T>(list: T[] | undefined, k: number): T | undefined => (list ? (list[k % list.length] as T) : undefined);
  if (e.link !== undefined) {
    known(e, path, ['atSec', 'everySec', 'untilSec', 'link', 'rttMs', 'bandwidthMbps']);
    const { from, to } = parseLinkName(e.link, at(path, 'link'));
    const rtts = values('rttMs', (x, f) => numValue(x, f, { min: 0 }));
    const bws = values('bandwidthMbps', (x, f) => numValue(x, f, { above: 0 }));
    if (rtts === undefined && bws === undefined) throw new InvalidInputError(path, 'a link event needs rttMs or bandwidthMbps');
    return times.map((t, k) => {
      const event: SimEvent = { atSec: t, kind: 'link', from, to };
      const rtt = pick(rtts, k);
      const bw = pick(bws, k);
      if (rtt !== undefined) event.rttMs = rtt;
      if (bw !== undefined) event.bandwidthMbps = bw;
      return event;
    });
  }
  if (e.device !== undefined) {
    known(e, path, ['atSec', 'everySec', 'untilSec', 'device', 'slowdown', 'down']);
    const device = str(e, 'device', path);
    const slowdowns = values('slowdown', (x, f) => numValue(x, f, { above: 0 }));
    const downs = values('down', (x, f) => {
      if (typeof x !== 'boolean') throw new InvalidInputError(f, `must be true or false, got ${JSON.stringify(x)}`);
      return x;
    });
    if (slowdowns === undefined && downs === undefined) throw new InvalidInputError(path, 'a device event needs slowdown or down');
    return times.map((t, k) => {
      const event: SimEvent = { atSec: t, kind: 'device', device };
      const slowdown = pick(slowdowns, k);
      const down = pick(downs, k);
      if (slowdown !== undefined) event.slowdown = slowdown;
      if (down !== undefined) event.down = down;
      return event;
    });
  }
  throw new InvalidInputError(path, 'an event needs either link or device');
}

/** Each entry of `events`, expanded: one list per entry, so errors can name the entry. */
function parseEvents(v: unknown): SimEvent[][] {
  if (v === undefined || v === null) return [];
  const groups = list(v, 'events').map((e, i) => parseEvent(e, at('events', i)));
  const total = groups.reduce((n, g) => n + g.length, 0);
  if (total > MAX_EVENTS) throw new InvalidInputError('events', `${total} events after repetition; at most ${MAX_EVENTS}`);
  return groups;
}

/** All events in time order; events at the same time keep the file's order. */
function flattenEvents(groups: SimEvent[][]): SimEvent[] {
  const events = groups.flatMap((g, i) => g.map((e) => ({ e, i })));
  return events.sort((a, b) => a.e.atSec - b.e.atSec || a.i - b.i).map(({ e }) => e);
}

function parseSweep(s: Obj): Sweep {
  known(s, 'sweep', ['link', 'rttMs']);
  const rtts = list(s.rttMs, 'sweep.rttMs').map((v, i) => numValue(v, at('sweep.rttMs', i), { min: 0 }));
  if (rtts.length === 0) throw new InvalidInputError('sweep.rttMs', 'must not be empty');
  parseLinkName(s.link, 'sweep.link');
  return { link: s.link as string, rttMs: rtts };
}

function checkTopology(s: Scenario, events: SimEvent[][]): void {
  checkOffloadGraph(s.devices, 'devices');
  const names = new Set(s.devices.map((d) => d.name));
  const entry = s.devices.find((d) => d.entry) as SimDevice;
  const linkKey = (from: string, to: string): string => `${from}->${to}`;
  const links = new Set<string>();
  s.links.forEach((l, i) => {
    const p = at('links', i);
    if (!names.has(l.from)) throw new InvalidInputError(at(p, 'from'), `unknown device "${l.from}"`);
    if (!names.has(l.to)) throw new InvalidInputError(at(p, 'to'), `unknown device "${l.to}"`);
    if (links.has(linkKey(l.from, l.to))) throw new InvalidInputError(p, `duplicate link ${linkKey(l.from, l.to)}`);
    links.add(linkKey(l.from, l.to));
  });
  s.devices.forEach((d, i) => {
    d.offloadTo.forEach((t, j) => {
      const p = at(at(at('devices', i), 'offloadTo'), j);
      if (!links.has(linkKey(d.name, t))) throw new InvalidInputError(p, `no link ${linkKey(d.name, t)} in links`);
    });
  });
  s.links.forEach((l, i) => {
    const from = s.devices.find((d) => d.name === l.from);
    if (!from?.offloadTo.includes(l.to)) throw new InvalidInputError(at('links', i), `${l.from} does not offload to ${l.to}: add it to offloadTo or drop the link`);
  });
  events.forEach((group, i) => {
    const e = group[0] as SimEvent;
    const p = at('events', i);
    if (e.kind === 'device' && !names.has(e.device)) throw new InvalidInputError(at(p, 'device'), `unknown device "${e.device}"`);
    if (e.kind === 'link' && !links.has(linkKey(e.from, e.to))) throw new InvalidInputError(at(p, 'link'), `unknown link ${linkKey(e.from, e.to)}`);
    if (e.kind === 'device' && entry.name === e.device && group.some((g) => g.kind === 'device' && g.down === true)) throw new InvalidInputError(at(p, 'down'), 'the entry device cannot go down: clients would have nowhere to send');
  });
  if (s.sweep) {
    const { from, to } = parseLinkName(s.sweep.link, 'sweep.link');
    if (!links.has(linkKey(from, to))) throw new InvalidInputError('sweep.link', `unknown link ${linkKey(from, to)}`);
  }
  if (s.objective === 'energy' && !entry.power) throw new InvalidInputError('devices', 'objective energy needs power on the entry device');
}

/** The scenario with one link's RTT replaced, for a sweep point. */
export function withLinkRtt(s: Scenario, link: string, rttMs: number): Scenario {
  const { from, to } = parseLinkName(link, 'sweep.link');
  return { ...s, links: s.links.map((l) => (l.from === from && l.to === to ? { ...l, rttMs } : l)) };
}
