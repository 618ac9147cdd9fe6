/**
 * Brings a topology's children to what it renders, touching only objects the topology controls:
 *  1. who holds each name: the cache when it has the object (it sees only objects with the
 *     operator's labels), else the API server (a live lookup of its metadata), so an object made by
 *     hand under one of our names is seen before anything is written;
 *  2. a name somebody else holds stops the whole topology (a NameConflict, nothing written: its
 *     pods would mount a foreign Secret as their token, or send it to a foreign Service);
 *  3. what nobody holds is created (a Secret once, the rest by server-side apply without force:
 *     somebody who made the object meanwhile gets a conflict, not a takeover); what the topology
 *     controls is applied with force when it differs from what it renders (force takes back fields
 *     somebody changed); the token Secret is never written again;
 *  4. children the topology controls but no longer renders (a device that left the spec) are
 *     deleted, with their uid as a precondition.
 * Every refusal of the API server comes back as a Failure with its message, for the status; the
 * caller decides what to retry. Nothing here throws for an API error.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Topology } from '../../runtime/topology/topology.js';
import type { Informer } from '../kube/informer.js';
import { INDEX } from '../kube/indexes.js';
import { resourceOf } from '../kube/writer.js';
import { renderChildren, renderSecret } from '../render/children.js';
import { needsApply, stamped } from '../render/diff.js';
import type { Failure } from '../render/failures.js';
import { childNames } from '../render/names.js';
import type { RenderOptions } from '../render/options.js';
import type { Owner } from '../render/owner.js';
import { holderOf, isControlledBy, nameConflict, stepFailure, type Holder, type ObjectRef, type StepFailure } from './ownership.js';
import type { Caches, Writer } from './types.js';

export interface ChildrenContext {
  caches: Caches;
  writer: Writer;
  render: RenderOptions;
}

/** One name the topology renders: the object (none for the token Secret, rendered only to be created) and what the cache has. */
interface Target {
  ref: ObjectRef;
  desired?: KubernetesObject;
  cached?: KubernetesObject;
}

/** The kinds of children deleted once no longer rendered (not the token Secret: it lives as long as the topology). */
const PRUNED_KINDS = ['Deployment', 'Service', 'ConfigMap', 'NetworkPolicy'] as const;

const refOf = (o: KubernetesObject): ObjectRef => ({ kind: o.kind ?? '', namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });

function cacheOf(caches: Caches, kind: string): Informer<KubernetesObject> | undefined {
  switch (kind) {
    case 'Deployment': return caches.deployments;
    case 'Service': return caches.services;
    case 'ConfigMap': return caches.configMaps;
    case 'Secret': return caches.secrets;
    case 'NetworkPolicy': return caches.networkPolicies;
    default: return undefined;
  }
}

/** A call to the API server about one object. */
interface Call<T> {
  ref: ObjectRef;
  step: StepFailure['step'];
  run: () => Promise<T>;
}

/** Settles every call; the refused ones are collected as failures of `step` on their object. */
async function settle<T>(calls: ReadonlyArray<Call<T>>, failures: StepFailure[]): Promise<Array<T | undefined>> {
  const results = await Promise.allSettled(calls.map(async (c) => c.run()));
  return results.map((r, i) => {
    if (r.status === 'fulfilled') return r.value;
    const c = calls[i] as (typeof calls)[number];
    failures.push({ step: c.step, ref: c.ref, error: r.reason });
    return undefined;
  });
}

export async function applyChildren(c: ChildrenContext, topology: Topology, owner: Owner): Promise<Failure | undefined> {
  const { caches, writer } = c;
  const desired = renderChildren(topology, owner, c.render).map(stamped);
  const secretRef: ObjectRef = { kind: 'Secret', namespace: owner.namespace, name: childNames(topology.name).secret };
  const targets: Target[] = [
    ...desired.map((d) => ({ ref: refOf(d), desired: d, cached: cacheOf(caches, d.kind ?? '')?.get(owner.namespace, refOf(d).name) })),
    { ref: secretRef, cached: caches.secrets.get(owner.namespace, secretRef.name) },
  ];
  const failures: StepFailure[] = [];

  // 1. Who holds each name.
  const holders = await settle(targets.map((t) => ({
    ref: t.ref,
    step: 'lookup' as const,
    run: async (): Promise<Holder> => {
      if (t.cached) return holderOf(t.cached.metadata, owner);
      const resource = resourceOf({ kind: t.ref.kind });
      return holderOf(await writer.metadata(resource, t.ref.namespace, t.ref.name), owner);
    },
  })), failures);
  if (failures.length > 0) return stepFailure(failures);

  // 2. Names somebody else holds.
  const conflicts = targets.flatMap((t, i) => {
    const h = holders[i];
    return h?.kind === 'other' ? [{ ref: t.ref, meta: h.meta }] : [];
  });
  if (conflicts.length > 0) return nameConflict(conflicts, owner);

  // 3. Create what nobody holds, apply what is ours and differs. Independent objects: one round
  // trip for all (a pod waits for its ConfigMap and Secret anyway).
  const writes = targets.flatMap((t, i): Array<Call<unknown>> => {
    const nobody = holders[i]?.kind === 'nobody';
    if (t.desired === undefined) {
      // The token: generated once, then never written again (peers would lock each other out).
      return nobody ? [{ ref: t.ref, step: 'create', run: () => writer.create(renderSecret(topology, owner)) }] : [];
    }
    const d = t.desired;
    if (nobody) return [{ ref: t.ref, step: 'apply', run: () => writer.apply(d, { force: false }) }];
    return needsApply(d, t.cached) ? [{ ref: t.ref, step: 'apply', run: () => writer.apply(d, { force: true }) }] : [];
  });
  await settle(writes, failures);

  // 4. Children the topology controls but no longer renders.
  const wanted = new Set(targets.map((t) => `${t.ref.kind}/${t.ref.name}`));
  const stale = PRUNED_KINDS.flatMap((kind) =>
    (cacheOf(caches, kind)?.byIndex(INDEX.owner, owner.uid) ?? [])
      .filter((o) => isControlledBy(o.metadata, owner) && !wanted.has(`${kind}/${o.metadata?.name ?? ''}`))
      .map((o) => ({ ref: { kind, namespace: owner.namespace, name: o.metadata?.name ?? '' }, uid: o.metadata?.uid ?? '' })));
  await settle(stale.map((o) => ({
    ref: o.ref,
    step: 'delete' as const,
    run: () => writer.remove(resourceOf({ kind: o.ref.kind }), o.ref.namespace, o.ref.name, o.uid),
  })), failures);

  return failures.length > 0 ? stepFailure(failures) : undefined;
}
