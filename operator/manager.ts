/**
 * The operator process: API clients, informers feeding a work queue, reconcile workers, leader
 * election, and /healthz, /readyz, /metrics. Thin: the work is in reconcile/ (what to do for one
 * key), render/ (pure manifests and status) and kube/ (all API I/O).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1NetworkPolicy, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../runtime/log.js';
import { loadKubeConfig } from './kube/credentials.js';
import { EventRecorder } from './kube/events.js';
import { ListWatchInformer, watchWith, type WatchFn } from './kube/informer.js';
import { LeaderElector } from './kube/lease.js';
import { RESOURCES, type Resource } from './kube/resources.js';
import { KubeRest, type KubeClientConfig } from './kube/rest.js';
import { childForCache, deploymentForCache, metadataOnly, podForStatus } from './kube/trim.js';
import { KubeWriter } from './kube/writer.js';
import { OperatorMetrics } from './metrics.js';
import { LABELS, MANAGED_SELECTOR, labelValue } from './render/names.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render/options.js';
import { WorkQueue } from './reconcile/queue.js';
import { Reconciler } from './reconcile/reconciler.js';
import type { Caches, RnnTopologyObject } from './reconcile/types.js';

export interface OperatorOptions {
  /**
   * a kubeconfig file, or a client configuration (client-node's KubeConfig works); without one the
   * in-cluster service account, else $KUBECONFIG, else ~/.kube/config (see kube/credentials.ts)
   */
  kubeconfig?: string | KubeClientConfig;
  /** watch one namespace; every namespace by default */
  namespace?: string;
  metricsHost?: string;
  /** 0 picks a free port */
  metricsPort?: number;
  leaderElection?: { namespace: string; name?: string; identity?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  render?: RenderOptions;
  /** reconciles at once (default 4) */
  workers?: number;
  logger?: Logger;
  /** informer tuning, for tests */
  informer?: { relistMs?: number; watchTimeoutSeconds?: number; watch?: WatchFn };
  /** the process's default metrics (default true) */
  defaultMetrics?: boolean;
  /** called when leadership is lost: by default the process exits, as controller-runtime does */
  onLostLeadership?: () => void;
}

export interface Operator {
  metricsUrl: string;
  metrics: OperatorMetrics;
  /** resolves once this replica leads and its caches are synced */
  leading: Promise<void>;
  close(): Promise<void>;
}

