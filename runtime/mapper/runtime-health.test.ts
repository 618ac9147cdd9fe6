import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuntimeHealth, type Readiness } from './runtime-health.js';

test('a failed call marks the runtime down at once; a probe brings it back; changes are reported once', async () => {
  let answer: Readiness = 'ready';
  const changes: boolean[] = [];
  const health = new RuntimeHealth({ probe: async () => answer, onChange: (up) => changes.push(up) });
  assert.equal(health.up, true);
  health.failed();
  health.failed();
  assert.equal(health.up, false);
  answer = 'not-ready';
  await health.check();
  assert.equal(health.up, false);
  answer = 'ready';
  await health.check();
  assert.equal(health.up, true);
  assert.deepEqual(changes, [false, true]);
});

test('a runtime that does not answer in time is down the second time in a row, not the first', async () => {
  let answer: Readiness = 'silent';
  const health = new RuntimeHealth({ probe: async () => answer, onChange: () => undefined });
  await health.check();
  assert.equal(health.up, true, 'one silent probe may be a busy runtime');
  answer = 'ready';
  await health.check();
  answer = 'silent';
  await health.check();
  assert.equal(health.up, true, 'an answer in between starts the count again');
  await health.check();
  assert.equal(health.up, false);
});

test('overlapping probes are not doubled', async () => {
  let probes = 0;
  let release: (v: Readiness) => void = () => undefined;
  const health = new RuntimeHealth({
    probe: () => {
      probes++;
      return new Promise<Readiness>((resolve) => (release = resolve));
    },
    onChange: () => undefined,
  });
  const first = health.check();
  await health.check();
  release('not-ready');
  await first;
  assert.equal(probes, 1);
  assert.equal(health.up, false);
});
