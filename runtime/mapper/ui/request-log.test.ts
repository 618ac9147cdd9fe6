import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_DEVICE, OTHER_DEVICE, REQUEST_FLAGS } from './browser/live-data.js';
import { MAX_DEVICES, RequestLog } from './request-log.js';

test('keeps the newest requests in order, with a cursor that survives the ring wrapping', () => {
  let now = 1000;
  const log = new RequestLog({ capacity: 4, clock: () => now });
  log.declare(['edge', 'cloud']);
  for (let i = 1; i <= 3; i++) {
    now += 10;
    log.record(i, i % 2 ? 'edge' : 'cloud', 0, i / 3);
  }
  assert.deepEqual(log.since(0).points.map((p) => p[1]), [1, 2, 3]);
  assert.deepEqual(log.since(2), { points: [[1030, 3, 0, 0, 1]], next: 3 });
  for (let i = 4; i <= 9; i++) log.record(i, 'cloud', REQUEST_FLAGS.fallback, 1);
  // A cursor older than the ring gets what is still kept; the max keeps the newest.
  assert.deepEqual(log.since(2).points.map((p) => p[1]), [6, 7, 8, 9]);
  assert.deepEqual(log.since(0, 2).points.map((p) => p[1]), [8, 9]);
  assert.deepEqual(log.since(9), { points: [], next: 9 });
  assert.deepEqual(log.counts(), { edge: 2, cloud: 7 });
});

test('a failed request counts under (none) and is flagged failed', () => {
  const log = new RequestLog({ capacity: 8 });
  log.record(5, undefined, REQUEST_FLAGS.peer | REQUEST_FLAGS.fallback, 12);
  const [point] = log.since(0).points;
  assert.equal(log.devices[point?.[2] ?? -1], NO_DEVICE);
  assert.equal(point?.[3], REQUEST_FLAGS.peer | REQUEST_FLAGS.fallback | REQUEST_FLAGS.failed);
});

test('an hour at 100 requests/s from ever new device names takes the memory of the first minute', () => {
  const log = new RequestLog({ capacity: 4096 });
  const total = 100 * 3600;
  const minute = 100 * 60;
  let kept = 0;
  for (let i = 0; i < total; i++) {
    // A peer may name any device: the names table stays bounded too.
    log.record(1 + (i % 997), `device-${i % 5000}`, 0, 3);
    if (i === minute) kept = log.since(0).points.length;
  }
  assert.equal(kept, 4096);
  assert.equal(log.since(0).points.length, 4096);
  assert.equal(log.seq, total);
  assert.equal(log.devices.length, MAX_DEVICES - 1);
  assert.ok(log.devices.includes(OTHER_DEVICE));
  const counts = log.counts();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), total);
  assert.ok((counts[OTHER_DEVICE] ?? 0) > total / 2);
});
