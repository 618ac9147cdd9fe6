/**
 * Fake nodes for the test control plane: Node objects annotated for kwok, which then marks them
 * Ready, renews their Lease and runs (in status only) the pods bound to them. Presets for the
 * three CRIME tiers: arm64 edge nodes, gateway nodes and amd64 cloud nodes with GPUs.
 *
 * Nothing listens at a fake node's or pod's address: never dial one.
 */
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './components.js';
import { waitFor } from './wait.js';

export type Tier = 'edge' | 'gateway' | 'cloud';

/** Label that CRIME placements select tiers by (the example topologies' nodeSelectors use it). */
export const TIER_LABEL = 'crime.dev/tier';
export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface FakeNodeSpec {
  name: string;
  arch: 'arm64' | 'amd64';
  tier?: Tier;
  /** Extra labels, merged over the standard ones. */
  labels?: Record<string, string>;
  /** Quantities, e.g. "4" and "8Gi". */
  cpu?: string;
  memory?: string;
  pods?: number;
  /** nvidia.com/gpu capacity; none if omitted. */
  gpus?: number;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

/** An arm64 edge node (the end node of a CRIME chain). */
export function edgeNode(name: string, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec {
  return { name, arch: 'arm64', tier: 'edge', cpu: '4', memory: '4Gi', ...extra };
}

/** A gateway node (amd64 unless told otherwise). */
export function gatewayNode(name: string, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec {
  return { name, arch: 'amd64', tier: 'gateway', cpu: '8', memory: '16Gi', ...extra };
}

/** An amd64 cloud node with `gpus` nvidia.com/gpu. */
export function gpuNode(name: string, gpus = 1, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec {
  return { name, arch: 'amd64', tier: 'cloud', cpu: '32', memory: '128Gi', gpus, ...extra };
}

/** The Node object for `spec` (pure). */
export function fakeNodeObject(spec: FakeNodeSpec): V1Node {
  const resources: Record<string, string> = {
    cpu: spec.cpu ?? '4',
    memory: spec.memory ?? '8Gi',
    pods: String(spec.pods ?? 110),
  };
  if (spec.gpus !== undefined && spec.gpus > 0) resources[GPU_RESOURCE] = String(spec.gpus);
  const labels: Record<string, string> = {
    'kubernetes.io/arch': spec.arch,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/hostname': spec.name,
    type: 'kwok',
    ...(spec.tier === undefined ? {} : { [TIER_LABEL]: spec.tier }),
    ...spec.labels,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels,
      annotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { taints: spec.taints ?? [] },
    // Node status may be set on create; kwok keeps capacity and allocatable as given.
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        architecture: spec.arch,
        operatingSystem: 'linux',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: '',
        machineID: '',
        osImage: '',
        systemUUID: '',
      },
    },
  };
}

export function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Creates the nodes and waits until kwok reports each Ready. Needs a control plane with kwok. */
export async function createFakeNodes(kc: KubeConfig, specs: readonly FakeNodeSpec[], timeoutMs = 30_000): Promise<V1Node[]> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const spec of specs) await core.createNode({ body: fakeNodeObject(spec) });
  return Promise.all(
    specs.map((spec) =>
      waitFor(
        async () => {
          const node = await core.readNode({ name: spec.name });
          return isReady(node) ? node : undefined;
        },
        { what: `fake node ${spec.name} Ready`, timeoutMs },
      ),
    ),
  );
}
