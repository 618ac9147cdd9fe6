import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuntimeHealth } from './runtime-health.js';

test('a failed call marks the runtime down at once; a probe brings it back; changes are reported once', async () => {
  let answers = true;
  const changes: boolean[] = [];
  const health = new RuntimeHealth({ probe: async () => answers, onChange: (up) => changes.push(up) });
  assert.equal(health.up, true);
  health.failed();
  health.failed();
  assert.equal(health.up, false);
  answers = false;
  await health.check();
  assert.equal(health.up, false);
  answers = true;
  await health.check();
  assert.equal(health.up, true);
  assert.deepEqual(changes, [false, true]);
});

test('overlapping probes are not doubled', async () => {
  let probes = 0;
  let release: (v: boolean) => void = () => undefined;
  const health = new RuntimeHealth({
    probe: () => {
      probes++;
      return new Promise<boolean>((resolve) => (release = resolve));
    },
    onChange: () => undefined,
  });
  const first = health.check();
  await health.check();
  release(false);
  await first;
  assert.equal(probes, 1);
  assert.equal(health.up, false);
});
