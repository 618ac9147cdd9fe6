/**
 * One reconcile of one RnnTopology, level-triggered: read the topology and its children from the
 * caches, render what should exist, apply only what differs, delete children of removed devices,
 * then write the status computed from the world (only when it changed) and record transitions as
 * Events. A spec the operator cannot run (an offload cycle, a local model path) is a terminal
 * problem: reported in status, not retried.
 */
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../runtime/log.js';
import { OffloadCycleError } from '../../runtime/offload-graph.js';
import { topologyFromObject, type Topology } from '../../runtime/topology/topology.js';
import { InvalidInputError } from '../../runtime/validate.js';
import { isConflict } from '../kube/api-errors.js';
import { INDEX, topologyKey } from '../kube/indexes.js';
import type { Informer } from '../kube/informer.js';
import type { EventType } from '../kube/events.js';
import { RESOURCES, type Resource } from '../kube/resources.js';
import { deviceEndpoint, renderChildren, renderSecret } from '../render/children.js';
import { needsApply, stamped } from '../render/diff.js';
import type { Failure } from '../render/failures.js';
import { childNames, LABELS } from '../render/names.js';
import type { RenderOptions } from '../render/options.js';
import type { Owner } from '../render/owner.js';
import { computeStatus, type TopologyStatus } from '../render/status.js';
import type { Caches, Result, RnnTopologyObject, Writer } from './types.js';

export interface ReconcilerOptions {
  caches: Caches;
  writer: Writer;
  events: { record(target: Owner, type: EventType, reason: string, message: string): Promise<void> };
  render: RenderOptions;
  logger: Logger;
  now?: () => Date;
}

/** Why a valid-looking resource cannot be run: its status says so until the spec changes. */
function specProblem(obj: RnnTopologyObject): { topology?: Topology; problem?: Failure } {
  let topology: Topology;
  try {
    topology = topologyFromObject(obj);
  } catch (err) {
    if (err instanceof OffloadCycleError) return { problem: { reason: 'OffloadCycle', message: err.message } };
    if (err instanceof InvalidInputError) return { problem: { reason: 'InvalidSpec', message: err.message } };
    throw err;
  }
  if (topology.model.source.kind === 'local') {
    return { topology, problem: { reason: 'LocalModelUri', message: `spec.model.uri: ${topology.model.uri} is a path on this machine; in a cluster use http(s):// or pvc://<claim>/<path>` } };
  }
  return { topology };
}

const kindOf = (o: KubernetesObject): string => o.kind ?? '';
const RESOURCE_OF: Record<string, Resource> = { Deployment: RESOURCES.deployment, Service: RESOURCES.service, ConfigMap: RESOURCES.configMap, NetworkPolicy: RESOURCES.networkPolicy };

export class Reconciler {
  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(key: string): Promise<Result> {
    const [namespace = '', name = ''] = key.split('/');
    const obj = this.o.caches.topologies.get(namespace, name);
    // Gone, or going: the garbage collector removes the children (they carry owner references).
    if (!obj || obj.metadata.deletionTimestamp) return {};
    const owner: Owner = { namespace, name, uid: obj.metadata.uid ?? '' };
    const { topology, problem } = specProblem(obj);
    if (topology && !problem) await this.applyChildren(topology, owner);
    await this.writeStatus(obj, owner, topology, problem);
    return {};
  }

  /** The children of a kind that `owner` owns (an index lookup, not a scan of the kind). */
  private owned<T extends KubernetesObject>(cache: Informer<T> | undefined, owner: Owner): T[] {
    return cache?.byIndex(INDEX.owner, owner.uid) ?? [];
  }

  private observed(desired: KubernetesObject): KubernetesObject | undefined {
    const { namespace = '', name = '' } = desired.metadata ?? {};
    const c = this.o.caches;
    switch (kindOf(desired)) {
      case 'Deployment': return c.deployments.get(namespace, name);
      case 'Service': return c.services.get(namespace, name);
      case 'ConfigMap': return c.configMaps.get(namespace, name);
      case 'NetworkPolicy': return c.networkPolicies?.get(namespace, name);
      default: return undefined;
    }
  }

