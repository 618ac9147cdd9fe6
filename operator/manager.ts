/**
 * The operator process (controller-runtime's manager): API clients, the caches (caches.ts), the
 * event handlers that turn their events into keys (handlers.ts), the work loop that reconciles them
 * (controller.ts), the probe server (probes.ts), and leader election (kube/lease.ts) deciding when
 * the caches and the work loop run. The work itself is in reconcile/ (one key), render/ (pure
 * manifests and status) and kube/ (all API I/O).
 */
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../runtime/log.js';
import { createCaches } from './caches.js';
import { Controller } from './controller.js';
import { enqueueOnEvents } from './handlers.js';
import { loadKubeConfig } from './kube/credentials.js';
import { EventRecorder } from './kube/events.js';
import { watchWith, type WatchFn } from './kube/informer.js';
import { LEASE_DEFAULTS, LeaderElector, leaseRequestTimeoutMs, type LeaseTimings } from './kube/lease.js';
import { KubeRest, type KubeClientConfig } from './kube/rest.js';
import { KubeWriter } from './kube/writer.js';
import { OperatorMetrics } from './metrics.js';
import { startProbeServer } from './probes.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render/options.js';
import { Reconciler } from './reconcile/reconciler.js';

export interface OperatorOptions {
  /**
   * a kubeconfig file, or a client configuration (client-node's KubeConfig works); without one
   * $KUBECONFIG, else the in-cluster service account, else ~/.kube/config (see kube/credentials.ts)
   */
  kubeconfig?: string | KubeClientConfig;
  /** watch one namespace; every namespace by default */
  namespace?: string;
  metricsHost?: string;
  /** 0 picks a free port */
  metricsPort?: number;
  leaderElection?: { namespace: string; name?: string; identity?: string } & Partial<LeaseTimings>;
  render?: RenderOptions;
  /** reconciles at once (default 4) */
  workers?: number;
  logger?: Logger;
  /** informer tuning, for tests */
  informer?: { relistMs?: number; watchTimeoutSeconds?: number; watch?: WatchFn };
  /** the process's default metrics (default true) */
  defaultMetrics?: boolean;
  /**
   * called when leadership is lost, once reconciling has stopped: by default the process exits,
   * as controller-runtime's manager does
   */
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
  const rest = new KubeRest(kc, { onCall: metrics.onCall });
  const cache = createCaches({
    rest,
    watch: o.informer?.watch ?? watchWith(rest),
    ...(o.namespace ? { namespace: o.namespace } : {}),
    networkPolicies: o.render?.networkPolicy !== undefined,
    logger,
    ...(o.informer?.relistMs ? { relistMs: o.informer.relistMs } : {}),
    ...(o.informer?.watchTimeoutSeconds ? { watchTimeoutSeconds: o.informer.watchTimeoutSeconds } : {}),
    onRestart: (kind, reason) => metrics.informerRestarts.inc({ kind, reason }),
  });
  const controller = new Controller({
    reconciler: new Reconciler({ caches: cache.caches, writer: new KubeWriter(rest), events: new EventRecorder(rest, logger), render: o.render ?? DEFAULT_RENDER_OPTIONS, logger }),
    metrics,
    logger,
    ...(o.workers ? { workers: o.workers } : {}),
  });
  enqueueOnEvents(cache.caches, (key) => controller.enqueue(key));

  const election = o.leaderElection ? leaderElection(kc, o.leaderElection, metrics, logger) : undefined;
  const elector = election?.elector;

  let synced = false;
  let resolveLeading!: () => void;
  const leading = new Promise<void>((resolve) => (resolveLeading = resolve));
  const lead = async (): Promise<void> => {
    metrics.leader.set(1);
    cache.start();
    await cache.synced();
    synced = true;
    logger.info('caches synced, reconciling', { namespace: o.namespace ?? '(all)', topologies: cache.caches.topologies.list().length });
    controller.start();
    resolveLeading();
  };

  const probes = await startProbeServer({
    ...(o.metricsHost ? { host: o.metricsHost } : {}),
    ...(o.metricsPort !== undefined ? { port: o.metricsPort } : {}),
    metrics,
    // Ready: leading with synced caches, or standing by for the lease.
    ready: () => synced || (elector !== undefined && !elector.isLeader),
    beforeScrape: () => metrics.queueDepth.set(controller.queue.depth),
  });

  if (elector) {
    elector.run({
      onStarted: () => void lead(),
      onStopped: () => {
        // Another replica may take over from now on: stop writing before anything else.
        metrics.leader.set(0);
        void controller.stop();
        cache.stop();
        logger.error('leadership lost, stopped reconciling');
        (o.onLostLeadership ?? (() => process.exit(1)))();
      },
    });
  } else {
    void lead();
  }

  return {
    metricsUrl: probes.url,
    metrics,
    leading,
    async close() {
      // Finish the reconciles in flight before giving up the lease: two leaders must never write at once.
      await controller.stop();
      cache.stop();
      await elector?.stop();
      await probes.close();
      rest.close();
      election?.rest.close();
    },
  };
}

/**
 * The elector, with a client of its own: its requests time out within the renew deadline and never
 * wait behind the reconciles' connections.
 */
function leaderElection(kc: KubeClientConfig, le: NonNullable<OperatorOptions['leaderElection']>, metrics: OperatorMetrics, logger: Logger): { elector: LeaderElector; rest: KubeRest } {
  const renewDeadlineMs = le.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
  const rest = new KubeRest(kc, { onCall: metrics.onCall, timeoutMs: leaseRequestTimeoutMs(renewDeadlineMs) });
  const elector = new LeaderElector({
    rest,
    namespace: le.namespace,
    name: le.name ?? 'crime-operator',
    identity: le.identity ?? `${hostname()}_${process.pid}`,
    logger,
    ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
    renewDeadlineMs,
    ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
  });
  return { elector, rest };
}
