/**
 * `crime bench operator`: the operator as a separate process against the dev control plane (real
 * etcd, kube-apiserver, scheduler, controller-manager, kwok nodes). Measures, watching the API the
 * way a user's kubectl would:
 *   - apply → every child exists, one topology at a time (p50/p95), against the baseline of the
 *     API server's own create → watch-event latency for a ConfigMap, measured in the same run;
 *   - a burst of topologies applied at once → all Ready, and how long after kwok marked the last
 *     pod Ready;
 *   - the operator's resident memory;
 *   - API writes during idle resyncs (should be none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { ControlPlane } from '../devcluster/controlplane.js';
import { installCrd, readCrdFile } from '../devcluster/crds.js';
import { createNamespace } from '../devcluster/namespaces.js';
import { createFakeNodes, edgeNode, gatewayNode, gpuNode, type FakeNodeSpec } from '../devcluster/nodes.js';
import { ListWatchInformer, watchWith } from '../operator/kube/informer.js';
import { pathOf, RESOURCES, type Resource } from '../operator/kube/resources.js';
import { KubeRest } from '../operator/kube/rest.js';
import { childNames, MANAGED_SELECTOR } from '../operator/render/names.js';
import { quantile } from '../stats/quantile.js';

export interface OperatorBenchOptions {
  /** topologies applied one after another for the apply → children latency */
  sequential: number;
  /** topologies applied at once */
  burst: number;
  /** the operator's relist period during the idle phase */
  resyncSeconds: number;
  onProgress?: (fraction: number, label: string) => void;
}

export interface OperatorBenchReport {
  baseline: { p50Ms: number; p95Ms: number };
  applyToChildren: { count: number; p50Ms: number; p95Ms: number; p50VsBaseline: number };
  burst: { topologies: number; devices: number; allChildrenMs: number; lastPodReadyMs: number; allReadyMs: number; readyAfterPodsMs: number };
  operatorRssMB: { now: number; peak: number };
  idle: { seconds: number; resyncReconciles: number; writes: number };
}

const NS = 'bench';
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const CRD = fileURLToPath(new URL('../../crds/crime.dev_rnntopologies.yaml', import.meta.url));

/** Room for the burst: pods and CPU are not what is measured. */
const NODES: FakeNodeSpec[] = [
  ...[0, 1].map((i) => edgeNode(`edge-${i}`, { cpu: '500', memory: '2Ti', pods: 500 })),
  ...[0, 1].map((i) => gatewayNode(`gateway-${i}`, { cpu: '500', memory: '2Ti', pods: 500 })),
  ...[0, 1].map((i) => gpuNode(`cloud-${i}`, 0, { cpu: '500', memory: '2Ti', pods: 500 })),
];

function topology(name: string): unknown {
  const tier = (t: string): unknown => ({ nodeSelector: { 'crime.dev/tier': t } });
  return {
    apiVersion: 'crime.dev/v1alpha1',
    kind: 'RnnTopology',
    metadata: { name, namespace: NS },
    spec: {
      model: { format: 'onnx', uri: 'http://models.invalid/imdb1x128.onnx' },
      devices: [
        { name: 'end-node', tier: 'edge', entry: true, offloadTo: ['gateway'], placement: tier('edge') },
        { name: 'gateway', tier: 'gateway', offloadTo: ['cloud'], placement: tier('gateway') },
        { name: 'cloud', tier: 'cloud', placement: tier('cloud') },
      ],
    },
  };
}

const round = (v: number): number => Math.round(v * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function rssMB(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { now: round(kb('VmRSS') / 1024), peak: round(kb('VmHWM') / 1024) };
}

async function operatorCounters(metricsUrl: string): Promise<{ writes: number; reconciles: number }> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let writes = 0;
  let reconciles = 0;
  for (const m of text.matchAll(/^crime_operator_api_requests_total\{verb="(\w+)",code="\d+"\} (\d+)/gm)) if (m[1] !== 'GET') writes += Number(m[2]);
  for (const m of text.matchAll(/^crime_operator_reconciles_total\{[^}]*\} (\d+)/gm)) reconciles += Number(m[1]);
  return { writes, reconciles };
}

function startOperatorProcess(kubeconfig: string, resyncSeconds: number): Promise<{ child: ChildProcess; metrics: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'operator', '--kubeconfig', kubeconfig, '--namespace', NS, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--resync-seconds', String(resyncSeconds), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^metrics (http:\S+)$/m.exec(out);
      if (m?.[1]) resolve({ child, metrics: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`the operator exited (${String(code)}) before it was ready`)));
  });
}