  private async applyChildren(topology: Topology, owner: Owner): Promise<void> {
    const { caches, writer } = this.o;
    const secretName = childNames(topology.name).secret;
    const writes: Array<Promise<unknown>> = [];
    if (!caches.secrets.get(owner.namespace, secretName)) {
      // Generated once: the token must outlive every reconcile, or peers would lock each other out.
      writes.push(writer.create(renderSecret(topology, owner)).catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      }));
    }
    // Independent objects: one round trip for all (a pod waits for its ConfigMap and Secret anyway).
    const desired = renderChildren(topology, owner, this.o.render).map(stamped);
    for (const d of desired) if (needsApply(d, this.observed(d))) writes.push(writer.apply(d));
    await Promise.all(writes);
    // Children of devices that left the spec.
    const wanted = new Set(desired.map((d) => `${kindOf(d)}/${d.metadata?.name ?? ''}`));
    const stale = [
      ...this.owned(caches.deployments, owner),
      ...this.owned(caches.services, owner),
      ...this.owned(caches.configMaps, owner),
      ...this.owned(caches.networkPolicies, owner),
    ].filter((o) => !wanted.has(`${kindOf(o)}/${o.metadata?.name ?? ''}`));
    await Promise.all(stale.map(async (o) => {
      const resource = RESOURCE_OF[kindOf(o)];
      if (resource) await writer.remove(resource, owner.namespace, o.metadata?.name ?? '');
    }));
  }

  private async writeStatus(obj: RnnTopologyObject, owner: Owner, topology: Topology | undefined, problem: Failure | undefined): Promise<void> {
    const { caches } = this.o;
    const devices = problem || !topology ? [] : topology.devices;
    const names = childNames(owner.name);
    const deployments = new Map<string, V1Deployment>();
    for (const d of devices) {
      const found = caches.deployments.get(owner.namespace, names.deployment(d.name));
      if (found) deployments.set(d.name, found);
    }
    const pods = new Map<string, V1Pod[]>();
    for (const p of caches.pods.byIndex(INDEX.topology, topologyKey(owner.namespace, owner.name))) {
      const device = p.metadata?.labels?.[LABELS.device];
      if (device === undefined) continue;
      pods.set(device, [...(pods.get(device) ?? []), p]);
    }
    const status = computeStatus({
      generation: obj.metadata.generation ?? 0,
      devices: devices.map((d) => ({ name: d.name, replicas: d.replicas, entry: d.entry, endpoint: deviceEndpoint(owner.name, owner.namespace, d.name) })),
      ...(problem ? { specProblem: problem } : {}),
      deployments,
      pods,
      ...(obj.status?.conditions ? { previous: { conditions: obj.status.conditions } } : {}),
      now: (this.o.now ?? (() => new Date()))(),
    });
    if (sameStatus(obj.status, status)) return;
    await this.o.writer.applyStatus(owner.namespace, owner.name, status);
    await this.recordTransitions(owner, obj.status, status);
  }

  private async recordTransitions(owner: Owner, before: Partial<TopologyStatus> | undefined, after: TopologyStatus): Promise<void> {
    const ready = (s: Partial<TopologyStatus> | undefined) => s?.conditions?.find((c) => c.type === 'Ready');
    const was = ready(before);
    const now = ready(after);
    if (now && (was?.status !== now.status || was.reason !== now.reason)) {
      await this.o.events.record(owner, now.status === 'True' ? 'Normal' : 'Warning', now.reason, now.message);
    }
    for (const d of after.devices) {
      const old = before?.devices?.find((x) => x.name === d.name)?.lastFailure;
      if (d.lastFailure && (old?.reason !== d.lastFailure.reason || old.message !== d.lastFailure.message)) {
        await this.o.events.record(owner, 'Warning', d.lastFailure.reason, `device ${d.name}: ${d.lastFailure.message}`);
      }
    }
  }
}

function sameStatus(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalise((v as Record<string, unknown>)[k])]));
  }
  return v;
}
