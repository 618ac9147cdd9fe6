import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { manualTimers, settle } from '../../runtime/testing/manual-timers.js';
import { ListWatchInformer, type InformerOptions, type WatchFn } from './informer.js';
import { RESOURCES } from './resources.js';
import type { KubeRest } from './rest.js';

type Watch = { query: Record<string, string>; onEvent: (t: string, o: unknown) => void; done: (err: unknown) => void; aborted: boolean };

/**
 * A fake API: lists answer from `objects` (or, when `hold` is set, when the test releases them),
 * watches are ended or fed by the test. Counts lists at once, to see overlaps.
 */
function fakeApi(objects: KubernetesObject[]) {
  const calls = { lists: 0, inFlight: 0, maxInFlight: 0, watches: [] as Watch[] };
  const held: Array<{ items: KubernetesObject[]; release: () => void }> = [];
  const api = {
    calls,
    held,
    hold: false,
    rest: {
      list: async (_path: string, _query: unknown, onItem: (o: KubernetesObject) => void) => {
        calls.lists++;
        const n = calls.lists;
        calls.inFlight++;
        calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
        // What the server had when the list started.
        const items = objects.map((o) => structuredClone(o));
        if (api.hold) await new Promise<void>((release) => held.push({ items, release }));
        calls.inFlight--;
        for (const o of items) onItem(o);
        return { resourceVersion: String(100 + n) };
      },
    } as unknown as KubeRest,
    watch: (async (_path, query, onEvent, done) => {
      const w: Watch = { query, onEvent, done, aborted: false };
      calls.watches.push(w);
      return { abort: () => void (w.aborted = true) };
    }) as WatchFn,
  };
  return api;
}

const cm = (name: string, rv: string): KubernetesObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

function informer(api: ReturnType<typeof fakeApi>, o: Partial<InformerOptions> = {}) {
  const timers = manualTimers();
  const restarts: string[] = [];
  const inf = new ListWatchInformer({
    rest: api.rest,
    watch: api.watch,
    resource: RESOURCES.configMap,
    backoff: { initialMs: 20, maxMs: 160 },
    relistMs: 600_000,
    setTimer: timers.setTimer,
    onRestart: (r) => restarts.push(r),
    ...o,
  });
  const seen: string[] = [];
  inf.on((e, obj) => seen.push(`${e} ${obj.metadata?.name ?? ''}@${obj.metadata?.resourceVersion ?? ''}`));
  return { inf, timers, restarts, seen };
}

test('lists, then watches from the list resourceVersion with bookmarks and a server-side timeout', async () => {
  const api = fakeApi([cm('a', '1')]);
  const { inf, seen } = informer(api, { backoff: undefined, now: () => 0 });
  inf.start();
  await inf.synced();
  await settle();
  assert.deepEqual(seen, ['add a@1']);
  assert.equal(api.calls.watches[0]?.query.resourceVersion, '101');
  assert.equal(api.calls.watches[0]?.query.allowWatchBookmarks, 'true');
  assert.equal(api.calls.watches[0]?.query.timeoutSeconds, '300');
  api.calls.watches[0]?.onEvent('MODIFIED', cm('a', '2'));
  api.calls.watches[0]?.onEvent('BOOKMARK', { metadata: { resourceVersion: '150' } });
  // The server closed the watch after its timeout: watch again from where we are, no relist.
  api.calls.watches[0]?.done(null);
  await settle();
  assert.equal(api.calls.lists, 1);
  assert.equal(api.calls.watches[1]?.query.resourceVersion, '150');
  assert.deepEqual(seen, ['add a@1', 'update a@2']);
  inf.stop();
});

test('a failed watch waits out the backoff, then watches again; a second failure relists', async () => {
  const api = fakeApi([cm('a', '1')]);
  const { inf, timers, restarts } = informer(api);
  inf.start();
  await inf.synced();
  await settle();
  api.calls.watches[0]?.done(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  await settle();
  assert.equal(api.calls.watches.length, 1, 'not retried at once');
  assert.ok(timers.fire(20), 'a wait of the initial backoff');
  await settle();
  assert.equal(api.calls.watches.length, 2, 'retried after the backoff');
  assert.equal(api.calls.lists, 1, 'the first failure watches again from where it was');
  api.calls.watches[1]?.done(new Error('connection refused'));
  await settle();
  assert.ok(timers.fire(40), 'the second wait is twice as long');
  await settle();
  assert.equal(api.calls.lists, 2, 'after an outage, relist');
  assert.deepEqual(restarts, ['error', 'error']);
  inf.stop();
});

test('410 Gone relists after the backoff and replays deletions; unchanged objects stay the cached ones', async () => {
  const objects = [cm('a', '1'), cm('b', '1')];
  const api = fakeApi(objects);
  const { inf, timers, restarts, seen } = informer(api);
  inf.start();
  await inf.synced();
  await settle();
  const cachedA = inf.get('ns', 'a');
  objects.splice(0, 2, cm('a', '1'));
  api.calls.watches[0]?.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
  await settle();
  timers.fire(20);
  await settle();
  assert.equal(api.calls.lists, 2, 'relisted');
  assert.deepEqual(seen.slice(2).sort(), ['delete b@1', 'resync a@1']);
  assert.equal(inf.get('ns', 'a'), cachedA, 'the same object, not a copy');
  assert.deepEqual(restarts, ['gone']);
  assert.ok(api.calls.watches[0]?.aborted, 'the watch that sent the ERROR is closed');
  inf.stop();
});

test('a persistent watch ERROR (too large resource version) backs off further each time instead of relisting back to back', async () => {
  const api = fakeApi([cm('a', '1')]);
  const { inf, timers, restarts } = informer(api);
  inf.start();
  await inf.synced();
  await settle();
  const tooLarge = { kind: 'Status', code: 504, reason: 'Timeout', message: 'Too large resource version: 101, current: 90', details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } };
  const waits: number[] = [];
  for (let round = 1; round <= 5; round++) {
    api.calls.watches.at(-1)?.onEvent('ERROR', tooLarge);
    await settle();
    assert.equal(api.calls.lists, round, `round ${round}: no relist before the wait`);
    const pending = timers.pending().filter((ms) => ms < 600_000 && ms !== 330_000);
    assert.equal(pending.length, 1, `round ${round}: one wait asked for`);
    waits.push(pending[0] as number);
    timers.fire(pending[0]);
    await settle();
    assert.equal(api.calls.lists, round + 1, `round ${round}: relisted after the wait`);
  }
  assert.deepEqual(waits, [20, 40, 80, 160, 160], 'the failure count grows (capped)');
  assert.deepEqual(restarts, ['error', 'error', 'error', 'error', 'error']);
  // A working watch resets the count.
  api.calls.watches.at(-1)?.onEvent('MODIFIED', cm('a', '2'));
  api.calls.watches.at(-1)?.onEvent('ERROR', tooLarge);
  await settle();
  assert.ok(timers.pending().includes(20));
  inf.stop();
});

