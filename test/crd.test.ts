/**
 * One source of truth for RnnTopology: the CRD (crds/crime.dev_rnntopologies.yaml) installed in a
 * real kube-apiserver and `parseTopology` (what `crime up` runs) must accept the same documents
 * with the same defaults, and reject the same broken ones naming the same field.
 *
 * Field names are compared as the API server writes them (`spec.devices[1].offloadTo[0]`, map
 * entries as `nodeSelector.kubernetes.io/arch`). Where a CEL rule on a list can only name the list
 * (CEL cannot point at an index), the case says so with `api`, which must be an ancestor of the
 * parser's more precise field.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { parseTopology, type Topology } from '../runtime/topology/topology.js';
import { InvalidInputError } from '../runtime/validate.js';
import { repoRoot } from '../devcluster/assets.js';
import { ControlPlane } from '../devcluster/controlplane.js';
import { installCrd, publishedOpenApi, readCrdFile } from '../devcluster/crds.js';
import { createNamespace } from '../devcluster/namespaces.js';
import { statusCauses, statusMessageOf } from '../operator/kube/api-errors.js';
import { KubeRest } from '../operator/kube/rest.js';

const ROOT = repoRoot();
const CRD_FILE = join(ROOT, 'crds', 'crime.dev_rnntopologies.yaml');
const EXAMPLES = join(ROOT, 'examples', 'topologies');
const NS = 'topologies';
const RESOURCE = `/apis/crime.dev/v1alpha1/namespaces/${NS}/rnntopologies`;

type Json = Record<string, unknown>;
/** An RnnTopology document as plain data, for tests to edit. */
interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Json & { model: Json; devices: Json[]; mapping?: Json };
}

function readDoc(file: string): Doc {
  return parseYaml(readFileSync(file, 'utf8')) as Doc;
}

/** The example topologies (every RnnTopology under examples/topologies, not the .local.yaml settings). */
function exampleFiles(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.local.yaml'))
    .filter((f) => (parseYaml(readFileSync(join(EXAMPLES, f), 'utf8')) as { kind?: unknown }).kind === 'RnnTopology')
    .map((f) => join(EXAMPLES, f));
}

const BASE = readDoc(join(EXAMPLES, 'three-tier.yaml'));

function device(d: Doc, i: number): Json {
  const dev = d.spec.devices[i];
  if (dev === undefined) throw new Error(`no device ${i}`);
  return dev;
}
function placement(d: Doc, i: number): Json {
  const dev = device(d, i);
  dev['placement'] ??= {};
  return dev['placement'] as Json;
}

/** What the API server said about a create: accepted, or the fields it named and its message. */
interface ApiVerdict {
  status: number;
  fields: string[];
  message: string;
}

let created = 0;

async function apiCreate(rest: KubeRest, doc: Doc): Promise<ApiVerdict & { body: unknown }> {
  const body = structuredClone(doc);
  // A fresh name per create unless the case is about the name.
  if (body.metadata.name === BASE.metadata.name) body.metadata.name = `t${++created}`;
  const answer = await rest.raw({ method: 'POST', path: RESOURCE, body, query: { fieldValidation: 'Strict' } });
  const message = statusMessageOf(answer.body);
  let fields = statusCauses(answer.body)
    .map((c) => c.field)
    // "<nil>: some validation rules were not checked because the object was invalid"
    .filter((f) => f !== '<nil>' && f !== '');
  // Strict field validation answers 400 with the field in the message only.
  const unknown = /strict decoding error: unknown field "([^"]+)"/.exec(message)?.[1];
  if (unknown !== undefined) fields = [unknown];
  return { status: answer.status, fields: [...new Set(fields)], message, body: answer.body };
}

function parserVerdict(doc: Doc): { topology?: Topology; error?: InvalidInputError } {
  try {
    return { topology: parseTopology(stringify(doc)) };
  } catch (err) {
    if (err instanceof InvalidInputError) return { error: err };
    throw err;
  }
}

interface Broken {
  name: string;
  edit: (d: Doc) => void;
  /** The field parseTopology names (InvalidInputError.field). */
  field: string;
  /** The field the API server names, when it can only name an ancestor (a CEL rule on a list). */
  api?: string;
  /** A message both give (the CEL rules and the parser share their messages). */
  both?: RegExp;
}

