/**
 * `crime cluster up`: a complete local Kubernetes control plane without Docker (etcd,
 * kube-apiserver, scheduler, controller-manager, and kwok playing the kubelet of fake nodes shaped
 * like an edge deployment: two arm64 edge nodes, a gateway, a GPU node with nvidia.com/gpu capacity
 * and the GPU taint), with the RnnTopology CRD installed.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoRoot } from './assets.js';
import { ControlPlane } from './controlplane.js';
import { installCrd, readCrdFile } from './crds.js';
import type { Logger } from '../runtime/log.js';
import { DEFAULT_NETWORK, linkBetween, type DevNetwork } from './network.js';
import { createFakeNodes, edgeNode, gatewayNode, gpuNode, type FakeNodeSpec, type Tier } from './nodes.js';
import type { LinkConditions } from '../local/link-emulator.js';
import { loadImageBundle, type ImageBundle } from './pods/image.js';
import { GATEWAY_IP } from './pods/netns.js';
import { PodRunner } from './pods/runner.js';
import { serveDirectory, type StaticServer } from '../runtime/http/static-files.js';

/** The nodes of the dev cluster: what the example topologies' placements select. */
export const DEV_NODES: readonly FakeNodeSpec[] = [
  edgeNode('edge-0'),
  edgeNode('edge-1'),
  gatewayNode('gateway-0'),
  gpuNode('gpu-0', 2, { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }),
];

export interface DevCluster {
  controlPlane: ControlPlane;
  /** the kubelet of the nodes, when pods really run */
  runner?: PodRunner;
  /** when pods really run: examples/models served where pods can fetch them (http://169.254.0.1:PORT) */
  modelsUrl?: string;
  /** the image the nodes hold, when pods run from one (its name is what pods must ask for) */
  image?: ImageBundle;
  kubeconfigPath: string;
  /** kubectl from the same build, when it was built */
  kubectl: string | undefined;
  /**
   * Changes the link between two tiers (both directions) when pods really run: every Service link
   * between pods of those tiers, open connections included, as `crime up`'s control API does.
   */
  setLink(a: Tier, b: Tier, conditions: Partial<LinkConditions>): LinkConditions;
  stop(): Promise<void>;
}

export interface DevClusterOptions {
  nodes?: readonly FakeNodeSpec[];
  /** run the pods for real (root: per-pod network namespaces); else kwok only marks them running */
  runPods?: boolean;
  /**
   * with runPods: an unpacked image (scripts/build-image.sh --bundle) the nodes hold; containers
   * asking for it run from its root filesystem as their securityContext says. Else every container
   * runs this checkout's CLI as root on the host's filesystem.
   */
  imageRoot?: string;
  network?: DevNetwork;
  onProgress?: (line: string) => void;
  logger?: Logger;
}

export async function startDevCluster(options: DevClusterOptions = {}): Promise<DevCluster> {
  const progress = options.onProgress ?? (() => undefined);
  const runPods = options.runPods === true;
  if (options.imageRoot && !runPods) throw new Error('an image root needs pods that run (runPods)');
  const image = options.imageRoot ? loadImageBundle(options.imageRoot) : undefined;
  progress(`starting etcd, kube-apiserver, kube-scheduler, kube-controller-manager${runPods ? '' : ' and kwok'}`);
  const cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: !runPods });
  let runner: PodRunner | undefined;
  let models: StaticServer | undefined;
  // A copy: setLink changes it, and linkBetween reads it on every call.
  const network = structuredClone(options.network ?? DEFAULT_NETWORK);
  try {
    const kc = cp.admin();
    progress(`control plane up in ${(cp.timings.totalMs / 1000).toFixed(1)} s; installing the RnnTopology CRD`);
    await installCrd(kc, readCrdFile(join(repoRoot(), 'crds', 'crime.dev_rnntopologies.yaml')));
    const nodes = options.nodes ?? DEV_NODES;
    const describe = nodes.map((n) => `${n.name} (${n.arch}${n.gpus ? `, ${n.gpus} GPU` : ''})`).join(', ');
    if (runPods) {
      progress(`starting the pod runner for ${nodes.length} nodes: ${describe}${image ? `; containers from the image ${image.name} (${image.dir})` : ''}`);
      const tiers = new Map(nodes.map((n) => [n.name, n.tier]));
      runner = await PodRunner.start({
        kc,
        nodes: nodes.map((n) => ({ ...n, ...(n.tier && network.compute[n.tier] ? { emulate: network.compute[n.tier] as string } : {}) })),
        // Not under /tmp: pods mount an emptyDir there, which would hide their own volumes' sources.
        dataDir: join('/var/lib/crime-dev-cluster', basename(cp.workDir)),
        crime: { node: process.execPath, root: repoRoot() },
        ...(image ? { image } : {}),
        linkBetween: linkBetween(network, (n) => tiers.get(n)),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      // The host as pods see it (their gateway): a model URI for topologies to try.
      models = await serveDirectory(join(repoRoot(), 'examples', 'models'), GATEWAY_IP);
    } else {
      progress(`creating ${nodes.length} fake nodes: ${describe}`);
      await createFakeNodes(kc, nodes);
    }
  } catch (err) {
    await models?.close();
    await runner?.stop();
    await cp.stop();
    throw err;
  }
  const kubectl = join(cp.binDir, 'kubectl');
  return {
    controlPlane: cp,
    ...(runner ? { runner } : {}),
    ...(models ? { modelsUrl: models.url } : {}),
    ...(image ? { image } : {}),
    kubeconfigPath: cp.kubeconfigPath,
    kubectl: existsSync(kubectl) ? kubectl : undefined,
    setLink(a, b, conditions) {
      if (!runner) throw new Error('links are emulated only when pods really run (runPods)');
      let link = network.links.find((l) => (l.between[0] === a && l.between[1] === b) || (l.between[0] === b && l.between[1] === a));
      if (!link) {
        link = { between: [a, b], rttMs: 0, bandwidthMbps: Infinity };
        network.links.push(link);
      }
      Object.assign(link, conditions);
      runner.relink();
      return { rttMs: link.rttMs, bandwidthMbps: link.bandwidthMbps };
    },
    async stop() {
      await models?.close();
      await runner?.stop();
      await cp.stop();
    },
  };
}
