/**
 * What the operator's caches keep of each kind (the informers' transforms): only what a reconcile
 * reads. Everything else the API server returns (managedFields, timestamps, status the operator
 * does not report, a pod's spec) would be held for every object for as long as it exists.
 */
import type { KubernetesObject, V1Deployment, V1DeploymentCondition, V1Pod } from '@kubernetes/client-node';

type Meta = NonNullable<KubernetesObject['metadata']>;

/** The object without undefined fields (they take a slot each in V8). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** What reconciles read of any child: identity, ownership, labels, annotations (the applied hash). */
function meta(m: Meta | undefined): Meta {
  const { name, namespace, uid, resourceVersion, generation, labels, annotations, ownerReferences, deletionTimestamp } = m ?? {};
  return defined({ name, namespace, uid, resourceVersion, generation, labels, annotations, ownerReferences, deletionTimestamp });
}

/** Secrets: that one exists, never its data (the operator holds no token in memory). */
export function metadataOnly(o: KubernetesObject): KubernetesObject {
  const { name, namespace, labels, ownerReferences, resourceVersion, uid } = o.metadata ?? {};
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: defined({ name, namespace, labels, ownerReferences, resourceVersion, uid }) };
}

/** Pods: where they run and why they do not (status.ts, failures.ts); not their spec. */
export function podForStatus(o: KubernetesObject): KubernetesObject {
  const p = o as V1Pod;
  const { name, namespace, labels, resourceVersion, uid, deletionTimestamp } = p.metadata ?? {};
  return {
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata: defined({ name, namespace, labels, resourceVersion, uid, deletionTimestamp }),
    spec: defined({ nodeName: p.spec?.nodeName, containers: [] }),
    status: defined({ conditions: p.status?.conditions, initContainerStatuses: p.status?.initContainerStatuses, containerStatuses: p.status?.containerStatuses }),
  } as V1Pod;
}

const FAILURE_CONDITIONS = new Set(['Progressing', 'ReplicaFailure']);

/**
 * Deployments: the spec as the API server has it (diff.ts compares what the operator renders with
 * it), and of the status what status.ts and failures.ts read: the replica counts, the generation
 * observed, and the Progressing and ReplicaFailure conditions without their timestamps.
 */
export function deploymentForCache(o: KubernetesObject): KubernetesObject {
  const d = o as V1Deployment;
  const s = d.status;
  const conditions = s?.conditions
    ?.filter((c) => FAILURE_CONDITIONS.has(c.type))
    .map((c) => defined({ type: c.type, status: c.status, reason: c.reason, message: c.message }) as V1DeploymentCondition);
  return defined({
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata: meta(d.metadata),
    spec: d.spec,
    status: s === undefined ? undefined : defined({ observedGeneration: s.observedGeneration, replicas: s.replicas, updatedReplicas: s.updatedReplicas, readyReplicas: s.readyReplicas, conditions }),
  }) as V1Deployment;
}

/** Any other child (Services, ConfigMaps, NetworkPolicies): all but managedFields and timestamps. */
export function childForCache(o: KubernetesObject): KubernetesObject {
  const { metadata: _metadata, ...rest } = o as KubernetesObject & Record<string, unknown>;
  return { ...rest, metadata: meta(o.metadata) };
}