const LONG_NAME = 'a'.repeat(41);
const BROKEN: Broken[] = [
  // The offload graph (CEL rules, listType map/set).
  { name: 'duplicate device names', edit: (d) => d.spec.devices.push({ name: 'gateway', tier: 'gateway' }), field: 'spec.devices[3].name', api: 'spec.devices[3]' },
  { name: 'no entry device', edit: (d) => (device(d, 0)['entry'] = false), field: 'spec.devices', both: /exactly one device must have entry: true/ },
  { name: 'two entry devices', edit: (d) => (device(d, 1)['entry'] = true), field: 'spec.devices', both: /exactly one device must have entry: true/ },
  { name: 'offloadTo an unknown device', edit: (d) => (device(d, 1)['offloadTo'] = ['clod']), field: 'spec.devices[1].offloadTo[0]', api: 'spec.devices', both: /unknown device/ },
  { name: 'a device offloading to itself', edit: (d) => (device(d, 1)['offloadTo'] = ['gateway']), field: 'spec.devices[1].offloadTo[0]', api: 'spec.devices[1].offloadTo', both: /cannot offload to itself/ },
  { name: 'the same offload target twice', edit: (d) => (device(d, 1)['offloadTo'] = ['cloud', 'cloud']), field: 'spec.devices[1].offloadTo[1]' },
  {
    name: 'objective energy without power on the entry',
    edit: (d) => {
      d.spec['objective'] = 'energy';
      delete device(d, 0)['power'];
    },
    field: 'spec.devices',
    both: /objective energy needs power on the entry device/,
  },
  { name: 'no devices', edit: (d) => (d.spec.devices = []), field: 'spec.devices' },
  // Names.
  { name: 'a device name that is not a DNS label', edit: (d) => (device(d, 0)['name'] = 'End_Node'), field: 'spec.devices[0].name' },
  { name: 'a device name over 40 characters', edit: (d) => (device(d, 0)['name'] = LONG_NAME), field: 'spec.devices[0].name' },
  { name: 'a topology name that is not a DNS subdomain', edit: (d) => (d.metadata.name = 'Imdb_Sentiment'), field: 'metadata.name' },
  // Child names are <topology>--<device>: a topology name holds no "--", is a DNS label, and leaves room for every device's name.
  { name: 'a topology name with "--"', edit: (d) => (d.metadata.name = 'imdb--sentiment'), field: 'metadata.name' },
  { name: 'a dotted topology name', edit: (d) => (d.metadata.name = 'team.imdb'), field: 'metadata.name' },
  { name: 'a topology name starting with a digit', edit: (d) => (d.metadata.name = '9lives'), field: 'metadata.name' },
  { name: 'a topology name of 61 characters', edit: (d) => (d.metadata.name = 'a'.repeat(61)), field: 'metadata.name' },
  {
    name: 'a topology name and a device name together over 61 characters',
    edit: (d) => {
      d.metadata.name = 't'.repeat(30);
      device(d, 1)['name'] = 'g'.repeat(32);
      device(d, 0)['offloadTo'] = ['g'.repeat(32)];
    },
    field: 'spec.devices[1].name',
    api: 'spec.devices',
    both: /the topology name and each device name must together be at most 61 characters/,
  },
  // Numbers out of range.
  { name: 'gpus 17', edit: (d) => (device(d, 2)['gpus'] = 17), field: 'spec.devices[2].gpus' },
  { name: 'gpus 1.5', edit: (d) => (device(d, 2)['gpus'] = 1.5), field: 'spec.devices[2].gpus' },
  { name: 'replicas 0', edit: (d) => (device(d, 2)['replicas'] = 0), field: 'spec.devices[2].replicas' },
  { name: 'replicas 33', edit: (d) => (device(d, 2)['replicas'] = 33), field: 'spec.devices[2].replicas' },
  { name: 'maxSteps 0', edit: (d) => (d.spec.model['maxSteps'] = 0), field: 'spec.model.maxSteps' },
  { name: 'stepBytes 0', edit: (d) => (d.spec.model['stepBytes'] = 0), field: 'spec.model.stepBytes' },
  { name: 'forgetting 0', edit: (d) => ((d.spec.mapping ??= {})['forgetting'] = 0), field: 'spec.mapping.forgetting' },
  { name: 'self-calibration budget 0.9', edit: (d) => ((d.spec.mapping ??= {})['selfCalibration'] = { budget: 0.9 }), field: 'spec.mapping.selfCalibration.budget' },
  { name: 'self-calibration idleSeconds 0', edit: (d) => ((d.spec.mapping ??= {})['selfCalibration'] = { idleSeconds: 0 }), field: 'spec.mapping.selfCalibration.idleSeconds' },
  { name: 'requestTimeoutMs 5', edit: (d) => ((d.spec.mapping ??= {})['requestTimeoutMs'] = 5), field: 'spec.mapping.requestTimeoutMs' },
  { name: 'negative watts', edit: (d) => ((device(d, 0)['power'] as Json)['activeW'] = -1), field: 'spec.devices[0].power.activeW' },
  { name: 'serving maxBatch 0', edit: (d) => (device(d, 2)['serving'] = { maxBatch: 0 }), field: 'spec.devices[2].serving.maxBatch' },
  { name: 'serving maxBatch 1025', edit: (d) => (device(d, 2)['serving'] = { maxBatch: 1025 }), field: 'spec.devices[2].serving.maxBatch' },
  { name: 'serving maxDelayMs -1', edit: (d) => (device(d, 2)['serving'] = { maxDelayMs: -1 }), field: 'spec.devices[2].serving.maxDelayMs' },
  { name: 'serving concurrency 0', edit: (d) => (device(d, 2)['serving'] = { concurrency: 0 }), field: 'spec.devices[2].serving.concurrency' },
  { name: 'an unknown serving field', edit: (d) => (device(d, 2)['serving'] = { batchSize: 8 }), field: 'spec.devices[2].serving.batchSize' },
  { name: 'a profile without perStepMs', edit: (d) => (device(d, 2)['profile'] = { fixedMs: 1 }), field: 'spec.devices[2].profile.perStepMs' },
  // Enums and types.
  { name: 'an unknown tier', edit: (d) => (device(d, 2)['tier'] = 'fog'), field: 'spec.devices[2].tier' },
  { name: 'an unknown backend', edit: (d) => (device(d, 2)['backend'] = 'cuda'), field: 'spec.devices[2].backend' },
  { name: 'an unknown model format', edit: (d) => (d.spec.model['format'] = 'pt'), field: 'spec.model.format' },
  { name: 'an unknown objective', edit: (d) => (d.spec['objective'] = 'cost'), field: 'spec.objective' },
  { name: 'entry as a string', edit: (d) => (device(d, 0)['entry'] = 'yes'), field: 'spec.devices[0].entry' },
  // Unknown fields (the API server with fieldValidation=Strict).
  { name: 'an unknown device field', edit: (d) => (device(d, 2)['gpu'] = 1), field: 'spec.devices[2].gpu' },
  { name: 'an unknown model field', edit: (d) => (d.spec.model['checksum'] = 'x'), field: 'spec.model.checksum' },
  { name: 'an unknown affinity kind', edit: (d) => (placement(d, 2)['affinity'] = { nodeAfinity: {} }), field: 'spec.devices[2].placement.affinity.nodeAfinity' },
  // Placement.
  { name: 'nodeName in placement', edit: (d) => (placement(d, 2)['nodeName'] = 'cloud-0'), field: 'spec.devices[2].placement.nodeName', both: /nodeName is not allowed: it bypasses the scheduler/ },
  { name: 'a nodeSelector key that is no label key', edit: (d) => (placement(d, 2)['nodeSelector'] = { 'gpu type': 'a100' }), field: 'spec.devices[2].placement.nodeSelector', both: /keys must be label keys/ },
  { name: 'a nodeSelector value that is no label value', edit: (d) => (placement(d, 2)['nodeSelector'] = { 'crime.dev/tier': 'cloud gpu' }), field: 'spec.devices[2].placement.nodeSelector.crime.dev/tier' },
  { name: 'a toleration without key that is not Exists', edit: (d) => (placement(d, 2)['tolerations'] = [{ effect: 'NoSchedule' }]), field: 'spec.devices[2].placement.tolerations[0].operator', both: /operator must be Exists when key is empty/ },
  { name: 'a toleration Exists with a value', edit: (d) => (placement(d, 2)['tolerations'] = [{ key: 'k', operator: 'Exists', value: 'v' }]), field: 'spec.devices[2].placement.tolerations[0].value', both: /value must be empty when operator is Exists/ },
  { name: 'tolerationSeconds without NoExecute', edit: (d) => (placement(d, 2)['tolerations'] = [{ key: 'k', tolerationSeconds: 30 }]), field: 'spec.devices[2].placement.tolerations[0].tolerationSeconds', both: /tolerationSeconds needs effect NoExecute/ },
  { name: 'an unknown toleration operator', edit: (d) => (placement(d, 2)['tolerations'] = [{ key: 'k', operator: 'In' }]), field: 'spec.devices[2].placement.tolerations[0].operator' },
  { name: 'an unknown taint effect', edit: (d) => (placement(d, 2)['tolerations'] = [{ key: 'k', effect: 'NoRun' }]), field: 'spec.devices[2].placement.tolerations[0].effect' },
  { name: 'a toleration key that is no label key', edit: (d) => (placement(d, 2)['tolerations'] = [{ key: 'gpu type', operator: 'Exists' }]), field: 'spec.devices[2].placement.tolerations[0].key' },
  { name: '33 tolerations', edit: (d) => (placement(d, 2)['tolerations'] = Array.from({ length: 33 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' }))), field: 'spec.devices[2].placement.tolerations' },
  // Resources.
  { name: 'a quantity that is no quantity', edit: (d) => (device(d, 2)['resources'] = { requests: { cpu: '2 cores' } }), field: 'spec.devices[2].resources.requests.cpu' },
  { name: 'a fractional number as a quantity', edit: (d) => (device(d, 2)['resources'] = { limits: { cpu: 0.5 } }), field: 'spec.devices[2].resources.limits.cpu' },
  { name: 'a negative quantity', edit: (d) => (device(d, 2)['resources'] = { requests: { memory: -1 } }), field: 'spec.devices[2].resources.requests.memory' },
  { name: 'a resource other than cpu and memory', edit: (d) => (device(d, 2)['resources'] = { limits: { 'nvidia.com/gpu': 1 } }), field: 'spec.devices[2].resources.limits.nvidia.com/gpu' },
  { name: 'requests over limits', edit: (d) => (device(d, 2)['resources'] = { requests: { memory: '2Gi' }, limits: { memory: '1500Mi' } }), field: 'spec.devices[2].resources.requests.memory', both: /requests.memory must not exceed limits.memory/ },
  // The model.
  { name: 'no model uri', edit: (d) => delete d.spec.model['uri'], field: 'spec.model.uri' },
  { name: 'an uppercase sha256', edit: (d) => (d.spec.model['sha256'] = 'A'.repeat(64)), field: 'spec.model.sha256' },
  { name: 'a short sha256', edit: (d) => (d.spec.model['sha256'] = 'abc123'), field: 'spec.model.sha256' },
  { name: 'a pvc claim that is no DNS name', edit: (d) => (d.spec.model['uri'] = 'pvc://Models_1/imdb.onnx'), field: 'spec.model.uri', both: /must be pvc:\/\/<claim>\/<path>/ },
  { name: 'a pvc uri without a path', edit: (d) => (d.spec.model['uri'] = 'pvc://models'), field: 'spec.model.uri', both: /must be pvc:\/\/<claim>\/<path>/ },
  { name: 'a pvc path with ..', edit: (d) => (d.spec.model['uri'] = 'pvc://models/a/../../etc/passwd'), field: 'spec.model.uri', both: /must not contain "\.\." segments/ },
  { name: 'an unsupported scheme', edit: (d) => (d.spec.model['uri'] = 's3://bucket/imdb.onnx'), field: 'spec.model.uri', both: /unsupported scheme/ },
  { name: 'an http uri without a host', edit: (d) => (d.spec.model['uri'] = 'https:///imdb.onnx'), field: 'spec.model.uri', both: /needs a host/ },
  { name: 'a file uri with a host', edit: (d) => (d.spec.model['uri'] = 'file://models/imdb.onnx'), field: 'spec.model.uri', both: /needs an absolute path/ },
  { name: 'a uri with a space', edit: (d) => (d.spec.model['uri'] = 'models/imdb 1.onnx'), field: 'spec.model.uri', both: /must not contain whitespace/ },
  // The mapping policy.
  { name: 'an unknown mapping policy', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'cloud'), field: 'spec.mapping.policy' },
  { name: 'a policy device with an uppercase name', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'device:Cloud'), field: 'spec.mapping.policy' },
  { name: 'a policy naming no device', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'device:clod'), field: 'spec.mapping.policy', both: /policy device:<name> names no device of spec.devices/ },
  {
    name: 'a policy naming a device the entry cannot reach',
    edit: (d) => {
      d.spec.devices.push({ name: 'spare', offloadTo: ['cloud'] });
      (d.spec.mapping ??= {})['policy'] = 'device:spare';
    },
    field: 'spec.mapping.policy',
    both: /policy device:<name> names a device the entry cannot reach along offloadTo/,
  },
  {
    name: 'a policy pinning the end of a chain of 32 devices broken before its last hop',
    edit: (d) => {
      d.spec.devices = Array.from({ length: 32 }, (_, i) => ({ name: `d${i}`, ...(i === 0 ? { entry: true } : {}), ...(i < 30 ? { offloadTo: [`d${i + 1}`] } : {}) }));
      (d.spec.mapping ??= {})['policy'] = 'device:d31';
    },
    field: 'spec.mapping.policy',
    both: /policy device:<name> names a device the entry cannot reach along offloadTo/,
  },
];

/** Valid documents beyond the examples, one per feature. */
const VALID: { name: string; edit: (d: Doc) => void }[] = [
  { name: 'an https uri with a sha256', edit: (d) => Object.assign(d.spec.model, { uri: 'https://models.example.com/imdb1x128.onnx', sha256: 'f'.repeat(64) }) },
  { name: 'a file:// uri', edit: (d) => (d.spec.model['uri'] = 'file:///models/imdb1x128.onnx') },
  { name: 'a tfjs model on a pvc', edit: (d) => Object.assign(d.spec.model, { format: 'tfjs', uri: 'pvc://models.v1/imdb/model.json' }) },
  { name: 'integer and string quantities, requests equal to limits', edit: (d) => (device(d, 0)['resources'] = { requests: { cpu: 1, memory: '1Gi' }, limits: { cpu: '1000m', memory: 1073741824 } }) },
  { name: 'a key-less Exists toleration and a NoExecute one with seconds', edit: (d) => (placement(d, 2)['tolerations'] = [{ operator: 'Exists' }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]) },
  { name: 'serving at its bounds, and partly written', edit: (d) => { device(d, 0)['serving'] = { maxBatch: 1024, maxDelayMs: 1000, concurrency: 64 }; device(d, 2)['serving'] = { maxDelayMs: 0.5 }; } },
  { name: 'energy with power on the entry, replicas 32, gpus 16', edit: (d) => { d.spec['objective'] = 'energy'; Object.assign(device(d, 2), { replicas: 32, gpus: 16 }); } },
  { name: 'a topology name and a device name of 61 characters together', edit: (d) => { d.metadata.name = 't'.repeat(21); device(d, 2)['name'] = 'c'.repeat(40); device(d, 1)['offloadTo'] = ['c'.repeat(40)]; } },
  { name: 'a topology name of 60 characters with single "-"', edit: (d) => { d.metadata.name = `a-${'b'.repeat(56)}-c`; d.spec.devices = [{ name: 'x', entry: true }]; } },
  { name: 'the local policy', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'local') },
  { name: 'the threshold policy', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'threshold') },
  { name: 'a policy pinning the cloud, two hops from the entry', edit: (d) => ((d.spec.mapping ??= {})['policy'] = 'device:cloud') },
  {
    // 32 devices in a chain: the longest path the CEL rule's unrolled reachability must cover.
    name: 'a policy pinning the end of a chain of 32 devices',
    edit: (d) => {
      d.spec.devices = Array.from({ length: 32 }, (_, i) => ({ name: `d${i}`, ...(i === 0 ? { entry: true } : {}), ...(i < 31 ? { offloadTo: [`d${i + 1}`] } : {}) }));
      (d.spec.mapping ??= {})['policy'] = 'device:d31';
    },
  },
];