export async function startOperator(o: OperatorOptions = {}): Promise<Operator> {
  const logger = o.logger ?? silentLogger;
  const metrics = new OperatorMetrics({ defaultMetrics: o.defaultMetrics ?? true });
  const kc = await loadKubeConfig(o.kubeconfig, { logger });
  const rest = new KubeRest(kc, {
    onCall: (verb, code, seconds) => {
      metrics.apiRequests.inc({ verb, code: String(code) });
      metrics.apiSeconds.observe({ verb }, seconds);
    },
  });
  const watch = o.informer?.watch ?? watchWith(rest);
  const informer = <T extends KubernetesObject>(resource: Resource, labelSelector?: string, transform?: (o: KubernetesObject) => KubernetesObject): ListWatchInformer<T> =>
    new ListWatchInformer<T>({
      ...(transform ? { transform } : {}),
      rest,
      watch,
      resource,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      logger,
      ...(o.informer?.relistMs ? { relistMs: o.informer.relistMs } : {}),
      ...(o.informer?.watchTimeoutSeconds ? { watchTimeoutSeconds: o.informer.watchTimeoutSeconds } : {}),
      onRestart: (reason) => metrics.informerRestarts.inc({ kind: resource.kind, reason }),
    });
  const caches = {
    topologies: informer<RnnTopologyObject>(RESOURCES.topology),
    // Each cache keeps only what a reconcile reads (kube/trim.ts).
    deployments: informer<V1Deployment>(RESOURCES.deployment, MANAGED_SELECTOR, deploymentForCache),
    services: informer<V1Service>(RESOURCES.service, MANAGED_SELECTOR, childForCache),
    configMaps: informer<V1ConfigMap>(RESOURCES.configMap, MANAGED_SELECTOR, childForCache),
    // The operator only needs to know the token Secret exists: it never holds a token in memory.
    secrets: informer<V1Secret>(RESOURCES.secret, MANAGED_SELECTOR, metadataOnly),
    pods: informer<V1Pod>(RESOURCES.pod, `${LABELS.name}=crime,${LABELS.component}=device`, podForStatus),
    ...(o.render?.networkPolicy ? { networkPolicies: informer<V1NetworkPolicy>(RESOURCES.networkPolicy, MANAGED_SELECTOR, childForCache) } : {}),
  } satisfies Caches;
  const queue = new WorkQueue();
  const reconciler = new Reconciler({
    caches,
    writer: new KubeWriter(rest),
    events: new EventRecorder(rest, logger),
    render: o.render ?? DEFAULT_RENDER_OPTIONS,
    logger,
  });

  // Events on anything enqueue the topology it belongs to; the reconcile reads the world itself.
  const enqueue = (namespace: string | undefined, name: string | undefined): void => {
    if (!namespace || !name) return;
    queue.add(`${namespace}/${name}`);
    metrics.queueDepth.set(queue.depth);
  };
  caches.topologies.on((_event, t) => enqueue(t.metadata.namespace, t.metadata.name));
  for (const children of [caches.deployments, caches.services, caches.configMaps, caches.secrets, ...(caches.networkPolicies ? [caches.networkPolicies] : [])]) {
    (children as ListWatchInformer<KubernetesObject>).on((event, child) => {
      if (event === 'resync') return;
      const owner = child.metadata?.ownerReferences?.find((r) => r.kind === 'RnnTopology' && r.apiVersion.startsWith('crime.dev/'));
      enqueue(child.metadata?.namespace, owner?.name);
    });
  }
  caches.pods.on((event, pod) => {
    if (event === 'resync') return;
    const label = pod.metadata?.labels?.[LABELS.topology];
    const ns = pod.metadata?.namespace;
    const owner = caches.topologies.list(ns).find((t) => labelValue(t.metadata.name ?? '') === label);
    enqueue(ns, owner?.metadata.name);
  });

  let stopping = false;
  const workers: Promise<void>[] = [];
  const work = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      metrics.queueDepth.set(queue.depth);
      const end = metrics.reconcileSeconds.startTimer();
      try {
        const result = await reconciler.reconcile(key);
        queue.forget(key);
        metrics.reconciles.inc({ result: 'ok' });
        if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        metrics.reconciles.inc({ result: 'error' });
        if (!stopping) {
          const retryInMs = queue.addRateLimited(key);
          logger.warn('reconcile failed, retrying', { key, error: (err as Error).message, retryInMs });
        }
      } finally {
        end();
        queue.done(key);
      }
    }
  };

  let synced = false;
  let resolveLeading!: () => void;
  const leading = new Promise<void>((resolve) => (resolveLeading = resolve));
  const lead = async (): Promise<void> => {
    metrics.leader.set(1);
    const all = Object.values(caches);
    for (const c of all) c.start();
    await Promise.all(all.map((c) => c.synced()));
    synced = true;
    logger.info('caches synced, reconciling', { namespace: o.namespace ?? '(all)', topologies: caches.topologies.list().length });
    for (let i = 0; i < (o.workers ?? 4); i++) workers.push(work());
    resolveLeading();
  };

  const elector = o.leaderElection
    ? new LeaderElector({
        rest,
        namespace: o.leaderElection.namespace,
        name: o.leaderElection.name ?? 'crime-operator',
        identity: o.leaderElection.identity ?? `${hostname()}_${process.pid}`,
        logger,
        ...(o.leaderElection.leaseDurationMs ? { leaseDurationMs: o.leaderElection.leaseDurationMs } : {}),
        ...(o.leaderElection.renewDeadlineMs ? { renewDeadlineMs: o.leaderElection.renewDeadlineMs } : {}),
        ...(o.leaderElection.retryPeriodMs ? { retryPeriodMs: o.leaderElection.retryPeriodMs } : {}),
      })
    : undefined;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'method not allowed\n');
    if (path === '/healthz') return reply(200, 'ok\n');
    // Ready: leading with synced caches, or standing by for the lease.
    if (path === '/readyz') return synced || (elector !== undefined && !elector.isLeader) ? reply(200, 'ok\n') : reply(503, 'caches not synced\n');
    if (path === '/metrics') {
      metrics.queueDepth.set(queue.depth);
      void metrics.registry.metrics().then((text) => reply(200, text, metrics.registry.contentType));
      return;
    }
    reply(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.metricsPort ?? 8080, o.metricsHost ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const metricsUrl = `http://${o.metricsHost && o.metricsHost !== '0.0.0.0' ? o.metricsHost : '127.0.0.1'}:${port}`;

  if (elector) {
    elector.run({
      onStarted: () => void lead(),
      onStopped: () => {
        metrics.leader.set(0);
        logger.error('leadership lost, stopping');
        (o.onLostLeadership ?? (() => process.exit(1)))();
      },
    });
  } else {
    void lead();
  }

  return {
    metricsUrl,
    metrics,
    leading,
    async close() {
      stopping = true;
      // Finish the reconciles in flight before giving up the lease: two leaders must never write at once.
      queue.shutDown();
      await Promise.all(workers);
      for (const c of Object.values(caches)) c.stop();
      await elector?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rest.close();
    },
  };
}