export async function runOperatorBench(o: OperatorBenchOptions): Promise<OperatorBenchReport> {
  const progress = o.onProgress ?? (() => undefined);
  progress(0, 'starting the control plane');
  const cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
  let operator: { child: ChildProcess; metrics: string } | undefined;
  const informers: Array<ListWatchInformer<KubernetesObject>> = [];
  const rest = new KubeRest(cp.admin());
  try {
    const kc = cp.admin();
    await installCrd(kc, readCrdFile(CRD));
    await createFakeNodes(kc, NODES);
    await createNamespace(kc, NS);
    const seen = new Map<string, number>();
    const watch = watchWith(rest);
    const observe = <T extends KubernetesObject>(resource: Resource, selector?: string, onEvent?: (obj: T) => void): ListWatchInformer<T> => {
      const inf = new ListWatchInformer<T>({ rest, watch, resource, namespace: NS, ...(selector ? { labelSelector: selector } : {}) });
      inf.on((event, obj) => {
        if (event === 'delete') return;
        const key = `${resource.kind}/${obj.metadata?.name ?? ''}`;
        if (!seen.has(key)) seen.set(key, performance.now());
        onEvent?.(obj);
      });
      inf.start();
      informers.push(inf as unknown as ListWatchInformer<KubernetesObject>);
      return inf;
    };
    let lastPodReady = 0;
    const readyPods = new Set<string>();
    const readyTopologies = new Map<string, number>();
    /** topologies whose Progressing is False: every Deployment caught up (the controller-manager lags the pods) */
    const settled = new Set<string>();
    observe(RESOURCES.configMap, MANAGED_SELECTOR);
    observe(RESOURCES.secret, MANAGED_SELECTOR);
    observe(RESOURCES.service, MANAGED_SELECTOR);
    observe(RESOURCES.deployment, MANAGED_SELECTOR);
    observe<V1Pod>(RESOURCES.pod, undefined, (p) => {
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !readyPods.has(p.metadata?.name ?? '')) {
        readyPods.add(p.metadata?.name ?? '');
        lastPodReady = performance.now();
      }
    });
    observe<KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(RESOURCES.topology, undefined, (t) => {
      if (t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !readyTopologies.has(t.metadata?.name ?? '')) readyTopologies.set(t.metadata?.name ?? '', performance.now());
      const progressing = t.status?.conditions?.find((c) => c.type === 'Progressing')?.status;
      if (progressing === 'False') settled.add(t.metadata?.name ?? '');
      else settled.delete(t.metadata?.name ?? '');
    });
    await Promise.all(informers.map((i) => i.synced()));
    const childrenOf = (name: string): boolean => {
      const names = childNames(name);
      return [`ConfigMap/${names.configMap}`, `Secret/${names.secret}`, ...['end-node', 'gateway', 'cloud'].flatMap((d) => [`Service/${names.service(d)}`, `Deployment/${names.deployment(d)}`])].every((k) => seen.has(k));
    };

    progress(0.05, 'baseline: create → watch event');
    const baseline: number[] = [];
    for (let i = 0; i < o.sequential; i++) {
      const name = `baseline-${i}`;
      const t0 = performance.now();
      await rest.request({ method: 'POST', path: pathOf(RESOURCES.configMap, NS), body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'crime-operator' } } } });
      await until(() => seen.has(`ConfigMap/${name}`), 10_000, `the watch event of ${name}`);
      baseline.push(performance.now() - t0);
    }

    operator = await startOperatorProcess(cp.kubeconfigPath, o.resyncSeconds);
    progress(0.1, 'apply → children, one at a time');
    const apply: number[] = [];
    for (let i = 0; i < o.sequential; i++) {
      const name = `seq-${i}`;
      const t0 = performance.now();
      await rest.request({ method: 'POST', path: pathOf(RESOURCES.topology, NS), body: topology(name) });
      await until(() => childrenOf(name), 30_000, `the children of ${name}`);
      apply.push(performance.now() - t0);
      progress(0.1 + (0.3 * (i + 1)) / o.sequential, `apply → children ${i + 1}/${o.sequential}`);
    }
    await until(() => [...Array(o.sequential).keys()].every((i) => readyTopologies.has(`seq-${i}`)), 60_000, 'the sequential topologies Ready');

    progress(0.4, `burst: ${o.burst} topologies at once`);
    const names = Array.from({ length: o.burst }, (_, i) => `burst-${i}`);
    const t0 = performance.now();
    const pending = [...names];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let name = pending.shift(); name !== undefined; name = pending.shift()) await rest.request({ method: 'POST', path: pathOf(RESOURCES.topology, NS), body: topology(name) });
    }));
    await until(() => names.every(childrenOf), 300_000, 'every burst child');
    const allChildren = performance.now() - t0;
    await until(() => {
      progress(0.4 + (0.4 * names.filter((n) => readyTopologies.has(n)).length) / o.burst, `burst Ready ${names.filter((n) => readyTopologies.has(n)).length}/${o.burst}`);
      return names.every((n) => readyTopologies.has(n));
    }, 600_000, 'every burst topology Ready');
    const allReadyAt = Math.max(...names.map((n) => readyTopologies.get(n) as number));
    const podsReadyAt = lastPodReady;

    // Idle means settled: Ready comes from the pods, while the Deployments' own status (and with it
    // Progressing) follows at the controller-manager's pace; those are real changes, not idle ones.
    progress(0.8, 'waiting for the Deployments to settle');
    await until(() => names.every((n) => settled.has(n)), 300_000, 'every burst topology settled (Progressing False)');
    progress(0.85, 'idle: resyncs without changes');
    await sleep(3000);
    const before = await operatorCounters(operator.metrics);
    const idleSeconds = Math.max(10, o.resyncSeconds * 2.5);
    await sleep(idleSeconds * 1000);
    const afterIdle = await operatorCounters(operator.metrics);
    const rss = rssMB(operator.child.pid as number);
    progress(1, 'done');
    const sortedBaseline = baseline.sort((a, b) => a - b);
    const sortedApply = apply.sort((a, b) => a - b);
    const b50 = quantile(sortedBaseline, 0.5);
    const a50 = quantile(sortedApply, 0.5);
    return {
      baseline: { p50Ms: round(b50), p95Ms: round(quantile(sortedBaseline, 0.95)) },
      applyToChildren: { count: apply.length, p50Ms: round(a50), p95Ms: round(quantile(sortedApply, 0.95)), p50VsBaseline: round(a50 / b50) },
      burst: {
        topologies: o.burst,
        devices: o.burst * 3,
        allChildrenMs: Math.round(allChildren),
        lastPodReadyMs: Math.round(podsReadyAt - t0),
        allReadyMs: Math.round(allReadyAt - t0),
        readyAfterPodsMs: Math.round(Math.max(0, allReadyAt - podsReadyAt)),
      },
      operatorRssMB: rss,
      idle: { seconds: idleSeconds, resyncReconciles: afterIdle.reconciles - before.reconciles, writes: afterIdle.writes - before.writes },
    };
  } finally {
    for (const i of informers) i.stop();
    operator?.child.kill('SIGTERM');
    rest.close();
    await cp.stop();
  }
}

