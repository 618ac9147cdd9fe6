import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SampleLog } from './sample-log.js';

test('keeps the newest samples, oldest first, whatever the cursor', () => {
  const log = new SampleLog(3);
  for (let t = 1; t <= 5; t++) log.push({ t, links: [], crossovers: [t] });
  assert.equal(log.size, 3);
  assert.deepEqual(log.since(0).samples.map((s) => s.t), [3, 4, 5]);
  assert.deepEqual(log.since(4), { samples: [{ t: 5, links: [], crossovers: [5] }], next: 5 });
  assert.deepEqual(log.since(5).samples, []);
  for (let t = 6; t <= 10_000; t++) log.push({ t, links: [], crossovers: [] });
  assert.equal(log.size, 3);
  assert.deepEqual(log.since(0).samples.map((s) => s.t), [9998, 9999, 10_000]);
});
