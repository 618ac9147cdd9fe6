/**
 * Proves the state lives in etcd and watches are resumable: a client watching ConfigMaps through
 * kube-apiserver keeps going across an API server restart on the same etcd, resuming from the last
 * resourceVersion it saw without missing or repeating an event.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, Watch, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { ControlPlane } from './controlplane.js';
import { waitFor } from './wait.js';

const NS = 'watched';

interface SeenEvent {
  type: string;
  name: string;
  resourceVersion: string;
}

/**
 * Watches ConfigMaps in `namespace` from `resourceVersion`, reconnecting from the last version seen
 * whenever the stream ends or cannot be opened (as an informer does). Returns a stop function.
 */
function resumingWatch(
  kc: KubeConfig,
  namespace: string,
  resourceVersion: string,
  onEvent: (event: SeenEvent) => void,
  onConnect: () => void,
): () => void {
  const watch = new Watch(kc);
  let lastVersion = resourceVersion;
  let stopped = false;
  let controller: AbortController | undefined;

  const connect = async (): Promise<void> => {
    while (!stopped) {
      const ended = new Promise<unknown>((resolve) => {
        watch
          .watch(
            `/api/v1/namespaces/${namespace}/configmaps`,
            { resourceVersion: lastVersion, allowWatchBookmarks: true },
            (type: string, object: V1ConfigMap) => {
              const version = object.metadata?.resourceVersion;
              if (version !== undefined) lastVersion = version;
              if (type === 'BOOKMARK') return;
              // An ERROR event (e.g. 410 Gone) is recorded as such, and fails the test's event list.
              onEvent({ type, name: object.metadata?.name ?? '', resourceVersion: version ?? '' });
            },
            resolve,
          )
          .then((c) => {
            controller = c;
            onConnect();
          }, resolve);
      });
      await ended;
      if (!stopped) await sleep(200);
    }
  };
  void connect();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

describe('watch across a kube-apiserver restart (same etcd)', () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await ControlPlane.start();
  });
  after(async () => {
    await cp?.stop();
  });

  it('resumes from the last resourceVersion and sees what changed meanwhile, once', async () => {
    const core = cp.admin().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const events: SeenEvent[] = [];
    let connections = 0;
    const stop = resumingWatch(cp.admin(), NS, list.metadata?.resourceVersion ?? '0', (e) => events.push(e), () => {
      connections += 1;
    });
    try {
      await waitFor(async () => (connections > 0 ? true : undefined), { what: 'the watch to connect' });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'before' } } });
      await waitFor(async () => (events.some((e) => e.name === 'before') ? true : undefined), { what: 'ADDED before' });

      const downMs = await cp.restartApiServer();
      console.log(`kube-apiserver restarted in ${downMs} ms`);
      // A fresh client: the old connections died with the old process.
      const after = cp.admin().makeApiClient(CoreV1Api);
      await after.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after' } } });
      const before = await after.readNamespacedConfigMap({ namespace: NS, name: 'before' });
      await after.replaceNamespacedConfigMap({ namespace: NS, name: 'before', body: { ...before, data: { touched: 'yes' } } });

      await waitFor(async () => (events.filter((e) => e.name === 'before').length >= 2 && events.some((e) => e.name === 'after') ? true : undefined), {
        what: 'events after the restart',
      });
      assert.ok(connections >= 2, `the watch should have reconnected (connections: ${connections})`);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.name}`),
        ['ADDED before', 'ADDED after', 'MODIFIED before'],
      );
      const versions = events.map((e) => BigInt(e.resourceVersion));
      assert.ok(versions.every((v, i) => i === 0 || v > (versions[i - 1] ?? 0n)), 'resourceVersions keep increasing across the restart');
      // The object written before the restart is still there: the state is in etcd.
      assert.equal((await after.readNamespacedConfigMap({ namespace: NS, name: 'before' })).data?.['touched'], 'yes');
    } finally {
      stop();
    }
  });
});
