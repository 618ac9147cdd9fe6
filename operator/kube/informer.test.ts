import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ListWatchInformer, type WatchFn } from './informer.js';
import { RESOURCES } from './resources.js';
import type { KubeRest } from './rest.js';

/** A fake API: lists from `objects`, watches that the test ends or feeds. */
function fakeApi(objects: KubernetesObject[]) {
  const calls = { lists: 0, watches: [] as Array<{ query: Record<string, string>; onEvent: (t: string, o: unknown) => void; done: (err: unknown) => void }> };
  const rest = {
    list: async (_path: string, _query: unknown, onItem: (o: KubernetesObject) => void) => {
      calls.lists++;
      for (const o of objects) onItem(o);
      return { resourceVersion: String(100 + calls.lists) };
    },
  } as unknown as KubeRest;
  const watch: WatchFn = async (_path, query, onEvent, done) => {
    calls.watches.push({ query, onEvent, done });
    return { abort: () => undefined };
  };
  return { rest, watch, calls };
}

const cm = (name: string, rv: string): KubernetesObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

test('lists, then watches from the list resourceVersion with bookmarks and a server-side timeout', async () => {
  const api = fakeApi([cm('a', '1')]);
  const inf = new ListWatchInformer({ rest: api.rest, watch: api.watch, resource: RESOURCES.configMap });
  const seen: string[] = [];
  inf.on((e, o) => seen.push(`${e} ${o.metadata?.name ?? ''}`));
  inf.start();
  await inf.synced();
  await sleep(5);
  assert.deepEqual(seen, ['add a']);
  assert.equal(api.calls.watches[0]?.query.resourceVersion, '101');
  assert.equal(api.calls.watches[0]?.query.allowWatchBookmarks, 'true');
  assert.equal(api.calls.watches[0]?.query.timeoutSeconds, '300');
  api.calls.watches[0]?.onEvent('MODIFIED', cm('a', '2'));
  api.calls.watches[0]?.onEvent('BOOKMARK', { metadata: { resourceVersion: '150' } });
  // The server closed the watch after its timeout: watch again from where we are, no relist.
  api.calls.watches[0]?.done(null);
  await sleep(5);
  assert.equal(api.calls.lists, 1);
  assert.equal(api.calls.watches[1]?.query.resourceVersion, '150');
  assert.deepEqual(seen, ['add a', 'update a']);
  inf.stop();
});

test('a failed watch is retried with backoff; 410 Gone relists and replays deletions', async () => {
  const objects = [cm('a', '1'), cm('b', '1')];
  const api = fakeApi(objects);
  const restarts: string[] = [];
  const inf = new ListWatchInformer({ rest: api.rest, watch: api.watch, resource: RESOURCES.configMap, backoff: { initialMs: 20, maxMs: 40 }, onRestart: (r) => restarts.push(r) });
  const seen: string[] = [];
  inf.on((e, o) => seen.push(`${e} ${o.metadata?.name ?? ''}`));
  inf.start();
  await inf.synced();
  await sleep(5);
  api.calls.watches[0]?.done(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  await sleep(5);
  assert.equal(api.calls.watches.length, 1, 'not retried at once');
  await sleep(40);
  assert.equal(api.calls.watches.length, 2, 'retried after the backoff');
  objects.pop();
  api.calls.watches[1]?.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
  await sleep(10);
  assert.equal(api.calls.lists, 2, 'relisted');
  assert.ok(seen.includes('delete b'), 'an object gone meanwhile is reported deleted');
  assert.ok(seen.includes('resync a'), 'unchanged objects are replayed as resync');
  assert.deepEqual(restarts, ['error', 'gone']);
  inf.stop();
});

test('a relist keeps the cached object when its resourceVersion has not changed, and takes the new one when it has', async () => {
  const objects = [cm('a', '1'), cm('b', '1')];
  const api = fakeApi(objects);
  const inf = new ListWatchInformer({ rest: api.rest, watch: api.watch, resource: RESOURCES.configMap });
  inf.start();
  await inf.synced();
  await sleep(5);
  const cachedA = inf.get('ns', 'a');
  objects.splice(0, 2, cm('a', '1'), cm('b', '2'));
  const seen: string[] = [];
  inf.on((e, o) => seen.push(`${e} ${o.metadata?.name ?? ''}`));
  api.calls.watches[0]?.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
  await sleep(10);
  assert.equal(api.calls.lists, 2);
  assert.equal(inf.get('ns', 'a'), cachedA, 'the same object, not a copy');
  assert.equal(inf.get('ns', 'b')?.metadata?.resourceVersion, '2');
  assert.deepEqual(seen.sort(), ['resync a', 'update b']);
  inf.stop();
});
