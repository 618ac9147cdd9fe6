/**
 * An RnnTopology's status, computed from what is observed now (Deployments and pods), never
 * carried over from the previous status: only a condition's lastTransitionTime survives while its
 * status stays the same. Pure.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { deploymentFailure, podFailure, type Failure } from './failures.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: 'Ready' | 'Progressing' | 'Degraded';
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface DeviceStatus {
  name: string;
  replicas: number;
  readyReplicas: number;
  nodes: string[];
  endpoint: string;
  /**
   * The backend its runtime runs with, as rendered from the spec (runtimeBackend in deployment.ts):
   * a named backend never falls back, so on a ready pod of the current spec it is the one in use;
   * `auto` only for a tfjs device without GPUs, where the image decides.
   */
  backend?: string;
  lastFailure?: Failure;
}

export interface TopologyStatus {
  observedGeneration: number;
  conditions: Condition[];
  devices: DeviceStatus[];
  entryEndpoint?: string;
  devicesReady: string;
}

export interface StatusInput {
  generation: number;
  /**
   * the spec's devices, with their desired replicas and endpoints, and the backend their runtime is
   * rendered with (empty when the spec is unusable)
   */
  devices: Array<{ name: string; replicas: number; endpoint: string; entry: boolean; backend?: string }>;
  /** a problem with the spec itself (OffloadCycle, LocalModelUri, InvalidSpec): nothing runs */
  specProblem?: Failure;
  /**
   * why this reconcile could not bring the children to the spec: a name somebody else holds
   * (NameConflict), a call the API server refused (ApplyFailed, PruneFailed, LookupFailed), with
   * its message. Not Ready, whatever the pods say: they do not run the current spec.
   */
  reconcileFailure?: Failure;
  deployments: ReadonlyMap<string, V1Deployment>;
  pods: ReadonlyMap<string, readonly V1Pod[]>;
  previous?: { conditions?: Array<Partial<Condition>> };
  now: Date;
}

/** Ready, and not on its way out (a deleted pod stays Ready until its containers stop). */
function isReadyPod(p: V1Pod): boolean {
  return p.metadata?.deletionTimestamp === undefined && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function deviceStatus(d: StatusInput['devices'][number], deployment: V1Deployment | undefined, pods: readonly V1Pod[]): DeviceStatus & { settled: boolean } {
  const nodes = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  const failure = pods.map(podFailure).find((f) => f !== undefined) ?? (deployment ? deploymentFailure(deployment) : undefined);
  // Counted from the pods, not the Deployment's readyReplicas: the same number, without waiting for
  // the controller-manager to copy it over (its queue and API rate limit delayed 200 topologies'
  // Ready by up to 30 s in `crime bench operator`).
  const readyReplicas = pods.filter(isReadyPod).length;
  const upToDate = deployment !== undefined
    && (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)
    && (deployment.status?.updatedReplicas ?? 0) >= d.replicas
    && (deployment.status?.replicas ?? 0) === d.replicas;
  const backend = d.backend;
  return {
    name: d.name,
    replicas: d.replicas,
    readyReplicas,
    nodes,
    endpoint: d.endpoint,
    ...(backend === undefined ? {} : { backend }),
    ...(failure ? { lastFailure: failure } : {}),
    settled: upToDate && readyReplicas >= d.replicas,
  };
}

export function computeStatus(input: StatusInput): TopologyStatus {
  const devices = input.devices.map((d) => deviceStatus(d, input.deployments.get(d.name), input.pods.get(d.name) ?? []));
  const ready = devices.filter((d) => d.readyReplicas >= d.replicas && d.replicas > 0);
  const failing = devices.filter((d) => d.lastFailure !== undefined);
  const unsettled = devices.filter((d) => !d.settled);
  const condition = (type: Condition['type'], status: ConditionStatus, reason: string, message: string): Condition => {
    const old = input.previous?.conditions?.find((c) => c.type === type);
    const since = old?.status === status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : input.now.toISOString();
    return { type, status, reason, message, lastTransitionTime: since, observedGeneration: input.generation };
  };
  const describe = (ds: typeof devices): string => ds.map((d) => `${d.name} (${d.readyReplicas}/${d.replicas} ready${d.lastFailure ? `: ${d.lastFailure.reason}: ${d.lastFailure.message}` : ''})`).join('; ');
  let conditions: Condition[];
  if (input.specProblem) {
    conditions = [
      condition('Ready', 'False', input.specProblem.reason, input.specProblem.message),
      condition('Progressing', 'False', input.specProblem.reason, 'the spec must be fixed before anything is rendered'),
      condition('Degraded', 'True', input.specProblem.reason, input.specProblem.message),
    ];
  } else if (input.reconcileFailure) {
    const f = input.reconcileFailure;
    conditions = [
      condition('Ready', 'False', f.reason, f.message),
      condition('Progressing', 'False', f.reason, `the spec cannot be applied: ${f.message}`),
      condition('Degraded', 'True', f.reason, f.message),
    ];
  } else {
    const allReady = devices.length > 0 && ready.length === devices.length;
    const firstFailure = failing[0]?.lastFailure;
    conditions = [
      allReady
        ? condition('Ready', 'True', 'AllDevicesReady', `${devices.length} devices ready`)
        : condition('Ready', 'False', firstFailure?.reason ?? 'DevicesNotReady', `not ready: ${describe(devices.filter((d) => !ready.includes(d)))}`),
      unsettled.length > 0 && failing.length === 0
        ? condition('Progressing', 'True', 'RollingOut', `rolling out: ${unsettled.map((d) => d.name).join(', ')}`)
        : condition('Progressing', 'False', unsettled.length > 0 ? 'Stalled' : 'Stable', unsettled.length > 0 ? `stalled: ${describe(failing)}` : 'every device runs the current spec'),
      failing.length > 0
        ? condition('Degraded', 'True', firstFailure?.reason ?? 'DeviceFailure', describe(failing))
        : condition('Degraded', 'False', 'NoFailures', 'no device reports a failure'),
    ];
  }
  const entry = input.devices.find((d) => d.entry);
  return {
    observedGeneration: input.generation,
    conditions,
    devices: devices.map(({ settled: _settled, ...d }) => d),
    ...(entry ? { entryEndpoint: entry.endpoint } : {}),
    devicesReady: `${ready.length}/${devices.length}`,
  };
}
