/**
 * What keeps a device from running, read from its pods and Deployment the way a user would read
 * `kubectl describe`: the scheduler's message, an image that cannot be pulled, a crash loop, a
 * model that could not be fetched (the init container's termination message). The reasons users
 * complain other systems hide behind a lumped "not ready".
 */
import type { V1ContainerStatus, V1Deployment, V1Pod } from '@kubernetes/client-node';

export interface Failure {
  reason: string;
  message: string;
}

/**
 * Why `crime runtime` stopped, from the code its termination message starts with: a GPU device
 * whose CUDA provider cannot load (BACKEND_UNAVAILABLE) or a model the backend cannot load.
 */
const RUNTIME_REASONS: Record<string, string> = {
  BACKEND_UNAVAILABLE: 'BackendUnavailable',
  MODEL_LOAD_FAILED: 'ModelLoadFailed',
};

/** Waiting reasons that need a user (or time) to fix, not a few more seconds of start-up. */
const STUCK = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function containerFailure(s: V1ContainerStatus, init: boolean): Failure | undefined {
  const terminated = s.state?.terminated ?? s.lastState?.terminated;
  const waiting = s.state?.waiting;
  if (init && s.name === 'model' && terminated && terminated.exitCode !== 0) {
    return { reason: 'ModelFetchFailed', message: (terminated.message ?? terminated.reason ?? `exit code ${terminated.exitCode}`).trim() };
  }
  // The runtime said why it stopped: named, whatever the back-off state (it will not get better by itself).
  const said = !init && s.name === 'runtime' && terminated && terminated.exitCode !== 0 ? /^([A-Z_]+): /.exec(terminated.message?.trim() ?? '') : null;
  const reason = said ? RUNTIME_REASONS[said[1] as string] : undefined;
  if (reason !== undefined && terminated) return { reason, message: `container runtime: ${(terminated.message ?? '').trim()}` };
  if (waiting?.reason && STUCK.has(waiting.reason)) {
    const last = s.lastState?.terminated;
    const detail = last ? ` (last exit ${last.exitCode}${last.message ? `: ${last.message.trim()}` : last.reason ? `: ${last.reason}` : ''})` : '';
    return { reason: waiting.reason, message: `container ${s.name}: ${waiting.message ?? waiting.reason}${detail}` };
  }
  return undefined;
}

export function podFailure(pod: V1Pod): Failure | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { reason: 'Unschedulable', message: scheduled.message ?? 'no node fits the pod' };
  }
  for (const s of pod.status?.initContainerStatuses ?? []) {
    const f = containerFailure(s, true);
    if (f) return f;
  }
  for (const s of pod.status?.containerStatuses ?? []) {
    const f = containerFailure(s, false);
    if (f) return f;
  }
  return undefined;
}

export function deploymentFailure(d: V1Deployment): Failure | undefined {
  const conditions = d.status?.conditions ?? [];
  // Pods the ReplicaSet could not create at all (Pod Security, quota): only the Deployment says so.
  const replicaFailure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (replicaFailure) return { reason: replicaFailure.reason ?? 'ReplicaFailure', message: replicaFailure.message ?? '' };
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False') return { reason: progressing.reason ?? 'ProgressDeadlineExceeded', message: progressing.message ?? '' };
  return undefined;
}
