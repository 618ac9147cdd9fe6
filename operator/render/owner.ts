import type { V1OwnerReference } from '@kubernetes/client-node';

/** The RnnTopology that owns a rendered object. */
export interface Owner {
  name: string;
  namespace: string;
  uid: string;
}

/** Deleting the topology deletes its children through the garbage collector. */
export function ownerReference(owner: Owner): V1OwnerReference {
  return { apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}
