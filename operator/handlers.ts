/**
 * Which topology an informer event is about (controller-runtime's event handlers): a topology's
 * own events enqueue it (its periodic resync too: that is what reconciles every topology now and
 * then); a child's enqueue the topology that owns it and the one its label names; a pod's the
 * topology its label names. The
 * reconcile then reads the world itself, so an event only says "look at this key again".
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { INDEX } from './kube/indexes.js';
import type { Informer } from './kube/informer.js';
import { LABELS } from './render/names.js';
import type { Caches } from './reconcile/types.js';

export function keyOf(namespace: string | undefined, name: string | undefined): string | undefined {
  return namespace && name ? `${namespace}/${name}` : undefined;
}

/** The topology that owns a child, by its owner reference. */
export function ownerKey(child: KubernetesObject): string | undefined {
  const owner = child.metadata?.ownerReferences?.find((r) => r.kind === 'RnnTopology' && r.apiVersion.startsWith('crime.dev/'));
  return keyOf(child.metadata?.namespace, owner?.name);
}

/** The topologies a pod's crime.dev/topology label points at (an index lookup). */
export function podTopologyKeys(caches: Pick<Caches, 'topologies'>, pod: KubernetesObject): string[] {
  const label = pod.metadata?.labels?.[LABELS.topology];
  const ns = pod.metadata?.namespace;
  if (label === undefined || ns === undefined) return [];
  return caches.topologies.byIndex(INDEX.topology, `${ns}/${label}`).flatMap((t) => keyOf(t.metadata.namespace, t.metadata.name) ?? []);
}

/** Registers the handlers that turn every cache's events into keys for `enqueue`. */
export function enqueueOnEvents(caches: Caches, enqueue: (key: string) => void): void {
  const add = (key: string | undefined): void => {
    if (key !== undefined) enqueue(key);
  };
  caches.topologies.on((_event, t) => add(keyOf(t.metadata.namespace, t.metadata.name)));
  const children: Array<Informer<KubernetesObject>> = [caches.deployments, caches.services, caches.configMaps, caches.secrets, ...(caches.networkPolicies ? [caches.networkPolicies] : [])];
  for (const informer of children) {
    informer.on((event, child) => {
      if (event === 'resync') return;
      add(ownerKey(child));
      // And the topology its label names: one whose child vanished after its owner reference was
      // changed (deleted as another's, or by the garbage collector with another owner) must
      // notice and make it again, not wait for the next relist.
      podTopologyKeys(caches, child).forEach(enqueue);
    });
  }
  caches.pods.on((event, pod) => {
    if (event !== 'resync') podTopologyKeys(caches, pod).forEach(enqueue);
  });
}
