/**
 * The operator's informers, one per kind it reads, each keeping only what a reconcile reads
 * (kube/trim.ts) and indexed for the lookups reconciles and event handlers make (kube/indexes.ts).
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1NetworkPolicy, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../runtime/log.js';
import { byOwner, byTopologyLabel, INDEX, topologyByName } from './kube/indexes.js';
import { ListWatchInformer, type InformerOptions, type RestartReason, type WatchFn } from './kube/informer.js';
import { RESOURCES, type Resource } from './kube/resources.js';
import type { KubeRest } from './kube/rest.js';
import type { IndexFn } from './kube/store.js';
import { childForCache, deploymentForCache, metadataOnly, podForStatus } from './kube/trim.js';
import { LABELS, MANAGED_SELECTOR } from './render/names.js';
import type { Caches, RnnTopologyObject } from './reconcile/types.js';

export interface CacheOptions {
  rest: KubeRest;
  watch: WatchFn;
  /** one namespace, or every namespace */
  namespace?: string;
  /** NetworkPolicies too (their RBAC is granted only with them on) */
  networkPolicies: boolean;
  logger: Logger;
  relistMs?: number;
  watchTimeoutSeconds?: number;
  onRestart: (kind: string, reason: RestartReason) => void;
}

export interface OperatorCaches {
  caches: Caches;
  start(): void;
  /** resolves once every cache holds its first list */
  synced(): Promise<void>;
  stop(): void;
}

export function createCaches(o: CacheOptions): OperatorCaches {
  const informer = <T extends KubernetesObject>(resource: Resource, labelSelector: string | undefined, transform: ((o: KubernetesObject) => KubernetesObject) | undefined, indexers: Record<string, IndexFn<T>>): ListWatchInformer<T> => {
    const options: InformerOptions<T> = {
      rest: o.rest,
      watch: o.watch,
      resource,
      logger: o.logger,
      indexers,
      onRestart: (reason) => o.onRestart(resource.kind, reason),
      ...(transform ? { transform } : {}),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      ...(o.relistMs ? { relistMs: o.relistMs } : {}),
      ...(o.watchTimeoutSeconds ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
    };
    return new ListWatchInformer<T>(options);
  };
  const owned = { [INDEX.owner]: byOwner };
  const caches = {
    topologies: informer<RnnTopologyObject>(RESOURCES.topology, undefined, undefined, { [INDEX.topology]: topologyByName }),
    deployments: informer<V1Deployment>(RESOURCES.deployment, MANAGED_SELECTOR, deploymentForCache, owned),
    services: informer<V1Service>(RESOURCES.service, MANAGED_SELECTOR, childForCache, owned),
    configMaps: informer<V1ConfigMap>(RESOURCES.configMap, MANAGED_SELECTOR, childForCache, owned),
    // The operator only needs to know the token Secret exists: it never holds a token in memory.
    secrets: informer<V1Secret>(RESOURCES.secret, MANAGED_SELECTOR, metadataOnly, owned),
    pods: informer<V1Pod>(RESOURCES.pod, `${LABELS.name}=crime,${LABELS.component}=device`, podForStatus, { [INDEX.topology]: byTopologyLabel }),
    ...(o.networkPolicies ? { networkPolicies: informer<V1NetworkPolicy>(RESOURCES.networkPolicy, MANAGED_SELECTOR, childForCache, owned) } : {}),
  } satisfies Caches;
  const all = Object.values(caches) as Array<ListWatchInformer<KubernetesObject>>;
  return {
    caches,
    start: () => all.forEach((c) => c.start()),
    synced: async () => void (await Promise.all(all.map((c) => c.synced()))),
    stop: () => all.forEach((c) => c.stop()),
  };
}
