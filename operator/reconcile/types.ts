import type { KubernetesObject, V1ConfigMap, V1Deployment, V1NetworkPolicy, V1ObjectMeta, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Informer } from '../kube/informer.js';
import type { Resource } from '../kube/resources.js';
import type { TopologyStatus } from '../render/status.js';

/** An RnnTopology as the API server returns it: the spec unparsed, validated by the reconciler. */
export interface RnnTopologyObject extends KubernetesObject {
  metadata: V1ObjectMeta;
  spec?: unknown;
  status?: Partial<TopologyStatus>;
}

/** The caches a reconcile reads instead of the API server. */
export interface Caches {
  topologies: Informer<RnnTopologyObject>;
  deployments: Informer<V1Deployment>;
  services: Informer<V1Service>;
  configMaps: Informer<V1ConfigMap>;
  secrets: Informer<V1Secret>;
  pods: Informer<V1Pod>;
  /** only with NetworkPolicies on (their RBAC is granted only then) */
  networkPolicies?: Informer<V1NetworkPolicy>;
}

/**
 * What a reconcile asks the API server itself (KubeWriter in production): who holds a name the
 * caches cannot see, and every write.
 */
export interface Writer {
  /** the metadata of the live object of that name, undefined if there is none (the caches hold only objects with the operator's labels) */
  metadata(resource: Resource, namespace: string, name: string): Promise<V1ObjectMeta | undefined>;
  /** server-side apply; `force` only on objects the topology controls */
  apply<T extends KubernetesObject>(obj: T, options: { force: boolean }): Promise<T>;
  create<T extends KubernetesObject>(obj: T): Promise<T>;
  /** deletes the object if it still has `uid` */
  remove(resource: Resource, namespace: string, name: string, uid: string): Promise<void>;
  applyStatus(namespace: string, name: string, status: unknown): Promise<unknown>;
}

/** When to come back to a key; an empty result means "when something changes". */
export interface Result {
  requeueAfterMs?: number;
}
