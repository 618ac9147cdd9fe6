import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTopology } from '../runtime/topology/topology.js';
import { InvalidInputError } from '../runtime/validate.js';
import { eventsFor, parseLoadFile } from './load-file.js';

const LOADS = fileURLToPath(new URL('../../examples/loads/', import.meta.url));
const TOPOLOGY = parseTopology(readFileSync(fileURLToPath(new URL('../../examples/topologies/three-tier.yaml', import.meta.url)), 'utf8'));

const BASE = `name: t
requests: 10
arrival: { type: poisson, ratePerSec: 5 }
lengths: { type: uniform, min: 1, max: 100 }
`;

test('every shipped load file reads, and its events fit the three-tier example', () => {
  const files = readdirSync(LOADS).filter((f) => f.endsWith('.yaml') && !f.endsWith('.local.yaml'));
  assert.ok(files.length >= 4, files.join(', '));
  for (const f of files) {
    const load = parseLoadFile(readFileSync(`${LOADS}${f}`, 'utf8'));
    assert.equal(`${load.name}.yaml`, f);
    eventsFor(load, TOPOLOGY);
  }
  const slow = parseLoadFile(readFileSync(`${LOADS}link-slowdown.yaml`, 'utf8'));
  assert.deepEqual(eventsFor(slow, TOPOLOGY).map((e) => [e.atSec, e.kind === 'link' ? e.rttMs : undefined]), [[25, 250], [50, 40]]);
});

test('a load file reads like a scenario: defaults, repeating events in time order', () => {
  const load = parseLoadFile(`${BASE}events:\n  - { atSec: 5, device: cloud, slowdown: 2 }\n  - { atSec: 1, everySec: 2, untilSec: 3, link: gateway->cloud, rttMs: [100, 10] }\n`);
  assert.equal(load.seed, 1);
  assert.deepEqual(load.arrival, { type: 'poisson', ratePerSec: 5 });
  assert.deepEqual(eventsFor(load, TOPOLOGY).map((e) => e.atSec), [1, 3, 5]);
});

test('bad load files are refused naming the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    [BASE.replace('requests: 10', 'requests: 0'), 'requests', /≥ 1/],
    [`${BASE}objective: energy\n`, 'objective', /unknown field/],
    [BASE.replace('poisson', 'burst'), 'arrival.type', /poisson, closed/],
    [`${BASE}events:\n  - { atSec: 1, link: gateway-cloud, rttMs: 5 }\n`, 'events[0].link', /from->to/],
    [`${BASE}events:\n  - { atSec: 1, device: cloud }\n`, 'events[0]', /needs slowdown or down/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(() => parseLoadFile(text), (e: unknown) => e instanceof InvalidInputError && e.field === field && message.test(e.message), field);
  }
  const against: Array<[string, string, RegExp]> = [
    [`${BASE}events:\n  - { atSec: 1, device: clod, slowdown: 2 }\n`, 'events[0].device', /unknown device "clod"/],
    [`${BASE}events:\n  - { atSec: 1, link: cloud->gateway, rttMs: 5 }\n`, 'events[0].link', /unknown link cloud->gateway/],
    [`${BASE}events:\n  - { atSec: 1, device: end-node, down: true }\n`, 'events[0].down', /entry device cannot go down/],
    [BASE.replace('max: 100', 'max: 5000'), 'lengths.max', /up to 5000 steps, but topology imdb-sentiment accepts at most 1000/],
  ];
  for (const [text, field, message] of against) {
    assert.throws(() => eventsFor(parseLoadFile(text), TOPOLOGY), (e: unknown) => e instanceof InvalidInputError && e.field === field && message.test(e.message), field);
  }
});
