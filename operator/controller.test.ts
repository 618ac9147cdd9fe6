import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../runtime/log.js';
import { manualTimers, settle } from '../runtime/testing/manual-timers.js';
import { Controller } from './controller.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './reconcile/queue.js';

test('a failed reconcile comes back after its backoff, a success forgets it; requeueAfter is honoured; stop waits for the reconciles in flight', async () => {
  const timers = manualTimers();
  const calls: string[] = [];
  let fail = true;
  let release: (() => void) | undefined;
  const reconciler = {
    reconcile: async (key: string) => {
      calls.push(key);
      if (key === 'ns/slow') await new Promise<void>((r) => (release = r));
      if (key === 'ns/a' && fail) throw new Error('409 conflict');
      return key === 'ns/later' ? { requeueAfterMs: 30_000 } : {};
    },
  };
  const metrics = new OperatorMetrics({ defaultMetrics: false });
  const controller = new Controller({ reconciler, metrics, logger: silentLogger, workers: 2, queue: new WorkQueue({ setTimer: timers.setTimer }) });
  controller.start();
  controller.enqueue('ns/a');
  await settle();
  assert.deepEqual(timers.pending(), [5], 'retried after the first backoff');
  timers.fire(5);
  await settle();
  assert.deepEqual(timers.pending(), [10], 'the backoff doubles');
  fail = false;
  timers.fire(10);
  await settle();
  assert.deepEqual(calls, ['ns/a', 'ns/a', 'ns/a']);
  assert.deepEqual(timers.pending(), []);
  controller.enqueue('ns/later');
  await settle();
  assert.deepEqual(timers.pending(), [30_000]);
  controller.enqueue('ns/slow');
  await settle();
  let stopped = false;
  const stopping = controller.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, 'waits for the reconcile in flight');
  release?.();
  await stopping;
  controller.enqueue('ns/a');
  await settle();
  assert.equal(calls.filter((k) => k === 'ns/a').length, 3, 'takes no more keys once stopped');
  const values = (await metrics.reconciles.get()).values;
  assert.deepEqual(Object.fromEntries(values.map((v) => [v.labels.result, v.value])), { error: 2, ok: 3 });
});
