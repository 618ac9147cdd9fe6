import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import { groupUsage, type Command } from './command.js';
import { announceUntilSignal } from './options.js';

const upUsage = `Usage: crime cluster up [--operator] [--run-pods [--image-root DIR]]

A local Kubernetes to try the operator on, without Docker: etcd, kube-apiserver, kube-scheduler,
kube-controller-manager and kwok (fake nodes: edge-0 and edge-1 arm64, gateway-0, gpu-0 with two
nvidia.com/gpu and the GPU taint), the RnnTopology CRD installed. The binaries are built from Go
modules on first use (about 10 minutes on 2 cores, then cached in ~/.cache/crime-k8s; see
docs/control-plane.md). Prints, when ready:
  kubeconfig /ABSOLUTE/PATH     for kubectl --kubeconfig, crime operator --kubeconfig
  kubectl /ABSOLUTE/PATH        kubectl from the same build
Ctrl-C or SIGTERM stops everything. Pods on the fake nodes are marked running but run nothing,
unless --run-pods.

Options:
  --operator   also run the operator in this process (else: crime operator --kubeconfig ...)
  --run-pods   run the pods for real, no Docker: a kubelet for the nodes runs each container as a
               local process in the pod's own network namespace (needs root), volumes and probes
               included; links between tiers are emulated (edge-gateway 10 ms, gateway-cloud 30 ms,
               edge-cloud 25 ms) and edge and gateway runtimes emulate slower CPUs. Also prints
                 models http://169.254.0.1:PORT     examples/models, for spec.model.uri
               Pods answer on their pod IP (kubectl get pods -o wide), e.g. the entry's :8080.
  --image-root DIR
               with --run-pods: the nodes hold this unpacked image (scripts/build-image.sh --bundle
               prints its folder): containers that ask for it run from its root filesystem as their
               pod's runAsUser/runAsGroup/fsGroup, read-only root and capabilities say, so what the
               image lacks or the security context forbids fails as on a node. --operator renders
               pods with it; a separate operator needs --image with the name printed as
                 image NAME
               Without it, containers run this checkout's CLI as root on this machine's files.
`;

const up: Command = {
  name: 'up',
  summary: 'start a local control plane with fake edge, gateway and GPU nodes',
  usage: upUsage,
  async run(args, io) {
    const { values } = parseArgs({ args, strict: true, options: { operator: { type: 'boolean', default: false }, 'run-pods': { type: 'boolean', default: false }, 'image-root': { type: 'string' } } });
    if (values['image-root'] !== undefined && !values['run-pods']) throw new UsageError('--image-root needs --run-pods (pods that really run)');
    const [{ startDevCluster }, { createLogger }] = await Promise.all([import('../devcluster/dev-cluster.js'), import('../runtime/log.js')]);
    const cluster = await startDevCluster({
      runPods: values['run-pods'],
      ...(values['image-root'] !== undefined ? { imageRoot: values['image-root'] } : {}),
      onProgress: (line) => io.stderr.write(`${line}\n`),
      logger: createLogger({ service: 'pod-runner', stream: io.stderr, level: 'warn' }),
    });
    let operator: { close(): Promise<void> } | undefined;
    try {
      if (values.operator) {
        const { startOperator } = await import('../operator/manager.js');
        const images = cluster.image ? { render: { images: { default: cluster.image.name, pullPolicy: 'Never' as const } } } : {};
        operator = await startOperator({ kubeconfig: cluster.kubeconfigPath, metricsPort: 0, metricsHost: '127.0.0.1', ...images, logger: createLogger({ service: 'operator', stream: io.stderr }) });
      }
      await announceUntilSignal(io.stdout, `kubeconfig ${cluster.kubeconfigPath}\n${cluster.kubectl ? `kubectl ${cluster.kubectl}\n` : ''}${cluster.modelsUrl ? `models ${cluster.modelsUrl}\n` : ''}${cluster.image ? `image ${cluster.image.name}\n` : ''}`);
      io.stderr.write('stopping\n');
    } finally {
      await operator?.close();
      await cluster.stop();
    }
    return 0;
  },
};

const subcommands: readonly Command[] = [up];

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'a local Kubernetes without Docker, to try the operator',
  usage: groupUsage('crime cluster', 'A local Kubernetes control plane with fake nodes (see docs/operator.md).', subcommands),
  subcommands,
};
