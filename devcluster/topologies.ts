/**
 * A user's steps with an RnnTopology, as functions over the API (what `kubectl apply`, `kubectl get
 * rnnt -w` and `kubectl get pods -o wide` do by hand): apply it, wait for Ready while telling how
 * far it is, and find the entry pod's own address (the dev cluster has no kube-proxy: pods answer on
 * their pod IP).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { selectorFor } from '../operator/render/names.js';
import { pathOf, RESOURCES } from '../operator/kube/resources.js';
import type { KubeRest } from '../operator/kube/rest.js';
import type { TopologyStatus } from '../operator/render/status.js';
import { POD } from '../operator/render/options.js';
import { waitFor } from './wait.js';

export interface TopologyDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { devices: Array<{ name: string; entry?: boolean }> } & Record<string, unknown>;
}

/** Server-side apply, as `kubectl apply --server-side` does. */
export async function applyTopology(rest: KubeRest, doc: TopologyDoc, namespace: string, fieldManager: string): Promise<void> {
  await rest.request({
    method: 'PATCH',
    path: pathOf(RESOURCES.topology, namespace, doc.metadata.name),
    body: { ...doc, metadata: { ...doc.metadata, namespace } },
    query: { fieldManager, force: 'true' },
    contentType: 'application/apply-patch+yaml',
  });
}

/** One line on how far a topology is: its devices ready and its Ready condition's reason. */
export function describeProgress(status: TopologyStatus | undefined): string {
  if (!status) return 'waiting for the operator';
  const ready = status.conditions.find((c) => c.type === 'Ready');
  return `${status.devicesReady || '0/?'} devices ready${ready && ready.status !== 'True' ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
}

/** Waits until the topology's Ready condition is True, calling `progress` whenever its description changes. */
export async function waitForReady(
  rest: KubeRest,
  namespace: string,
  name: string,
  o: { timeoutMs: number; progress: (line: string) => void; signal?: AbortSignal },
): Promise<TopologyStatus> {
  let last = '';
  return waitFor(
    async () => {
      const { status } = await rest.request<{ status?: TopologyStatus }>({ method: 'GET', path: pathOf(RESOURCES.topology, namespace, name) });
      const line = describeProgress(status);
      if (line !== last) o.progress(line);
      last = line;
      return status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? status : undefined;
    },
    { what: `RnnTopology ${namespace}/${name} Ready`, timeoutMs: o.timeoutMs, intervalMs: 500, ...(o.signal ? { signal: o.signal } : {}) },
  );
}

/** http://POD_IP:8080 of a ready pod of the device, or undefined while there is none. */
export async function devicePodUrl(rest: KubeRest, namespace: string, topology: string, device: string): Promise<string | undefined> {
  const { items } = await rest.request<{ items: V1Pod[] }>({
    method: 'GET',
    path: pathOf(RESOURCES.pod, namespace),
    query: { labelSelector: Object.entries(selectorFor(topology, device)).map(([k, v]) => `${k}=${v}`).join(',') },
  });
  const pod = items.find((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return pod ? `http://${pod.status?.podIP}:${POD.mapperPort}` : undefined;
}
