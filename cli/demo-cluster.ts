/**
 * `crime demo --cluster`: the demo through Kubernetes. The dev cluster with pods that really run
 * (devcluster/, as `crime cluster up --run-pods`), the operator, the three-tier example applied
 * through the API with its model served by the pod runner, Ready awaited while saying how far it
 * is, then the same phases as the local demo against the entry pod, the gateway-to-cloud link
 * changed through the pod runner, and `kubectl get rnnt`.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { childNames } from '../operator/render/names.js';
import { UsageError } from '../runtime/errors.js';
import type { CliIo } from './command.js';
import { runDemoPhases } from './demo-phases.js';
import { untilSignal } from './until-signal.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/topologies/three-tier.yaml', import.meta.url));
const NAMESPACE = 'default';
/** The model the example names, as the pod runner serves examples/models. */
const MODEL_FILE = 'imdb1x128.onnx';

export interface ClusterDemoOptions {
  count: number;
  rate: number;
  /** leave everything up after the tables, until Ctrl-C */
  keep: boolean;
}

/** kubectl's own output for `kubectl get rnnt`, or the reason there is none. */
function kubectlGet(kubectl: string | undefined, kubeconfig: string): Promise<string> {
  if (!kubectl) return Promise.resolve('(no kubectl in this build of the control plane)\n');
  return new Promise((resolve) => {
    const child = spawn(kubectl, ['--kubeconfig', kubeconfig, '-n', NAMESPACE, 'get', 'rnnt'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => resolve(`(kubectl failed: ${err.message})\n`));
    child.on('close', () => resolve(out));
  });
}

export async function runClusterDemo(io: CliIo, o: ClusterDemoOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    throw new UsageError('crime demo --cluster runs its pods in network namespaces of their own and needs root: sudo npx crime demo --cluster');
  }
  const [{ startDevCluster }, { startOperator }, { KubeRest }, { applyTopology, waitForReady, devicePodUrl }, { createLogger }, { waitFor }] = await Promise.all([
    import('../devcluster/dev-cluster.js'),
    import('../operator/manager.js'),
    import('../operator/kube/rest.js'),
    import('../devcluster/topologies.js'),
    import('../runtime/log.js'),
    import('../devcluster/wait.js'),
  ]);
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const say = (line: string): void => void io.stdout.write(`${line}\n`);
  const stop = untilSignal();
  const cleanup: Array<() => Promise<void>> = [];
  // Aborted on Ctrl-C: the step under way finishes (so what it started is stopped too), the next is not taken.
  const cancel = new AbortController();
  const next = (): void => cancel.signal.throwIfAborted();
  let kept = false;
  const work = async (): Promise<number> => {
    say('Starting a local Kubernetes whose pods really run (no Docker): control plane, pod runner for edge, gateway and GPU nodes...');
    const cluster = await startDevCluster({
      runPods: true,
      onProgress: (line) => io.stderr.write(`  ${line}\n`),
      logger: createLogger({ service: 'pod-runner', stream: io.stderr, level: 'warn' }),
    });
    cleanup.push(() => cluster.stop());
    next();
    const operator = await startOperator({
      kubeconfig: cluster.kubeconfigPath,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      defaultMetrics: false,
      logger: createLogger({ service: 'operator', stream: io.stderr, level: 'warn' }),
    });
    cleanup.unshift(() => operator.close());
    await operator.leading;
    const rest = new KubeRest(cluster.controlPlane.admin());
    cleanup.unshift(async () => rest.close());
    next();
    say(`Cluster and operator up (${elapsed()}).`);

    const doc = parseYaml(await readFile(EXAMPLE, 'utf8')) as { metadata: { name: string }; spec: { model: { uri: string } } } & Parameters<typeof applyTopology>[1];
    doc.spec.model.uri = `${cluster.modelsUrl}/${MODEL_FILE}`;
    // The GPU node's nvidia.com/gpu only places the pod: nothing here has a GPU. A GPU device runs
    // onnx-cuda unless told otherwise (and would not be Ready), so it is told: onnx-cpu.
    for (const d of doc.spec.devices as Array<{ gpus?: number; backend?: string }>) if ((d.gpus ?? 0) > 0) d.backend = 'onnx-cpu';
    const name = doc.metadata.name;
    const entry = doc.spec.devices.find((d) => d.entry)?.name ?? 'end-node';
    say(`Applying examples/topologies/three-tier.yaml as RnnTopology ${name} (model ${doc.spec.model.uri}, served by the pod runner)...`);
    await applyTopology(rest, doc, NAMESPACE, 'crime-demo');
    await waitForReady(rest, NAMESPACE, name, { timeoutMs: 300_000, progress: (line) => say(`  ${line}   (${elapsed()})`), signal: cancel.signal });
    const entryUrl = await waitFor(() => devicePodUrl(rest, NAMESPACE, name, entry), { what: `a ready ${entry} pod`, timeoutMs: 60_000, signal: cancel.signal });
    const where = [
      `kubeconfig ${cluster.kubeconfigPath}`,
      `entry ${entryUrl}   (the ${entry} pod; kubectl get pods -o wide)`,
      `page ${entryUrl}/ui   (open it to watch the requests live; on a real cluster: kubectl port-forward svc/${childNames(name).service(entry)} 8080, then http://127.0.0.1:8080/ui)`,
    ].join('\n');
    say(`${where}\n`);
    // The first pings between neighbours, as in the local demo.
    await new Promise((r) => setTimeout(r, 1500));
    next();
    const failed = await runDemoPhases(
      io,
      {
        entryUrl,
        setCloudLinkRtt: async (rttMs) => void cluster.setLink('gateway', 'cloud', { rttMs }),
      },
      { count: o.count, rate: o.rate, onFirstTable: () => io.stderr.write(`(first table ${elapsed()} after the start)\n`) },
    );
    next();
    say(`\n$ kubectl get rnnt\n${(await kubectlGet(cluster.kubectl, cluster.kubeconfigPath)).trimEnd()}`);
    if (o.keep) {
      kept = true;
      io.stdout.write(`\nLeft running (Ctrl-C stops everything):\n${where}\nkubectl ${cluster.kubectl ?? '(none)'}\n`);
      await stop.signalled;
      io.stderr.write('stopping\n');
    } else {
      say(`\nStopping everything (crime demo --cluster --keep leaves it up).`);
    }
    return failed > 0 ? 1 : 0;
  };
  const running = work();
  try {
    // With --keep the run itself waits for the signal: that is its end, not an interruption.
    const interrupted = stop.signalled.then(async (): Promise<number | 'interrupted'> => (kept ? running : 'interrupted'));
    const result = await Promise.race<number | 'interrupted'>([running, interrupted]);
    if (result !== 'interrupted') return result;
    cancel.abort(new Error('interrupted'));
    io.stderr.write('interrupted: stopping everything once the step under way is done\n');
    await running.catch(() => undefined);
    return 130;
  } finally {
    stop.dispose();
    for (const c of cleanup) await c().catch((err: unknown) => io.stderr.write(`while stopping: ${(err as Error).message}\n`));
  }
}