export function formatOperatorBench(r: OperatorBenchReport): string {
  return [
    'crime bench operator: the operator process on the dev control plane (real apiserver, scheduler, controller-manager, kwok)',
    '',
    `baseline: apiserver create → watch event of a ConfigMap   p50 ${r.baseline.p50Ms} ms   p95 ${r.baseline.p95Ms} ms`,
    `apply → all 8 children exist (${r.applyToChildren.count} topologies, one at a time)   p50 ${r.applyToChildren.p50Ms} ms (${r.applyToChildren.p50VsBaseline}× baseline)   p95 ${r.applyToChildren.p95Ms} ms   [target p50 ≤ 200 ms]`,
    `burst: ${r.burst.topologies} topologies × 3 devices at once: all children ${(r.burst.allChildrenMs / 1000).toFixed(1)} s, last pod Ready ${(r.burst.lastPodReadyMs / 1000).toFixed(1)} s, all topologies Ready ${(r.burst.allReadyMs / 1000).toFixed(1)} s`,
    `  → all Ready ${(r.burst.readyAfterPodsMs / 1000).toFixed(1)} s after kwok marked the last pod Ready   [target ≤ 30 s]`,
    `operator RSS: ${r.operatorRssMB.now} MB now, ${r.operatorRssMB.peak} MB peak   [target ≤ 200 MB]`,
    `idle for ${r.idle.seconds} s: ${r.idle.resyncReconciles} resync reconciles, ${r.idle.writes} API writes   [target 0 writes]`,
    '',
  ].join('\n');
}
