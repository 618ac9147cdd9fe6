import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchGain, batchOutlook } from './batching.js';
import { BatchQueue } from './batch-queue.js';
import { MappingEngine } from './engine.js';
import { calibrate, leafAdvert, manualClock, networkMs, warmLinks } from './fixtures.js';
import { evalPiece } from './cost-curve.js';

const close = (a: number, b: number, tol = 1e-9): boolean => Math.abs(a - b) <= tol;

test('BatchGain: from the prior (no gain) to what batches really cost, forgetting old batches', () => {
  const gpu = new BatchGain(0.98);
  assert.equal(gpu.factor(8), 8, 'before any batch: as if batching gained nothing');
  for (let k = 0; k < 50; k++) gpu.observe(16, 1.02 + (k % 2 ? 0.01 : -0.01));
  assert.ok(gpu.marginal < 0.01, `${gpu.marginal}`);
  assert.ok(gpu.factor(64) < 1.6);
  const cpu = new BatchGain(0.98);
  for (const b of [2, 4, 8, 16, 4, 8]) cpu.observe(b, 1 + 0.55 * (b - 1));
  assert.ok(Math.abs(cpu.marginal - 0.55) < 0.06, `${cpu.marginal}`);
  cpu.observe(1, 5);
  cpu.observe(4, Number.NaN);
  assert.ok(Math.abs(cpu.marginal - 0.55) < 0.06, 'batches of one and nonsense teach nothing');
});

test('batchOutlook: a free slot starts a request at once (unless held for companions); a busy one makes it wait with those queued', () => {
  const serving = { maxBatch: 4, maxDelayMs: 0, concurrency: 1 };
  const service = (steps: number, batch: number): number => steps * (1 + 0.5 * (batch - 1));
  assert.deepEqual(batchOutlook({ now: 100, busyUntil: [], waiting: [], serving, service }), { waitMs: 0, batch: 1 });
  assert.deepEqual(batchOutlook({ now: 100, busyUntil: [], waiting: [], serving: { ...serving, maxDelayMs: 3 }, service }), { waitMs: 3, batch: 1 });
  // Busy until 130, two waiting: it runs with them at 130.
  assert.deepEqual(batchOutlook({ now: 100, busyUntil: [130], waiting: [10, 20], serving, service }), { waitMs: 30, batch: 3 });
  // Five waiting: the first four run at 130 for service(20, 4) = 50, it runs at 180 with the fifth.
  assert.deepEqual(batchOutlook({ now: 100, busyUntil: [130], waiting: [10, 20, 10, 10, 10], serving, service }), { waitMs: 80, batch: 2 });
  // Two slots: the second is free.
  assert.deepEqual(batchOutlook({ now: 100, busyUntil: [130], waiting: [], serving: { ...serving, concurrency: 2 }, service }), { waitMs: 0, batch: 1 });
});

test('BatchQueue: runs form from what is outstanding; a run frees its slot when all of it is answered', () => {
  const q = new BatchQueue({ maxBatch: 2, maxDelayMs: 0, concurrency: 1 }, (steps, batch) => steps * batch);
  const a = q.enqueue(10, 0, 0);
  assert.deepEqual(q.outlook(0), { waitMs: 10, batch: 1 });
  const b = q.enqueue(10, 0, 1);
  const c = q.enqueue(30, 0, 2);
  assert.equal(q.length, 3);
  // a runs until 10; b and c wait and will run together.
  assert.deepEqual(q.outlook(2), { waitMs: 8 + 60, batch: 1 });
  q.finish(a, 10);
  assert.deepEqual(q.outlook(10), { waitMs: 60, batch: 1 });
  q.finish(b, 70);
  assert.equal(q.length, 1);
  q.finish(c, 70);
  assert.deepEqual(q.outlook(70), { waitMs: 0, batch: 1 });
});

