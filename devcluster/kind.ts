/**
 * The nodes of kind-config.yaml as fake nodes: the names kind gives them (`<cluster>-control-plane`,
 * `<cluster>-worker`, `<cluster>-worker2`, ...), their labels, and the taints of their JoinConfiguration
 * patches (what kubeadm hands the kubelet as --register-with-taints), so that the chart's tests
 * place topologies on exactly the cluster docs/kind.md tells users to create. Pure.
 */
import { parse as parseYaml } from 'yaml';
import type { FakeNodeSpec } from './nodes.js';

type Taint = NonNullable<FakeNodeSpec['taints']>[number];

interface KindNode {
  role: 'control-plane' | 'worker';
  labels?: Record<string, string>;
  kubeadmConfigPatches?: string[];
}

interface KindCluster {
  kind: string;
  name?: string;
  nodes?: KindNode[];
}

function taintsOf(node: KindNode): Taint[] {
  const taints: Taint[] = [];
  for (const patch of node.kubeadmConfigPatches ?? []) {
    const doc = parseYaml(patch) as { kind?: string; nodeRegistration?: { taints?: Taint[] } };
    if (doc.kind === 'JoinConfiguration') taints.push(...(doc.nodeRegistration?.taints ?? []));
  }
  return taints;
}

/** Fake nodes shaped like the kind cluster `configYaml` describes, on amd64 (what kind runs on a PC). */
export function kindNodes(configYaml: string, options: { arch?: 'amd64' | 'arm64' } = {}): FakeNodeSpec[] {
  const config = parseYaml(configYaml) as KindCluster;
  if (config.kind !== 'Cluster') throw new Error(`not a kind cluster configuration (kind: ${String(config.kind)})`);
  const cluster = config.name ?? 'kind';
  let workers = 0;
  let controlPlanes = 0;
  return (config.nodes ?? [{ role: 'control-plane' }]).map((node) => {
    const isControlPlane = node.role === 'control-plane';
    const index = isControlPlane ? ++controlPlanes : ++workers;
    const name = `${cluster}-${isControlPlane ? 'control-plane' : 'worker'}${index > 1 ? String(index) : ''}`;
    // kubeadm taints control-plane nodes so that ordinary pods stay off them.
    const taints: Taint[] = isControlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : taintsOf(node);
    return {
      name,
      arch: options.arch ?? 'amd64',
      labels: { ...(isControlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}), ...node.labels },
      taints,
    };
  });
}
