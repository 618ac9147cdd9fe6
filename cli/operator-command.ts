import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { announceUntilSignal, choice, intOption } from './options.js';

const usage = `Usage: crime operator [--kubeconfig FILE] [--namespace NS] [--metrics-port N] [--leader-elect]
                      [--image IMAGE] [--gpu-image IMAGE] [--image-pull-policy P] [options]

Runs the Kubernetes operator: turns every RnnTopology (crime.dev/v1alpha1) into node-pinned
inference pods (a runtime and a mapper sidecar per device), wires the mappers to each other, and
reports status. Serves /healthz, /readyz and /metrics. SIGTERM or SIGINT finishes the reconciles
in flight, gives up the lease and exits.

Options:
  --kubeconfig FILE              kubeconfig to use (default: $KUBECONFIG, else the in-cluster service account,
                                 else ~/.kube/config)
  --namespace NS                 watch only this namespace (default: every namespace)
  --metrics-port N               port of /healthz, /readyz, /metrics (default 8080; 0 picks one)
  --metrics-host H               address to bind (default 0.0.0.0)
  --leader-elect                 run as one of several replicas: only the holder of a Lease reconciles
  --leader-election-namespace NS where the Lease lives (default: this pod's namespace, else default)
  --image IMAGE                  image of the runtime and mapper containers (default ghcr.io/crime-k8s/crime:0.1.0)
  --gpu-image IMAGE              image for devices with gpus > 0 (default: --image)
  --image-pull-policy P          Always | IfNotPresent | Never (default IfNotPresent)
  --image-pull-secret NAME       a Secret the device pods pull their images with (a private registry); it must
                                 exist in each topology's namespace; repeatable
  --network-policy               render NetworkPolicies per topology: mapper ports open to the same topology's
                                 mappers only, the entry open to clients
  --network-policy-metrics-namespace NS
                                 also let this namespace reach the mapper ports (metrics scrapers); repeatable
  --workers N                    reconciles at once (default 4)
  --resync-seconds N             relist everything and reconcile every topology this often (default 600)
  --log-level L                  error | warn | info | debug (default info); JSON logs go to stderr
`;

/** The namespace this pod runs in, when it runs in one. */
function podNamespace(): string | undefined {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export const operatorCommand: Command = {
  name: 'operator',
  summary: 'run the Kubernetes operator for RnnTopology resources',
  usage,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'leader-elect': { type: 'boolean', default: false },
        'leader-election-namespace': { type: 'string' },
        image: { type: 'string' },
        'gpu-image': { type: 'string' },
        'image-pull-policy': { type: 'string' },
        'image-pull-secret': { type: 'string', multiple: true },
        workers: { type: 'string' },
        'network-policy': { type: 'boolean', default: false },
        'network-policy-metrics-namespace': { type: 'string', multiple: true },
        'resync-seconds': { type: 'string' },
        'log-level': { type: 'string' },
      },
    });
    const [{ createLogger }, { startOperator }, { DEFAULT_RENDER_OPTIONS }] = await Promise.all([
      import('../runtime/log.js'),
      import('../operator/manager.js'),
      import('../operator/render/options.js'),
    ]);
    const logger = createLogger({ service: 'operator', stream: io.stderr, level: choice(values['log-level'], 'log-level', ['error', 'warn', 'info', 'debug'] as const, 'info') });
    const image = values.image ?? DEFAULT_RENDER_OPTIONS.images.default;
    const operator = await startOperator({
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.namespace ? { namespace: values.namespace } : {}),
      metricsPort: intOption(values['metrics-port'], 'metrics-port', 8080, 0),
      ...(values['metrics-host'] ? { metricsHost: values['metrics-host'] } : {}),
      ...(values['leader-elect'] ? { leaderElection: { namespace: values['leader-election-namespace'] ?? podNamespace() ?? 'default' } } : {}),
      render: {
        images: {
          default: image,
          ...(values['gpu-image'] ? { gpu: values['gpu-image'] } : {}),
          pullPolicy: choice(values['image-pull-policy'], 'image-pull-policy', ['Always', 'IfNotPresent', 'Never'] as const, 'IfNotPresent'),
          ...(values['image-pull-secret'] ? { pullSecrets: values['image-pull-secret'] } : {}),
        },
        ...(values['network-policy'] ? { networkPolicy: { metricsNamespaces: values['network-policy-metrics-namespace'] ?? [] } } : {}),
      },
      workers: intOption(values.workers, 'workers', 4, 1),
      informer: { relistMs: intOption(values['resync-seconds'], 'resync-seconds', 600, 1) * 1000 },
      logger,
    });
    await announceUntilSignal(io.stdout, `metrics ${operator.metricsUrl}\n`);
    logger.info('stopping');
    await operator.close();
    return 0;
  },
};