/** A caller next to a batching cloud, or the cloud itself. */
function batchingCloud(): { e: MappingEngine; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock();
  const e = new MappingEngine({
    device: 'cloud', neighbours: [], objective: 'latency', payload: { stepBytes: 1200, outputBytes: 8 }, maxSteps: 2000,
    forgetting: 0.98, pingIdleMs: 5000, clock: clock.now, serving: { maxBatch: 64, maxDelayMs: 0, concurrency: 1 },
  });
  calibrate(e, 0.02, 1);
  return { e, clock };
}

test('a batching device learns what a batch costs from the batch each reply ran in, and its queue costs batches, not requests', () => {
  const { e, clock } = batchingCloud();
  // 40 requests queued behind a run: as one batch, not 40 runs one after another.
  const first = e.startLocal(100);
  const queued = Array.from({ length: 40 }, () => e.startLocal(100));
  const prior = e.decide(100).choice;
  // It would run when the run in progress ends (in 3 ms), with the 40: a batch of 41, believed (before
  // any batch was seen) to cost 41 lone runs.
  assert.ok(close(prior?.queueMs ?? NaN, 3, 1e-3), `${prior?.queueMs}`);
  assert.ok(close(prior?.latencyMs ?? NaN, 3 + 41 * 3, 1e-3), `${prior?.latencyMs}`);
  clock.advance(3);
  e.finishLocal(first, 3, { size: 1, steps: 100 });
  // The batch of 40 took about what one request takes (a GPU).
  clock.advance(3.2);
  for (const t of queued) e.finishLocal(t, 3.2, { size: 40, steps: 100 });
  const snap = e.snapshot();
  assert.ok((snap.batching?.marginal ?? 1) < 0.5, `${snap.batching?.marginal}`);
  // The lone-run model did not learn the batch's time as one request's.
  assert.ok(close(snap.compute.perStepMs, 0.02, 1e-3));
  // Now 40 queued behind a run cost about one run.
  const next = e.startLocal(100);
  for (let k = 0; k < 40; k++) e.startLocal(100);
  const latency = e.decide(100).choice?.latencyMs ?? NaN;
  assert.ok(latency < 3 + 41 * 3 / 4, `${latency}`);
  e.finishLocal(next, 3, { size: 1, steps: 100 });
});

test('a batching device advertises the share of a run one request takes; its callers count only that share in its queue', () => {
  const cloud = batchingCloud();
  for (let k = 0; k < 30; k++) {
    const ts = Array.from({ length: 16 }, () => cloud.e.startLocal(100));
    cloud.clock.advance(3.1);
    for (const t of ts) cloud.e.finishLocal(t, 3.1, { size: 16, steps: 100 });
  }
  const advert = cloud.e.advertise();
  assert.ok(advert.added, 'a batching device says what one more request adds');
  assert.ok(evalPiece(advert.added, 100) < evalPiece(advert.local!, 100) / 10);

  const clock = manualClock();
  const caller = new MappingEngine({
    device: 'edge', neighbours: [{ name: 'cloud' }], objective: 'latency', payload: { stepBytes: 1200, outputBytes: 8 }, maxSteps: 2000,
    forgetting: 0.98, pingIdleMs: 5000, clock: clock.now,
  });
  calibrate(caller, 3, 2);
  const link = { rttMs: 20, bandwidthMbps: 20 };
  warmLinks(caller, { cloud: link }, { cloud: () => advert }, clock.advance, 5000);
  const before = caller.snapshot().neighbours[0]?.queueMs ?? NaN;
  for (let k = 0; k < 20; k++) caller.startOffload('cloud', 100);
  clock.advance(networkMs(link, 0));
  const after = caller.snapshot().neighbours[0]?.queueMs ?? NaN;
  assert.ok(after - before < 20 * evalPiece(advert.local!, 100) / 5, `20 requests added ${after - before} ms`);
  // A non-batching neighbour's queue grows by every request's whole run.
  const plain = leafAdvert(0.02, 1);
  assert.equal(plain.added, undefined);
});
