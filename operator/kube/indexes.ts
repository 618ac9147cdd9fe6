/**
 * The indexes of the operator's caches (store.ts), so that a reconcile and the event handlers look
 * objects up instead of scanning a kind:
 *   - `owner` on every child kind: the uids of its owner references (a topology's children);
 *   - `topology` on pods and on topologies: `<namespace>/<crime.dev/topology label value>`, what a
 *     pod carries and what the topology it belongs to renders (render/names.ts labelValue).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { LABELS, labelValue } from '../render/names.js';
import type { IndexFn } from './store.js';

export const INDEX = { owner: 'owner', topology: 'topology' } as const;

/** The uids of the objects that own `o`. */
export const byOwner: IndexFn<KubernetesObject> = (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid);

/** The topology key of an object by its crime.dev/topology label (pods). */
export const byTopologyLabel: IndexFn<KubernetesObject> = (o) => {
  const value = o.metadata?.labels?.[LABELS.topology];
  return value === undefined ? [] : [`${o.metadata?.namespace ?? ''}/${value}`];
};

/** The key under which a topology's labelled objects are found: `topologyKey(ns, name)`. */
export function topologyKey(namespace: string, name: string): string {
  return `${namespace}/${labelValue(name)}`;
}

/** A topology under the key its pods' labels give. */
export const topologyByName: IndexFn<KubernetesObject> = (t) => (t.metadata?.name === undefined ? [] : [topologyKey(t.metadata.namespace ?? '', t.metadata.name)]);
