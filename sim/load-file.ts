/**
 * A load file (examples/loads/*.yaml): the traffic and the events of one run, in the names of a
 * topology's devices, so that a simulated run (`crime sim --topology T --local L --load LOAD`) and a
 * live one (`crime bench mapping`, `crime up`'s control API) replay the same thing:
 *
 *   name: intermediate                # required
 *   description: free text
 *   seed: 1                           # default 1: same seed, same lengths and arrival times
 *   requests: 300
 *   arrival: { type: poisson, ratePerSec: 8 }     # or { type: closed, clients: 1, thinkMs: 0 }
 *   lengths: { type: lognormal, median: 60, sigma: 1, min: 1, max: 1000 }
 *   events: [{ atSec: 10, link: end-node->gateway, rttMs: 150 }, ...]   # runtime/timed-events.ts
 *
 * The fields read as in a simulator scenario (docs/scenarios.md); devices, links, speeds and
 * payloads come from the topology and its local settings instead.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Topology } from '../runtime/topology/topology.js';
import { InvalidInputError, known, num, obj, optNum, str } from '../runtime/validate.js';
import { checkEventTargets, eventTargetsOf, flattenEvents, parseEventGroups, type TimedEvent } from '../runtime/timed-events.js';
import { longestLength, type Lengths } from '../stats/lengths.js';
import { parseArrival, parseLengths, type Arrival } from './scenario.js';

export interface LoadFile {
  name: string;
  description: string;
  seed: number;
  requests: number;
  arrival: Arrival;
  lengths: Lengths;
  /** as written, one list per entry (checked against a topology by eventsFor) */
  eventGroups: TimedEvent[][];
}

const FIELDS = ['name', 'description', 'seed', 'requests', 'arrival', 'lengths', 'events'];

export function parseLoadFile(text: string): LoadFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new InvalidInputError('', `not valid YAML${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc, '(load)');
  known(root, '', FIELDS);
  return {
    name: str(root, 'name', ''),
    description: typeof root.description === 'string' ? root.description : '',
    seed: optNum(root, 'seed', '', 1, { integer: true, min: 0 }),
    requests: num(root, 'requests', '', { integer: true, min: 1, max: 10_000_000 }),
    arrival: parseArrival(obj(root.arrival, 'arrival')),
    lengths: parseLengths(obj(root.lengths, 'lengths')),
    eventGroups: parseEventGroups(root.events),
  };
}

/**
 * The load's events for this topology, in time order; refuses, naming the field, events about
 * devices or links the topology does not have, and inputs longer than the model accepts.
 */
export function eventsFor(load: LoadFile, t: Topology): TimedEvent[] {
  const longest = longestLength(load.lengths);
  if (longest > t.model.maxSteps) {
    throw new InvalidInputError(load.lengths.type === 'list' ? 'lengths.values' : 'lengths.max', `inputs of up to ${longest} steps, but topology ${t.name} accepts at most ${t.model.maxSteps} (spec.model.maxSteps)`);
  }
  checkEventTargets(load.eventGroups, eventTargetsOf(t.devices));
  return flattenEvents(load.eventGroups);
}
