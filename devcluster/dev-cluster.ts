/**
 * `crime cluster up`: a complete local Kubernetes control plane without Docker (etcd,
 * kube-apiserver, scheduler, controller-manager, and kwok playing the kubelet of fake nodes shaped
 * like an edge deployment: two arm64 edge nodes, a gateway, a GPU node with nvidia.com/gpu capacity
 * and the GPU taint), with the RnnTopology CRD installed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './assets.js';
import { ControlPlane } from './controlplane.js';
import { installCrd, readCrdFile } from './crds.js';
import { createFakeNodes, edgeNode, gatewayNode, gpuNode, type FakeNodeSpec } from './nodes.js';

/** The nodes of the dev cluster: what the example topologies' placements select. */
export const DEV_NODES: readonly FakeNodeSpec[] = [
  edgeNode('edge-0'),
  edgeNode('edge-1'),
  gatewayNode('gateway-0'),
  gpuNode('gpu-0', 2, { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }),
];

export interface DevCluster {
  controlPlane: ControlPlane;
  kubeconfigPath: string;
  /** kubectl from the same build, when it was built */
  kubectl: string | undefined;
  stop(): Promise<void>;
}

export async function startDevCluster(options: { nodes?: readonly FakeNodeSpec[]; onProgress?: (line: string) => void } = {}): Promise<DevCluster> {
  const progress = options.onProgress ?? (() => undefined);
  progress('starting etcd, kube-apiserver, kube-scheduler, kube-controller-manager and kwok');
  const cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
  try {
    const kc = cp.admin();
    progress(`control plane up in ${(cp.timings.totalMs / 1000).toFixed(1)} s; installing the RnnTopology CRD`);
    await installCrd(kc, readCrdFile(join(repoRoot(), 'crds', 'crime.dev_rnntopologies.yaml')));
    const nodes = options.nodes ?? DEV_NODES;
    progress(`creating ${nodes.length} fake nodes: ${nodes.map((n) => `${n.name} (${n.arch}${n.gpus ? `, ${n.gpus} GPU` : ''})`).join(', ')}`);
    await createFakeNodes(kc, nodes);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  const kubectl = join(cp.binDir, 'kubectl');
  return { controlPlane: cp, kubeconfigPath: cp.kubeconfigPath, kubectl: existsSync(kubectl) ? kubectl : undefined, stop: () => cp.stop() };
}
