import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventPlayer, type EventTarget } from './event-player.js';
import type { TimedEvent } from '../runtime/timed-events.js';

function recorder(): EventTarget & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    setLink: (from, to, c) => log.push(`link ${from}->${to} ${JSON.stringify(c)}`),
    setSlowdown: (d, k) => {
      if (d === 'cloud') throw new Error('cloud runs at this machine\'s speed');
      log.push(`slowdown ${d} ${k}`);
    },
    killDevice: async (d) => {
      await new Promise((r) => setTimeout(r, 5));
      log.push(`kill ${d}`);
    },
    startDevice: async (d) => {
      log.push(`start ${d}`);
    },
  };
}

const EVENTS: TimedEvent[] = [
  { atSec: 0, kind: 'link', from: 'a', to: 'b', rttMs: 100 },
  { atSec: 0, kind: 'device', device: 'b', down: true },
  { atSec: 0, kind: 'device', device: 'b', down: false },
  { atSec: 0.01, kind: 'device', device: 'a', slowdown: 2 },
  { atSec: 0.02, kind: 'device', device: 'cloud', slowdown: 3 },
  { atSec: 0.03, kind: 'link', from: 'a', to: 'b', bandwidthMbps: 5 },
];

test('events are applied in order, each once, a device started only after it was killed; failures are recorded', async () => {
  const target = recorder();
  const player = new EventPlayer({ events: EVENTS, target });
  await player.done();
  assert.deepEqual(target.log, ['link a->b {"rttMs":100}', 'kill b', 'start b', 'slowdown a 2', 'link a->b {"bandwidthMbps":5}']);
  assert.equal(player.pending, 0);
  assert.match(player.played[4]?.error ?? '', /machine's speed/);
  assert.ok(player.played.filter((p) => p.error === undefined).every((p) => p.appliedMs !== undefined));
});

test('cancel drops the events not yet due', async () => {
  const target = recorder();
  const player = new EventPlayer({ events: [{ atSec: 0, kind: 'device', device: 'a', slowdown: 2 }, { atSec: 60, kind: 'device', device: 'a', slowdown: 1 }], target });
  await new Promise((r) => setTimeout(r, 20));
  player.cancel();
  await player.done();
  assert.deepEqual(target.log, ['slowdown a 2']);
  assert.equal(player.pending, 1);
});
