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
import { checkEventTargets, flattenEvents, parseEventGroups, parseLinkName, type TimedEvent } from '../runtime/timed-events.js';

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

export type SimEvent = TimedEvent;

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
  /** bytes on the wire: per input step, per reply, and per request (headers; 0 in scenario files) */
  payload: { stepBytes: number; outputBytes: number; overheadBytes?: number };
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
  /**
   * What a live run adds that the devices and links do not (scenarios built from a topology, for
   * `crime up`'s processes), in ms: on every request between the client and the entry
   * (`requestMs`); on every request a device serves, after its compute, before the answer leaves
   * (`serveMs`: the mapper's call to its runtime, the emulation's timers firing late); on every
   * one-way trip between two mappers (`hopMs`: HTTP, decoding, the link emulator's timers), pings
   * included. Absent: nothing.
   */
  overhead?: { requestMs: number; serveMs: number; hopMs: number };
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
  const events = parseEventGroups(root.events);
  checkTopology(scenario, events);
  scenario.events = flattenEvents(events);
  return scenario;
}

export function parseArrival(a: Obj): Arrival {
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

export function parseLengths(l: Obj): Lengths {
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
  checkEventTargets(events, { devices: names, links, entry: entry.name });
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
