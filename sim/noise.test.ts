import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Noise } from './noise.js';

test('noise depends on (seed, request, device, stage) only, not on the order of first use', () => {
  const a = new Noise(7);
  const b = new Noise(7);
  // b meets the keys in the opposite order, as another policy visiting other devices first would.
  const fromA = { gw: a.compute(3, 'gateway'), up: a.up(3, 'end', 'gateway'), down: a.down(3, 'end', 'gateway'), cloud: a.compute(3, 'cloud') };
  const cloud = b.compute(3, 'cloud');
  const down = b.down(3, 'end', 'gateway');
  const up = b.up(3, 'end', 'gateway');
  assert.deepEqual(fromA, { gw: b.compute(3, 'gateway'), up, down, cloud });
  assert.notEqual(a.compute(3, 'gateway'), a.compute(4, 'gateway'));
  assert.notEqual(a.up(3, 'end', 'gateway'), a.down(3, 'end', 'gateway'));
  assert.notEqual(new Noise(8).compute(3, 'gateway'), a.compute(3, 'gateway'));
});

test('the draws are standard normal', () => {
  const noise = new Noise(1);
  const xs = Array.from({ length: 20000 }, (_, i) => noise.compute(i, 'd'));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
});
