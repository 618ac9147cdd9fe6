/**
 * Events over time in the names of a topology's devices: a link's RTT or bandwidth changes, a
 * device slows down, goes down or comes back. One format for a simulator scenario, a load file
 * (examples/loads/) and the control API of `crime up`, which plays them on a live run; this parses
 * and checks them.
 *
 *   - { atSec: 300, link: gateway->cloud, rttMs: 200 }          # and/or bandwidthMbps
 *   - { atSec: 600, device: cloud, slowdown: 3 }                # compute times × 3 from now on (1 restores)
 *   - { atSec: 900, device: cloud, down: true }                 # down: false brings it back
 *   - { atSec: 60, everySec: 10, untilSec: 900, link: a->b, rttMs: [150, 20] }   # repeats, values in turn
 */
import { InvalidInputError, at, known, list, num, numValue, obj, str } from './validate.js';

export type TimedEvent =
  | { atSec: number; kind: 'link'; from: string; to: string; rttMs?: number; bandwidthMbps?: number }
  | { atSec: number; kind: 'device'; device: string; slowdown?: number; down?: boolean };

/** Most events a list may expand to with everySec (a 2 s flap over a day is 43 200). */
export const MAX_EVENTS = 100_000;

export function parseLinkName(value: unknown, path: string): { from: string; to: string } {
  const m = typeof value === 'string' ? /^\s*([^\s>-][^\s>]*?)\s*->\s*([^\s>]+)\s*$/.exec(value) : null;
  if (!m) throw new InvalidInputError(path, `must look like "from->to", got ${JSON.stringify(value)}`);
  return { from: m[1] as string, to: m[2] as string };
}

/**
 * One event, or a repeating one: with everySec and untilSec it recurs from atSec to untilSec, and
 * each value given as a list is taken in turn (cycling), so `rttMs: [150, 20]` flaps a link and a
 * list as long as the repetitions ramps a device's slowdown.
 */
function parseEvent(v: unknown, path: string): TimedEvent[] {
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
      const event: TimedEvent = { atSec: t, kind: 'link', from, to };
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
      const event: TimedEvent = { atSec: t, kind: 'device', device };
      const slowdown = pick(slowdowns, k);
      const down = pick(downs, k);
      if (slowdown !== undefined) event.slowdown = slowdown;
      if (down !== undefined) event.down = down;
      return event;
    });
  }
  throw new InvalidInputError(path, 'an event needs either link or device');
}

/** Each entry of an `events` list, expanded: one list per entry, so errors can name the entry. */
export function parseEventGroups(v: unknown, path = 'events'): TimedEvent[][] {
  if (v === undefined || v === null) return [];
  const groups = list(v, path).map((e, i) => parseEvent(e, at(path, i)));
  const total = groups.reduce((n, g) => n + g.length, 0);
  if (total > MAX_EVENTS) throw new InvalidInputError(path, `${total} events after repetition; at most ${MAX_EVENTS}`);
  return groups;
}

/** All events in time order; events at the same time keep the list's order. */
export function flattenEvents(groups: readonly TimedEvent[][]): TimedEvent[] {
  const events = groups.flatMap((g, i) => g.map((e) => ({ e, i })));
  return events.sort((a, b) => a.e.atSec - b.e.atSec || a.i - b.i).map(({ e }) => e);
}

/** What events may name: the devices, the links ("from->to", one per offload pair) and the entry. */
export interface EventTargets {
  devices: ReadonlySet<string>;
  links: ReadonlySet<string>;
  entry: string;
}

/** The devices and offload pairs of a topology (or scenario) as event targets. */
export function eventTargetsOf(devices: ReadonlyArray<{ name: string; entry: boolean; offloadTo: readonly string[] }>): EventTargets {
  return {
    devices: new Set(devices.map((d) => d.name)),
    links: new Set(devices.flatMap((d) => d.offloadTo.map((to) => `${d.name}->${to}`))),
    entry: devices.find((d) => d.entry)?.name ?? '',
  };
}

/** Refuses, naming the entry of the list, an event about an unknown device or link, or the entry going down. */
export function checkEventTargets(groups: readonly TimedEvent[][], targets: EventTargets, path = 'events'): void {
  groups.forEach((group, i) => {
    const e = group[0];
    if (!e) return;
    const p = at(path, i);
    if (e.kind === 'device' && !targets.devices.has(e.device)) throw new InvalidInputError(at(p, 'device'), `unknown device "${e.device}"`);
    if (e.kind === 'link' && !targets.links.has(`${e.from}->${e.to}`)) throw new InvalidInputError(at(p, 'link'), `unknown link ${e.from}->${e.to}`);
    if (e.kind === 'device' && targets.entry === e.device && group.some((g) => g.kind === 'device' && g.down === true)) {
      throw new InvalidInputError(at(p, 'down'), 'the entry device cannot go down: clients would have nowhere to send');
    }
  });
}

/** Parses and checks an events list against a topology's targets, in time order. */
export function parseEvents(v: unknown, targets: EventTargets, path = 'events'): TimedEvent[] {
  const groups = parseEventGroups(v, path);
  checkEventTargets(groups, targets, path);
  return flattenEvents(groups);
}
