import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MappingEngine } from '../engine/engine.js';
import { silentLogger } from '../log.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import type { ModelInput } from '../backends/types.js';
import { parseMapperConfig } from './config.js';
import { MapperMetrics } from './metrics.js';
import { Pipeline, type LocalRuntime } from './pipeline.js';
import { startSelfCalibration } from './self-calibration.js';
import type { MapperState } from './state.js';

const POLICY = { budget: 0.5, idleMs: 20, tolerance: 0.2, lengths: [1, 8, 32] };

function setup(infer: LocalRuntime['infer']): { state: MapperState; engine: MappingEngine; metrics: MapperMetrics; runtime: LocalRuntime } {
  const engine = new MappingEngine({
    device: 'edge',
    neighbours: [],
    objective: 'latency',
    payload: { stepBytes: 64, outputBytes: 8 },
    maxSteps: 200,
    forgetting: 0.98,
    pingIdleMs: 5000,
    clock: () => performance.now(),
  });
  const metrics = new MapperMetrics({ snapshot: () => engine.snapshot(), defaultMetrics: false });
  const runtime: LocalRuntime = { infer };
  const pipeline = new Pipeline({ device: 'edge', engine, runtime, peers: new Map(), logger: silentLogger, metrics });
  const model = { name: 'm', inputKind: 'floats', featureSize: 16, outputSize: 2, maxSteps: 200 } as unknown as RuntimeModelInfo;
  const state: MapperState = { device: 'edge', pipeline, model, maxSteps: 200, token: undefined, clientsNeedToken: false, limits: parseMapperConfig(JSON.stringify({ device: 'edge', runtime: { url: 'http://127.0.0.1:1' }, auth: { disabled: true } })).limits, requestTimeoutMs: 1000, selfCalibration: POLICY, runtime: { up: true } };
  return { state, engine, metrics, runtime };
}

test('the live loop runs the calibrations the engine asks for through the runtime and counts them', async () => {
  const seen: Array<{ steps: number; id: string }> = [];
  const { state, engine, metrics, runtime } = setup(async (input: ModelInput, options) => {
    seen.push({ steps: input.steps, id: options.requestId });
    const ms = 0.5 * input.steps + 1;
    return { outputs: new Float32Array(2), computeMs: ms, queueMs: 0, remoteMs: ms, roundTripMs: ms, batch: { size: 1, steps: input.steps } };
  });
  const loop = startSelfCalibration({ state: () => state, runtime, metrics, logger: silentLogger, tickMs: 5 });
  await sleep(400);
  loop.stop();
  const count = seen.length;
  assert.ok(count >= 3, `${count} runs`);
  assert.ok(seen.every((s) => s.id.startsWith('self-calibrate-') && POLICY.lengths.includes(s.steps)));
  // The model learned the runtime's line from them.
  const piece = engine.computePiece()!;
  assert.ok(Math.abs(piece.slope - 0.5) < 0.05 && Math.abs(piece.intercept - 1) < 0.5, JSON.stringify(piece));
  assert.equal(engine.snapshot().compute.selfCalibrations, count);
  const text = await metrics.registry.metrics();
  assert.match(text, new RegExp(`crime_mapper_self_calibrations_total\\{outcome="ok"\\} ${count}`));
  assert.match(text, /crime_mapper_self_calibration_seconds_total \d/);
  await sleep(50);
  assert.equal(seen.length, count, 'no run after stop()');
});

test('a failed run leaves the runtime queue empty and is counted by its error', async () => {
  const { state, engine, metrics, runtime } = setup(async () => {
    throw new Error('runtime gone');
  });
  const loop = startSelfCalibration({ state: () => state, runtime, metrics, logger: silentLogger, tickMs: 5 });
  await sleep(100);
  loop.stop();
  assert.equal(engine.snapshot().queueLength, 0);
  assert.equal(engine.snapshot().compute.selfCalibrations, 0);
  assert.match(await metrics.registry.metrics(), /crime_mapper_self_calibrations_total\{outcome="[A-Z_]+"\} [1-9]/);
});

test('the loop reads the policy from the current state: a reload to budget 0 stops the runs', async () => {
  let runs = 0;
  const { state, metrics, runtime } = setup(async () => {
    runs++;
    return { outputs: new Float32Array(2), computeMs: 1, queueMs: 0, remoteMs: 1, roundTripMs: 1, batch: { size: 1, steps: 1 } };
  });
  let current = state;
  const loop = startSelfCalibration({ state: () => current, runtime, metrics, logger: silentLogger, tickMs: 5 });
  await sleep(200);
  assert.ok(runs >= 1, `${runs} runs before the reload`);
  current = { ...state, selfCalibration: { ...POLICY, budget: 0 } };
  await sleep(20);
  const before = runs;
  await sleep(300);
  loop.stop();
  assert.equal(runs, before, 'no run once the budget is 0');
});
