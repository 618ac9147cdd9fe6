import type { KubernetesObject, V1ConfigMap, V1Deployment, V1NetworkPolicy, V1ObjectMeta, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Informer } from '../kube/informer.js';
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

/** The writes a reconcile makes (KubeWriter in production). */
export interface Writer {
  apply<T extends KubernetesObject>(obj: T): Promise<T>;
  create<T extends KubernetesObject>(obj: T): Promise<T>;
  remove(resource: { group: string; version: string; plural: string; kind: string }, namespace: string, name: string): Promise<void>;
  applyStatus(namespace: string, name: string, status: unknown): Promise<unknown>;
}

/** When to come back to a key; an empty result means "when something changes". */
export interface Result {
  requeueAfterMs?: number;
}
