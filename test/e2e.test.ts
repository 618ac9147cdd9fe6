/**
 * End to end through Kubernetes, pods that really run: the dev cluster with its pod runner (real
 * control plane; each pod's containers as processes in the pod's own network namespace, from the
 * `crime` image built from this checkout, non-root with a read-only root as rendered; links
 * between tiers emulated; edge and gateway runtimes emulating slower CPUs), the real operator, the
 * example topology applied through the API, and requests to the entry pod. Then chaos through the
 * API: a pod deleted under load, the topology edited under load, models that cannot be fetched, a
 * token rotation caught half-way. Each phase prints requests sent / failed / p50 / p99.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { createNamespace } from '../devcluster/namespaces.js';
import { startDevCluster, type DevCluster } from '../devcluster/dev-cluster.js';
import { imageBundleDir } from '../devcluster/image-build.js';
import { waitFor } from '../devcluster/wait.js';
import { runLoad, type LoadReport } from '../load/load.js';
import { pathOf, RESOURCES } from '../operator/kube/resources.js';
import { KubeRest } from '../operator/kube/rest.js';
import { startOperator, type Operator } from '../operator/manager.js';
import type { TopologyStatus } from '../operator/render/status.js';
import { parseLengthSpec } from '../stats/lengths.js';

const NS = 'e2e';
const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: { model: Record<string, unknown>; mapping: Record<string, unknown>; devices: Array<Record<string, unknown>> } };

/**
 * The three-tier example, its model served where pods can fetch it. The dev cluster's GPU node has
 * no GPU: its devices run on the CPU, said explicitly (with auto they would run onnx-cuda and not
 * be Ready, as the test of that shows).
 */
function example(modelsUrl: string): Doc {
  const doc = parseYaml(readFileSync(root('examples/topologies/three-tier.yaml'), 'utf8')) as Doc;
  doc.metadata = { name: 'imdb', namespace: NS };
  doc.spec.model.uri = `${modelsUrl}/imdb1x128.onnx`;
  for (const d of doc.spec.devices) if (Number(d['gpus'] ?? 0) > 0) d['backend'] = 'onnx-cpu';
  return doc;
}

function summary(phase: string, r: LoadReport): string {
  const served = Object.entries(r.servedBy).map(([d, s]) => `${d} ${s.count}`).join(', ');
  const line = `${phase}: sent ${r.requests}, failed ${r.failed}, p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms (${served})`;
  console.log(line);
  return line;
}

