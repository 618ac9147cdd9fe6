import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEmulationLine, emulateProfile, type EmulatedProfile } from './emulated.js';
import type { Backend } from './types.js';

const instant: Backend = {
  name: 'onnx-cpu',
  info: { name: 'm', format: 'onnx', inputKind: 'tokens', featureSize: 1, outputSize: 2 },
  infer: async () => ({ outputs: new Float32Array(2), computeMs: 0.01 }),
  dispose: async () => {},
};
const input = { kind: 'tokens' as const, data: new Int32Array(10), steps: 10 };

test('an emulated device reports its profile time, and a slowdown multiplies it while it runs', async () => {
  const profile: EmulatedProfile = { perStepMs: 0.5, fixedMs: 1 };
  const backend = emulateProfile(instant, profile);
  assert.equal((await backend.infer(input)).computeMs, 6);
  assert.equal(applyEmulationLine(profile, 'slowdown 3'), undefined);
  assert.equal((await backend.infer(input)).computeMs, 18);
  assert.equal(applyEmulationLine(profile, ' slowdown 1 '), undefined);
  assert.equal((await backend.infer(input)).computeMs, 6);
});

test('control lines other than "slowdown K" with K above 0 are refused and change nothing', () => {
  const profile: EmulatedProfile = { perStepMs: 1, fixedMs: 0 };
  assert.match(applyEmulationLine(profile, 'slowdown 0') ?? '', /above 0/);
  assert.match(applyEmulationLine(profile, 'slowdown x') ?? '', /above 0/);
  assert.match(applyEmulationLine(profile, 'speed 2') ?? '', /expected "slowdown K"/);
  assert.equal(profile.slowdown, undefined);
});
