import { parseArgs } from 'node:util';
import { groupUsage, type Command } from './command.js';
import { waitForSignal } from './options.js';

const upUsage = `Usage: crime cluster up [--operator]

A local Kubernetes to try the operator on, without Docker: etcd, kube-apiserver, kube-scheduler,
kube-controller-manager and kwok (fake nodes: edge-0 and edge-1 arm64, gateway-0, gpu-0 with two
nvidia.com/gpu and the GPU taint), the RnnTopology CRD installed. The binaries are built from Go
modules on first use (about 10 minutes on 2 cores, then cached in ~/.cache/crime-k8s; see
docs/control-plane.md). Prints, when ready:
  kubeconfig /ABSOLUTE/PATH     for kubectl --kubeconfig, crime operator --kubeconfig
  kubectl /ABSOLUTE/PATH        kubectl from the same build
Ctrl-C or SIGTERM stops everything. Pods on the fake nodes are marked running but run nothing.

Options:
  --operator   also run the operator in this process (else: crime operator --kubeconfig ...)
`;

const up: Command = {
  name: 'up',
  summary: 'start a local control plane with fake edge, gateway and GPU nodes',
  usage: upUsage,
  async run(args, io) {
    const { values } = parseArgs({ args, strict: true, options: { operator: { type: 'boolean', default: false } } });
    const { startDevCluster } = await import('../devcluster/dev-cluster.js');
    const cluster = await startDevCluster({ onProgress: (line) => io.stderr.write(`${line}\n`) });
    let operator: { close(): Promise<void> } | undefined;
    try {
      if (values.operator) {
        const [{ startOperator }, { createLogger }] = await Promise.all([import('../operator/manager.js'), import('../runtime/log.js')]);
        operator = await startOperator({ kubeconfig: cluster.kubeconfigPath, metricsPort: 0, metricsHost: '127.0.0.1', logger: createLogger({ service: 'operator', stream: io.stderr }) });
      }
      io.stdout.write(`kubeconfig ${cluster.kubeconfigPath}\n${cluster.kubectl ? `kubectl ${cluster.kubectl}\n` : ''}`);
      await waitForSignal();
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