/** The defaults both apply, projected to comparable data. */
function defaultsOf(t: { spec: Json } | Topology): unknown {
  const spec: Json = 'spec' in t ? t.spec : (t as unknown as Json);
  const model = spec['model'] as Json;
  const devices = spec['devices'] as Json[];
  return {
    maxSteps: model['maxSteps'],
    objective: spec['objective'],
    mapping: spec['mapping'],
    devices: devices.map((d) => ({
      tier: d['tier'], entry: d['entry'], offloadTo: d['offloadTo'], backend: d['backend'], gpus: d['gpus'], replicas: d['replicas'],
      fixedMs: (d['profile'] as Json | undefined)?.['fixedMs'],
      operators: ((d['placement'] as Json | undefined)?.['tolerations'] as Json[] | undefined)?.map((x) => x['operator']) ?? [],
    })),
  };
}

describe('RnnTopology: the CRD in a real kube-apiserver and parseTopology agree', () => {
  let cp: ControlPlane;
  let rest: KubeRest;
  let stored: Json;

  before(async () => {
    cp = await ControlPlane.start();
    const kc = cp.admin();
    rest = new KubeRest(kc);
    const t0 = Date.now();
    stored = await installCrd(kc, readCrdFile(CRD_FILE));
    await createNamespace(kc, NS);
    console.log(`control plane up in ${cp.timings.totalMs} ms; CRD established in ${Date.now() - t0} ms`);
  });
  after(async () => {
    await cp?.stop();
  });

  it('is served under its names, with the status subresource and the printer columns', () => {
    const spec = stored['spec'] as Json;
    assert.deepEqual(spec['names'], {
      kind: 'RnnTopology', listKind: 'RnnTopologyList', plural: 'rnntopologies', singular: 'rnntopology', shortNames: ['rnnt'], categories: ['crime'],
    });
    const [version] = spec['versions'] as Json[];
    assert.deepEqual(version?.['subresources'], { status: {} });
    const columns = (version?.['additionalPrinterColumns'] as Json[]).map((c) => [c['name'], c['jsonPath']]);
    assert.deepEqual(columns, [
      ['Devices', '.status.devicesReady'],
      ['Entry', '.status.entryEndpoint'],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('publishes a description for every field (what kubectl explain shows)', async () => {
    const doc = await publishedOpenApi(cp.admin(), 'apis/crime.dev/v1alpha1');
    const schemas = (doc['components'] as { schemas: Record<string, Json> }).schemas;
    const root = schemas['dev.crime.v1alpha1.RnnTopology'];
    assert.ok(root, `schemas: ${Object.keys(schemas).join(', ')}`);
    const props = (s: Json | undefined): Record<string, Json> => (s?.['properties'] ?? {}) as Record<string, Json>;
    const deviceSchema = (props(props(root)['spec'])['devices']?.['items'] ?? {}) as Json;
    assert.match(String(props(deviceSchema)['placement']?.['description']), /nodeName is not allowed/);
    // Every field of spec and status, recursively, has a description.
    const missing: string[] = [];
    const walk = (s: Json, path: string): void => {
      if (typeof s['description'] !== 'string') missing.push(path);
      for (const [k, v] of Object.entries(props(s))) walk(v, `${path}.${k}`);
      if (s['items'] !== undefined) walk(s['items'] as Json, `${path}[]`);
    };
    walk(props(root)['spec'] ?? {}, 'spec');
    walk(props(root)['status'] ?? {}, 'status');
    assert.deepEqual(missing, []);

    const kubectl = spawnSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfigPath, 'explain', 'rnntopology.spec.devices.placement'], { encoding: 'utf8' });
    assert.equal(kubectl.status, 0, kubectl.stderr);
    assert.match(kubectl.stdout.replace(/\s+/g, ' '), /Which nodes the device's pods may run on/);
    assert.match(kubectl.stdout, /tolerations\s+<\[\]Object>/);
  });

  it('accepts every example topology, as parseTopology does, with the same defaults', async () => {
    const files = exampleFiles();
    assert.ok(files.length >= 2, `examples: ${files.join(', ')}`);
    for (const file of files) {
      const doc = readDoc(file);
      const parsed = parserVerdict(doc);
      assert.equal(parsed.error, undefined, `${file}: parseTopology: ${parsed.error?.message ?? ''}`);
      const answer = await rest.raw({ method: 'POST', path: RESOURCE, body: doc, query: { fieldValidation: 'Strict' } });
      assert.equal(answer.status, 201, `${file}: ${statusMessageOf(answer.body)}`);
      assert.deepEqual(defaultsOf(answer.body as { spec: Json }), defaultsOf(parsed.topology as Topology), file);
      // Variants of one topology (three-tier.yaml, three-tier-kind.yaml) share its name.
      await rest.request({ method: 'DELETE', path: `${RESOURCE}/${doc.metadata.name}` });
    }
  });

  it('accepts the same valid variants', async () => {
    for (const v of VALID) {
      const doc = structuredClone(BASE);
      v.edit(doc);
      const parsed = parserVerdict(doc);
      assert.equal(parsed.error, undefined, `${v.name}: parseTopology: ${parsed.error?.message ?? ''}`);
      const api = await apiCreate(rest, doc);
      assert.equal(api.status, 201, `${v.name}: ${api.message}`);
      assert.deepEqual(defaultsOf(api.body as { spec: Json }), defaultsOf(parsed.topology as Topology), v.name);
    }
  });

  it(`rejects each of ${BROKEN.length} broken variants in both, naming the same field`, async () => {
    const failures: string[] = [];
    for (const c of BROKEN) {
      const doc = structuredClone(BASE);
      c.edit(doc);
      const parsed = parserVerdict(doc);
      const api = await apiCreate(rest, doc);
      const expectedApi = c.api ?? c.field;
      if (c.api !== undefined) assert.ok(c.field.startsWith(c.api), `${c.name}: ${c.api} is not an ancestor of ${c.field}`);
      const problems: string[] = [];
      if (parsed.error === undefined) problems.push('parseTopology accepted it');
      else if (parsed.error.field !== c.field) problems.push(`parseTopology named ${parsed.error.field} (${parsed.error.message})`);
      if (api.status < 400) problems.push(`the API server accepted it (${api.status})`);
      else if (api.fields.length !== 1 || api.fields[0] !== expectedApi) problems.push(`the API server named ${api.fields.join(', ') || 'no field'} (${api.message})`);
      if (c.both !== undefined) {
        if (parsed.error !== undefined && !c.both.test(parsed.error.message)) problems.push(`parser message: ${parsed.error.message}`);
        if (!c.both.test(api.message)) problems.push(`API server message: ${api.message}`);
      }
      if (problems.length > 0) failures.push(`${c.name} (expected ${c.field}${c.api ? ` / ${c.api}` : ''}): ${problems.join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });

  it('accepts a longer offload cycle that parseTopology refuses (the operator reports it)', async () => {
    const doc = structuredClone(BASE);
    device(doc, 2)['offloadTo'] = ['end-node'];
    const parsed = parserVerdict(doc);
    assert.equal(parsed.error?.field, 'spec.devices');
    assert.match(parsed.error?.message ?? '', /cycle: end-node -> gateway -> cloud -> end-node/);
    const api = await apiCreate(rest, doc);
    assert.equal(api.status, 201, api.message);
  });

  it('keeps status apart from spec: written through /status, shown by kubectl get rnnt', async () => {
    const doc = structuredClone(BASE);
    doc.metadata.name = 'with-status';
    assert.equal((await rest.raw({ method: 'POST', path: RESOURCE, body: doc })).status, 201);
    // Status sent with the main resource is ignored.
    const ignored = await rest.raw({ method: 'PATCH', path: `${RESOURCE}/with-status`, body: { status: { devicesReady: '9/9' } }, contentType: 'application/merge-patch+json' });
    assert.equal(ignored.status, 200, statusMessageOf(ignored.body));
    assert.equal((ignored.body as Json)['status'], undefined);
    const status = {
      observedGeneration: 1,
      devicesReady: '2/3',
      entryEndpoint: 'http://imdb-sentiment--end-node.topologies.svc:8080',
      conditions: [{ type: 'Ready', status: 'False', reason: 'OffloadCycle', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }],
      devices: [{ name: 'end-node', replicas: 1, readyReplicas: 1, nodes: ['edge-0'], endpoint: 'http://e:8080' }, { name: 'cloud', replicas: 1, readyReplicas: 0, lastFailure: { reason: 'ModelFetchFailed', message: 'sha256 mismatch' } }],
    };
    const written = await rest.raw({ method: 'PATCH', path: `${RESOURCE}/with-status/status`, body: { status }, query: { fieldValidation: 'Strict' }, contentType: 'application/merge-patch+json' });
    assert.equal(written.status, 200, statusMessageOf(written.body));
    assert.deepEqual((written.body as Json)['status'], status);
    const bad = await rest.raw({ method: 'PATCH', path: `${RESOURCE}/with-status/status`, body: { status: { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }, contentType: 'application/merge-patch+json' });
    assert.equal(bad.status, 422, 'a condition status other than True, False or Unknown is refused');

    const get = spawnSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfigPath, 'get', 'rnnt', 'with-status', '-n', NS], { encoding: 'utf8' });
    assert.equal(get.status, 0, get.stderr);
    const [header, row] = get.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(header, ['NAME', 'DEVICES', 'ENTRY', 'READY', 'AGE']);
    assert.deepEqual(row?.slice(0, 4), ['with-status', '2/3', status.entryEndpoint, 'False']);
  });
});
