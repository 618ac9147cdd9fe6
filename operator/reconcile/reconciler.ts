/**
 * One reconcile of one RnnTopology, level-triggered: read the topology and its children from the
 * caches, render what should exist, apply only what differs on objects the topology controls,
 * delete children of removed devices (apply-children.ts), then write the status computed from the
 * world (only when it changed) and record transitions as Events. A spec the operator cannot run
 * (an offload cycle, a local model path) is a terminal problem: reported in status, not retried.
 * A name somebody else holds (NameConflict) or a call the API server refused is reported in status
 * (Ready False with the API server's message) and as an Event, then thrown so the key is retried
 * with backoff: never retried silently.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../runtime/log.js';
import { OffloadCycleError } from '../../runtime/offload-graph.js';
import { topologyFromObject, type Topology } from '../../runtime/topology/topology.js';
import { InvalidInputError } from '../../runtime/validate.js';
import { statusMessage } from '../kube/api-errors.js';
import { INDEX, topologyKey } from '../kube/indexes.js';
import type { EventType } from '../kube/events.js';
import { deviceEndpoint } from '../render/children.js';
import { runtimeBackend } from '../render/deployment.js';
import type { Failure } from '../render/failures.js';
import { childNames, LABELS } from '../render/names.js';
import type { RenderOptions } from '../render/options.js';
import type { Owner } from '../render/owner.js';
import { computeStatus, type TopologyStatus } from '../render/status.js';
import { applyChildren } from './apply-children.js';
import { isControlledBy, ReconcileFailure } from './ownership.js';
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

export class Reconciler {
  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(key: string): Promise<Result> {
    const [namespace = '', name = ''] = key.split('/');
    const obj = this.o.caches.topologies.get(namespace, name);
    // Gone, or going: the garbage collector removes the children (they carry owner references).
    if (!obj || obj.metadata.deletionTimestamp) return {};
    const owner: Owner = { namespace, name, uid: obj.metadata.uid ?? '' };
    const { topology, problem } = specProblem(obj);
    const failure = topology && !problem ? await applyChildren(this.o, topology, owner) : undefined;
    await this.writeStatus(obj, owner, topology, problem, failure);
    if (failure) throw new ReconcileFailure(failure);
    return {};
  }

  private async writeStatus(obj: RnnTopologyObject, owner: Owner, topology: Topology | undefined, problem: Failure | undefined, failure: Failure | undefined): Promise<void> {
    const { caches } = this.o;
    const devices = problem || !topology ? [] : topology.devices;
    const names = childNames(owner.name);
    const deployments = new Map<string, V1Deployment>();
    for (const d of devices) {
      const found = caches.deployments.get(owner.namespace, names.deployment(d.name));
      if (found && isControlledBy(found.metadata, owner)) deployments.set(d.name, found);
    }
    const pods = new Map<string, V1Pod[]>();
    for (const p of caches.pods.byIndex(INDEX.topology, topologyKey(owner.namespace, owner.name))) {
      const device = p.metadata?.labels?.[LABELS.device];
      if (device === undefined) continue;
      pods.set(device, [...(pods.get(device) ?? []), p]);
    }
    const status = computeStatus({
      generation: obj.metadata.generation ?? 0,
      devices: devices.map((d) => ({
        name: d.name, replicas: d.replicas, entry: d.entry, endpoint: deviceEndpoint(owner.name, owner.namespace, d.name),
        ...(topology ? { backend: runtimeBackend(topology, d) } : {}),
      })),
      ...(problem ? { specProblem: problem } : {}),
      ...(failure ? { reconcileFailure: failure } : {}),
      deployments,
      pods,
      ...(obj.status?.conditions ? { previous: { conditions: obj.status.conditions } } : {}),
      now: (this.o.now ?? (() => new Date()))(),
    });
    if (sameStatus(obj.status, status)) return;
    try {
      await this.o.writer.applyStatus(owner.namespace, owner.name, status);
    } catch (err) {
      // The status cannot say it: an Event is the one place left.
      await this.o.events.record(owner, 'Warning', 'StatusUpdateFailed', `could not write the status: ${statusMessage(err)}`);
      throw err;
    }
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