describe('end to end: the operator-rendered topology with pods that really run', { skip: process.getuid?.() !== 0 ? 'needs root for network namespaces' : false }, () => {
  let cluster: DevCluster;
  let op: Operator;
  let admin: KubeRest;
  let entry: string;

  const get = <T>(path: string): Promise<T> => admin.request<T>({ method: 'GET', path });
  const status = async (name: string): Promise<TopologyStatus | undefined> => (await get<{ status?: TopologyStatus }>(pathOf(RESOURCES.topology, NS, name))).status;
  const apply = (doc: unknown): Promise<unknown> => admin.request({ method: 'PATCH', path: pathOf(RESOURCES.topology, NS, (doc as Doc).metadata.name), body: doc, query: { fieldManager: 'e2e', force: 'true' }, contentType: 'application/apply-patch+yaml' });
  const pods = async (device?: string): Promise<V1Pod[]> =>
    (await admin.request<{ items: V1Pod[] }>({ method: 'GET', path: pathOf(RESOURCES.pod, NS), query: { labelSelector: `crime.dev/topology=imdb${device ? `,crime.dev/device=${device}` : ''}` } })).items;
  const load = (count: number, rate: number, lengths = 'lognormal:median=60,sigma=1.1,max=1000'): Promise<LoadReport> =>
    runLoad({ url: entry, lengths: parseLengthSpec(lengths, 1000), rate, count, seed: count, timeoutMs: 10_000 });

  before(async () => {
    // Every pod from the image built from this checkout, under the security context the operator renders.
    cluster = await startDevCluster({ runPods: true, imageRoot: imageBundleDir() });
    admin = new KubeRest(cluster.controlPlane.admin());
    await createNamespace(cluster.controlPlane.admin(), NS);
    const render = { images: { default: cluster.image?.name ?? '', pullPolicy: 'Never' as const } };
    op = await startOperator({ kubeconfig: cluster.controlPlane.admin(), namespace: NS, metricsPort: 0, metricsHost: '127.0.0.1', defaultMetrics: false, render });
    await op.leading;
  });
  after(async () => {
    await op?.close();
    admin?.close();
    await cluster?.stop();
  });

  it('apply: pods on the right nodes, Ready with the entry endpoint, short inputs stay on the end node and long ones leave it', async () => {
    await apply(example(cluster.modelsUrl as string));
    const s = await waitFor(async () => {
      const x = await status('imdb');
      return x?.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? x : undefined;
    }, { what: 'the topology Ready', timeoutMs: 120_000 });
    assert.equal(s.entryEndpoint, 'http://imdb--end-node.e2e.svc:8080');
    const where = Object.fromEntries(s.devices.map((d) => [d.name, d.nodes[0] ?? '']));
    assert.match(where['end-node'] ?? '', /^edge-[01]$/, 'the end node on an arm64 edge node');
    assert.equal(where['gateway'], 'gateway-0');
    assert.equal(where['cloud'], 'gpu-0', 'the cloud on the GPU node');
    // Every rendered pod runs from the image, as UID 65532 with a read-only root (the runner applies the securityContext).
    for (const p of await pods()) {
      assert.equal(p.spec?.securityContext?.runAsUser, 65532);
      for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${p.metadata?.name ?? ''}/${c.name}`);
      for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) assert.equal(c.imageID, `sha256:${cluster.image?.id ?? ''}`, `${p.metadata?.name ?? ''}/${c.name}`);
    }
    const [edgePod] = await pods('end-node');
    entry = `http://${edgePod?.status?.podIP ?? ''}:8080`;
    await new Promise((r) => setTimeout(r, 3000)); // first pings between neighbours
    const short = await load(30, 20, 'uniform:1-10');
    const long = await load(30, 20, 'uniform:800-1000');
    summary('apply: short inputs', short);
    summary('apply: long inputs', long);
    assert.equal(short.failed + long.failed, 0);
    assert.ok((short.servedBy['end-node']?.count ?? 0) >= 25, 'short inputs stay on the end node');
    assert.ok((long.servedBy['end-node']?.count ?? 0) <= 5, 'long inputs leave the end node');
  });

  it('a GPU device on a node without a GPU: its runtime stops (no silent CPU fallback), not Ready, the status names BackendUnavailable', async () => {
    const doc = {
      apiVersion: 'crime.dev/v1alpha1',
      kind: 'RnnTopology',
      metadata: { name: 'nogpu', namespace: NS },
      spec: {
        model: { format: 'onnx', uri: `${cluster.modelsUrl as string}/imdb1x128.onnx` },
        mapping: {},
        devices: [
          { name: 'edge', tier: 'edge', entry: true, offloadTo: ['gpu'], placement: { nodeSelector: { 'crime.dev/tier': 'edge' } } },
          { name: 'gpu', tier: 'cloud', gpus: 1, placement: { nodeSelector: { 'crime.dev/tier': 'cloud' } } },
        ],
      },
    };
    await apply(doc);
    const failed = await waitFor(async () => {
      const s = await status('nogpu');
      const gpu = s?.devices.find((d) => d.name === 'gpu');
      const edge = s?.devices.find((d) => d.name === 'edge');
      return gpu?.lastFailure?.reason === 'BackendUnavailable' && edge?.readyReplicas === 1 ? s : undefined;
    }, { what: 'nogpu: BackendUnavailable', timeoutMs: 90_000 });
    const gpu = failed.devices.find((d) => d.name === 'gpu');
    assert.equal(gpu?.backend, 'onnx-cuda');
    assert.equal(failed.devices.find((d) => d.name === 'edge')?.backend, 'onnx-cpu');
    assert.equal(gpu?.readyReplicas, 0);
    assert.match(gpu?.lastFailure?.message ?? '', /BACKEND_UNAVAILABLE: onnxruntime \(cuda\) cannot load the model/);
    const ready = failed.conditions.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'BackendUnavailable']);
    // Gone again, so the GPU it holds is free for the phases after this one.
    await admin.request({ method: 'DELETE', path: pathOf(RESOURCES.topology, NS, 'nogpu') });
    await waitFor(async () => {
      const left = (await admin.request<{ items: V1Pod[] }>({ method: 'GET', path: pathOf(RESOURCES.pod, NS), query: { labelSelector: 'crime.dev/topology=nogpu' } })).items;
      return left.length === 0 ? true : undefined;
    }, { what: 'nogpu pods gone', timeoutMs: 60_000 });
  });

  it('a cloud pod deleted under steady load: nothing fails, a new pod comes, the gateway uses it again', async () => {
    const [cloud] = await pods('cloud');
    const running = load(200, 15);
    await new Promise((r) => setTimeout(r, 3000));
    await admin.request({ method: 'DELETE', path: pathOf(RESOURCES.pod, NS, cloud?.metadata?.name ?? '') });
    const report = await running;
    summary('cloud pod deleted', report);
    assert.equal(report.failed, 0, 'fallback answered every request');
    await waitFor(async () => {
      const fresh = (await pods('cloud')).find((p) => p.metadata?.uid !== cloud?.metadata?.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return fresh;
    }, { what: 'a new cloud pod Ready', timeoutMs: 60_000 });
    const again = await waitFor(async () => {
      const r = await load(20, 20, 'uniform:800-1000');
      return (r.servedBy['cloud']?.count ?? 0) > 0 ? r : undefined;
    }, { what: 'the new cloud pod serving again', timeoutMs: 60_000, intervalMs: 1000 });
    summary('after the new cloud pod', again);
  });

  it('the topology edited under load: the ConfigMap follows, mappers reload without dropping a request, the new device gets traffic where it is cheaper', async () => {
    const doc = example(cluster.modelsUrl as string);
    doc.spec.mapping.pingIdleSeconds = 1;
    doc.spec.devices.push({ name: 'cloud-b', tier: 'cloud', gpus: 1, backend: 'onnx-cpu', placement: { nodeSelector: { 'crime.dev/tier': 'cloud' } } });
    (doc.spec.devices[0] as { offloadTo: string[] }).offloadTo = ['gateway', 'cloud-b'];
    const running = load(200, 15);
    await new Promise((r) => setTimeout(r, 2000));
    await apply(doc);
    const report = await running;
    summary('topology edited', report);
    assert.equal(report.failed, 0, 'no request dropped while the mappers reloaded');
    const config = await get<{ data: Record<string, string> }>(pathOf(RESOURCES.configMap, NS, 'imdb-mappers'));
    assert.match(config.data['end-node.yaml'] ?? '', /pingIdleSeconds: 1/);
    await waitFor(async () => ((await status('imdb'))?.devicesReady === '4/4' ? true : undefined), { what: 'cloud-b Ready', timeoutMs: 90_000 });
    // The edge reaches the cloud directly in 25 ms, through the gateway in 40: long inputs go straight to cloud-b.
    const direct = await waitFor(async () => {
      const r = await load(20, 20, 'uniform:800-1000');
      return (r.servedBy['cloud-b']?.count ?? 0) >= 10 ? r : undefined;
    }, { what: 'long inputs served by cloud-b', timeoutMs: 60_000, intervalMs: 1000 });
    summary('after the edit: long inputs', direct);
  });

  it('a model that 404s or fails its checksum: not Ready, the status says why, the others keep serving', async () => {
    const broken = (name: string, model: Record<string, unknown>): Doc => ({
      apiVersion: 'crime.dev/v1alpha1',
      kind: 'RnnTopology',
      metadata: { name, namespace: NS },
      spec: { model: { format: 'onnx', ...model }, mapping: {}, devices: [{ name: 'edge', tier: 'edge', entry: true, placement: { nodeSelector: { 'crime.dev/tier': 'edge' } } }] },
    });
    await apply(broken('missing', { uri: `${cluster.modelsUrl as string}/missing.onnx` }));
    await apply(broken('tampered', { uri: `${cluster.modelsUrl as string}/imdb1x128.onnx`, sha256: '0'.repeat(64) }));
    const reason = (name: string, pattern: RegExp): Promise<string> =>
      waitFor(async () => {
        const f = (await status(name))?.devices[0]?.lastFailure;
        return f?.reason === 'ModelFetchFailed' && pattern.test(f.message) ? f.message : undefined;
      }, { what: `${name}: ModelFetchFailed`, timeoutMs: 60_000 });
    assert.match(await reason('missing', /HTTP 404/), /missing\.onnx/);
    assert.match(await reason('tampered', /sha256 mismatch/), /expected 0{64}/);
    assert.equal((await status('missing'))?.conditions.find((c) => c.type === 'Ready')?.reason, 'ModelFetchFailed');
    const report = await load(40, 20);
    summary('while two models fail', report);
    assert.equal(report.failed, 0);
  });

  it('a token rotation caught half-way: peer calls refused with 401 and the caller falls back; restored, traffic flows again', async () => {
    const secretPath = pathOf(RESOURCES.secret, NS, 'imdb-token');
    const original = (await get<V1Secret>(secretPath)).data?.token ?? '';
    // The GPU node's kubelet is late: its pods keep the old token while the others get the new one.
    cluster.runner?.holdVolumeUpdates('gpu-0', true);
    try {
      await admin.request({ method: 'PATCH', path: secretPath, contentType: 'application/merge-patch+json', body: { data: { token: Buffer.from('a-rotated-token-nobody-has-yet-0123456789').toString('base64') } } });
      // Mappers reload a changed token within a few seconds; then the gateway's calls to the cloud carry the new one.
      // Settled once the end node and the gateway both hold it: the clouds refuse, the gateway serves
      // the long inputs itself (while only one of the two has reloaded, the end node computes them).
      const refused = await waitFor(async () => {
        const r = await load(20, 20, 'uniform:600-1000');
        const clouds = (r.servedBy['cloud']?.count ?? 0) + (r.servedBy['cloud-b']?.count ?? 0);
        return r.failed === 0 && clouds === 0 && (r.servedBy['gateway']?.count ?? 0) >= 10 ? r : undefined;
      }, { what: 'the clouds refusing the new token, the gateway serving', timeoutMs: 60_000, intervalMs: 500 });
      summary('token half-rotated', refused);
      const gatewayPod = (await pods('gateway'))[0];
      const metrics = await (await fetch(`http://${gatewayPod?.status?.podIP ?? ''}:8080/metrics`)).text();
      // Refused by the cloud: on a request (a fallback) or on a ping (which marks the cloud down first).
      assert.match(metrics, /(crime_mapper_fallbacks_total\{from="cloud",code="UNAUTHORIZED"\}|crime_mapper_pings_total\{neighbour="cloud",outcome="UNAUTHORIZED"\}) [1-9]/);
      await admin.request({ method: 'PATCH', path: secretPath, contentType: 'application/merge-patch+json', body: { data: { token: original } } });
    } finally {
      cluster.runner?.holdVolumeUpdates('gpu-0', false);
    }
    const flows = await waitFor(async () => {
      const r = await load(20, 20, 'uniform:800-1000');
      return r.failed === 0 && (r.servedBy['cloud']?.count ?? 0) + (r.servedBy['cloud-b']?.count ?? 0) > 0 ? r : undefined;
    }, { what: 'traffic back on the clouds', timeoutMs: 60_000, intervalMs: 1000 });
    summary('token restored', flows);
  });
});