test('a watch the server closes at once without an event is a failure, not a tight loop', async () => {
  const api = fakeApi([cm('a', '1')]);
  const { inf, timers } = informer(api, { now: () => 0 });
  inf.start();
  await inf.synced();
  await settle();
  api.calls.watches[0]?.done(null);
  await settle();
  assert.equal(api.calls.watches.length, 1);
  assert.ok(timers.fire(20));
  await settle();
  assert.equal(api.calls.watches.length, 2);
  inf.stop();
});

test('overlapping relists cannot roll the cache back: one list at a time, and one that ends after stop() changes nothing', async (t) => {
  // The process's timers, mocked, instead of an injected SetTimer: so this very test also runs
  // against the informer before a9c60a1, whose relist was a bare setInterval, and fails there.
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const objects = [cm('a', '1')];
  const api = fakeApi(objects);
  // A watchdog later than every tick below, so only the periodic relist restarts the watch.
  const inf = new ListWatchInformer({ rest: api.rest, watch: api.watch, resource: RESOURCES.configMap, backoff: { initialMs: 20, maxMs: 160 }, relistMs: 600_000, watchTimeoutSeconds: 3600 });
  const seen: string[] = [];
  inf.on((e, obj) => seen.push(`${e} ${obj.metadata?.name ?? ''}@${obj.metadata?.resourceVersion ?? ''}`));
  inf.start();
  await inf.synced();
  await settle();
  api.hold = true;
  // The periodic relist: the watch ends, a list starts (the server has a@1) and takes its time.
  t.mock.timers.tick(600_000);
  await settle();
  assert.equal(api.held.length, 1);
  objects.splice(0, 1, cm('a', '2'));
  // The next period comes while it still runs, and asks again.
  t.mock.timers.tick(600_000);
  await settle();
  // Whatever order the lists finish in, a@2 must not be followed by a@1.
  for (const h of [...api.held].reverse()) h.release();
  await settle();
  for (const h of api.held.slice(1)) h.release();
  await settle();
  const versions = seen.map((s) => Number(s.split('@')[1]));
  assert.deepEqual(versions, [...versions].sort((x, y) => x - y), `the cache went back: ${seen.join(', ')}`);
  assert.equal(api.calls.maxInFlight, 1, 'never two lists at once');

  // Stopped during a list: the list's result is dropped.
  api.held.length = 0;
  api.calls.watches.at(-1)?.onEvent('ERROR', { kind: 'Status', code: 410 });
  await settle();
  t.mock.timers.tick(160);
  await settle();
  assert.equal(api.held.length, 1);
  objects.splice(0, 1);
  const before = inf.get('ns', 'a');
  inf.stop();
  api.held[0]?.release();
  await settle();
  assert.equal(inf.get('ns', 'a'), before, 'a superseded list changes nothing');
});

test('indexes: by namespace always, and by the index functions given', async () => {
  const api = fakeApi([cm('a', '1'), { metadata: { name: 'b', namespace: 'other', resourceVersion: '1', labels: { t: 'x' } } }]);
  const { inf } = informer(api, { indexers: { label: (o) => (o.metadata?.labels?.t ? [o.metadata.labels.t] : []) } });
  inf.start();
  await inf.synced();
  await settle();
  assert.deepEqual(inf.list('ns').map((o) => o.metadata?.name), ['a']);
  assert.deepEqual(inf.byIndex('label', 'x').map((o) => o.metadata?.name), ['b']);
  api.calls.watches[0]?.onEvent('DELETED', { metadata: { name: 'b', namespace: 'other', resourceVersion: '2', labels: { t: 'x' } } });
  assert.deepEqual(inf.byIndex('label', 'x'), []);
  assert.throws(() => inf.byIndex('owner', 'u'), /no index owner/);
  inf.stop();
});
