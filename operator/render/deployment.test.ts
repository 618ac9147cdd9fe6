import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { V1ConfigMap, V1Container, V1Deployment } from '@kubernetes/client-node';
import { parseMapperConfig } from '../../runtime/mapper/config.js';
import { parseTopology } from '../../runtime/topology/topology.js';
import { renderChildren } from './children.js';
import { DEFAULT_RENDER_OPTIONS, POD } from './options.js';
import { runtimeBackend } from './deployment.js';

const text = readFileSync(fileURLToPath(new URL('../../../examples/topologies/three-tier.yaml', import.meta.url)), 'utf8')
  .replace('uri: ../models/imdb1x128.onnx', 'uri: http://models.invalid/imdb1x128.onnx');
const topology = parseTopology(text);
const owner = { name: topology.name, namespace: 'ops', uid: 'u-1' };
const children = renderChildren(topology, owner, DEFAULT_RENDER_OPTIONS);
const deployments = children.filter((c): c is V1Deployment => c.kind === 'Deployment');
const configMap = children.find((c): c is V1ConfigMap => c.kind === 'ConfigMap');

const container = (d: V1Deployment, name: string): V1Container => {
  const c = d.spec?.template.spec?.containers.find((x) => x.name === name);
  assert.ok(c, name);
  return c;
};

test('the runtime listens on a Unix socket in an emptyDir shared with its mapper, and on no TCP port', () => {
  assert.equal(POD.runtimeSocket, `${POD.sockDir}/runtime.sock`);
  assert.equal(deployments.length, topology.devices.length);
  for (const d of deployments) {
    const pod = d.spec?.template.spec;
    assert.deepEqual(pod?.volumes?.find((v) => v.name === 'sock'), { name: 'sock', emptyDir: {} });
    const runtime = container(d, 'runtime');
    const args = runtime.args ?? [];
    assert.equal(args[args.indexOf('--socket') + 1], POD.runtimeSocket);
    for (const tcp of ['--port', '--host']) assert.equal(args.includes(tcp), false, `the runtime gets no ${tcp}`);
    assert.equal(runtime.ports, undefined);
    assert.deepEqual(runtime.volumeMounts?.find((m) => m.name === 'sock'), { name: 'sock', mountPath: POD.sockDir });
    // The liveness probe reaches it through the socket, from inside the container.
    assert.deepEqual(runtime.livenessProbe?.exec?.command, ['crime', 'probe', '--socket', POD.runtimeSocket, '/healthz']);
    const mapper = container(d, 'mapper');
    // Read-only: connecting needs no more, and the mapper cannot replace the socket.
    assert.deepEqual(mapper.volumeMounts?.find((m) => m.name === 'sock'), { name: 'sock', mountPath: POD.sockDir, readOnly: true });
    // Nothing else mounts it.
    for (const c of pod?.initContainers ?? []) assert.equal(c.volumeMounts?.some((m) => m.name === 'sock'), false, c.name);
  }
});

test('every mapper configuration points at the socket, sealed', () => {
  for (const d of topology.devices) {
    const file = configMap?.data?.[`${d.name}.yaml`] ?? '';
    assert.match(file, /^checksum: sha256:/);
    assert.equal(parseMapperConfig(file).runtimeUrl, `unix:${POD.runtimeSocket}`);
  }
});

test('each runtime serves as its device says (batching on the GPU device only), and its mapper is told the same', () => {
  const flags = (d: V1Deployment): Record<string, string> => {
    const args = container(d, 'runtime').args ?? [];
    return Object.fromEntries(['--max-batch', '--max-delay-ms', '--concurrency'].map((f) => [f, args[args.indexOf(f) + 1] ?? '']));
  };
  assert.deepEqual(deployments.map(flags), [
    { '--max-batch': '1', '--max-delay-ms': '0', '--concurrency': '1' },
    { '--max-batch': '1', '--max-delay-ms': '0', '--concurrency': '1' },
    { '--max-batch': '64', '--max-delay-ms': '0', '--concurrency': '2' },
  ]);
  for (const d of topology.devices) assert.deepEqual(parseMapperConfig(configMap?.data?.[`${d.name}.yaml`] ?? '').serving, d.serving, d.name);
});

test('restricted Pod Security still holds: read-only root, every mount under /var/run or /tmp', () => {
  for (const d of deployments) {
    for (const c of d.spec?.template.spec?.containers ?? []) {
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
      for (const m of c.volumeMounts ?? []) assert.match(m.mountPath, /^(\/var\/run\/|\/tmp$)/, `${c.name} ${m.mountPath}`);
    }
  }
});

test('image pull secrets reach every device pod when given, and nothing is rendered without them', () => {
  assert.ok(deployments.every((d) => d.spec?.template.spec?.imagePullSecrets === undefined));
  const options = { ...DEFAULT_RENDER_OPTIONS, images: { ...DEFAULT_RENDER_OPTIONS.images, pullSecrets: ['regcred', 'mirror'] } };
  const withSecrets = renderChildren(topology, owner, options).filter((c): c is V1Deployment => c.kind === 'Deployment');
  for (const d of withSecrets) assert.deepEqual(d.spec?.template.spec?.imagePullSecrets, [{ name: 'regcred' }, { name: 'mirror' }]);
});

test('the runtime\'s backend: the CUDA one by name on a device with GPUs, onnxruntime on the CPU without, what the topology names otherwise', () => {
  const backend = (d: V1Deployment): string => {
    const args = container(d, 'runtime').args ?? [];
    return args[args.indexOf('--backend') + 1] ?? '';
  };
  // three-tier.yaml: end node and gateway without GPUs, the cloud with one, every backend auto.
  assert.deepEqual(deployments.map(backend), ['onnx-cpu', 'onnx-cpu', 'onnx-cuda']);
  const tfjs = parseTopology(text.replace('format: onnx', 'format: tfjs').replace('imdb1x128.onnx', 'imdb1x128/model.json'));
  assert.deepEqual(tfjs.devices.map((d) => runtimeBackend(tfjs, d)), ['auto', 'auto', 'tfjs-node-gpu']);
  const named = parseTopology(text.replace('      gpus: 1', '      gpus: 1\n      backend: onnx-cpu'));
  assert.equal(runtimeBackend(named, named.devices[2]!), 'onnx-cpu', 'a GPU device told to run on the CPU does (kind\'s fake GPUs)');
  // Its reason for stopping lands where failures.ts reads it.
  for (const d of deployments) assert.equal(container(d, 'runtime').terminationMessagePolicy, 'FallbackToLogsOnError');
});
