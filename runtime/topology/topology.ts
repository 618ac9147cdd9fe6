import { parse as parseYaml } from 'yaml';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import type { Objective, PowerModel } from '../engine/types.js';
import { checkOffloadGraph } from '../offload-graph.js';
import { InvalidInputError, at, bool, known, list, num, obj, oneOf, optNum, optObj, optPower, str, strValue } from '../validate.js';
import { MAPPING_DEFAULTS, MODEL_DEFAULTS } from '../defaults.js';

/**
 * The RnnTopology resource (crime.dev/v1alpha1), as `kubectl apply` takes it and `crime up` runs
 * it locally. Parsing checks what the CRD's schema and CEL rules check, plus the acyclic offload
 * graph, so a file that runs locally is also accepted by the cluster.
 */
export const TIERS = ['edge', 'gateway', 'cloud'] as const;

export interface TopologyDevice {
  name: string;
  tier: (typeof TIERS)[number];
  entry: boolean;
  offloadTo: string[];
  backend: BackendName;
  gpus: number;
  power?: PowerModel;
  profile?: { perStepMs: number; fixedMs: number };
}

export interface Topology {
  name: string;
  model: { format: 'onnx' | 'tfjs'; uri: string; stepBytes?: number; outputBytes?: number; maxSteps: number };
  objective: Objective;
  mapping: { pingIdleSeconds: number; forgetting: number; requestTimeoutMs: number };
  devices: TopologyDevice[];
}

export function parseTopology(text: string): Topology {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError('', `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc, '(topology)');
  if (root.apiVersion !== 'crime.dev/v1alpha1' || root.kind !== 'RnnTopology') {
    throw new InvalidInputError('kind', `expected apiVersion crime.dev/v1alpha1 and kind RnnTopology, got ${String(root.apiVersion)} ${String(root.kind)}`);
  }
  const metadata = obj(root.metadata, 'metadata');
  const spec = obj(root.spec, 'spec');
  known(spec, 'spec', ['model', 'objective', 'mapping', 'devices']);
  const model = obj(spec.model, 'spec.model');
  known(model, 'spec.model', ['format', 'uri', 'stepBytes', 'outputBytes', 'maxSteps']);
  const mapping = optObj(spec, 'mapping', 'spec') ?? {};
  known(mapping, 'spec.mapping', ['pingIdleSeconds', 'forgetting', 'requestTimeoutMs']);
  const topology: Topology = {
    name: str(metadata, 'name', 'metadata'),
    model: {
      format: oneOf(model, 'format', 'spec.model', ['onnx', 'tfjs'] as const),
      uri: str(model, 'uri', 'spec.model'),
      maxSteps: optNum(model, 'maxSteps', 'spec.model', MODEL_DEFAULTS.maxSteps, { integer: true, min: 1, max: 1_000_000 }),
    },
    objective: oneOf(spec, 'objective', 'spec', ['latency', 'energy'] as const, 'latency'),
    mapping: {
      pingIdleSeconds: optNum(mapping, 'pingIdleSeconds', 'spec.mapping', MAPPING_DEFAULTS.pingIdleSeconds, { above: 0, max: 3600 }),
      forgetting: optNum(mapping, 'forgetting', 'spec.mapping', MAPPING_DEFAULTS.forgetting, { above: 0, max: 1 }),
      requestTimeoutMs: optNum(mapping, 'requestTimeoutMs', 'spec.mapping', MAPPING_DEFAULTS.requestTimeoutMs, { min: 10, max: 600_000 }),
    },
    devices: list(spec.devices, 'spec.devices').map((d, i) => device(d, at('spec.devices', i))),
  };
  if (model.stepBytes !== undefined) topology.model.stepBytes = num(model, 'stepBytes', 'spec.model', { above: 0 });
  if (model.outputBytes !== undefined) topology.model.outputBytes = num(model, 'outputBytes', 'spec.model', { min: 0 });
  checkGraph(topology);
  return topology;
}

function device(v: unknown, path: string): TopologyDevice {
  const d = obj(v, path);
  known(d, path, ['name', 'tier', 'entry', 'offloadTo', 'placement', 'backend', 'gpus', 'power', 'profile', 'resources']);
  const name = str(d, 'name', path);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 40) {
    throw new InvalidInputError(at(path, 'name'), `must be a DNS label of at most 40 characters, got "${name}"`);
  }
  const out: TopologyDevice = {
    name,
    tier: oneOf(d, 'tier', path, TIERS, 'edge'),
    entry: bool(d, 'entry', path, false),
    offloadTo: d.offloadTo === undefined ? [] : list(d.offloadTo, at(path, 'offloadTo')).map((t, i) => strValue(t, at(at(path, 'offloadTo'), i))),
    backend: oneOf(d, 'backend', path, BACKEND_NAMES, 'auto'),
    gpus: optNum(d, 'gpus', path, 0, { integer: true, min: 0, max: 16 }),
  };
  const power = optPower(d, 'power', path);
  if (power) out.power = power;
  const profile = optObj(d, 'profile', path);
  if (profile) {
    const p = at(path, 'profile');
    known(profile, p, ['perStepMs', 'fixedMs']);
    out.profile = { perStepMs: num(profile, 'perStepMs', p, { min: 0 }), fixedMs: optNum(profile, 'fixedMs', p, 0, { min: 0 }) };
  }
  return out;
}

function checkGraph(t: Topology): void {
  checkOffloadGraph(t.devices, 'spec.devices');
  if (t.objective === 'energy' && !entryOf(t).power) throw new InvalidInputError('spec.devices', 'objective energy needs power on the entry device');
}

export function entryOf(t: Topology): TopologyDevice {
  return t.devices.find((d) => d.entry) as TopologyDevice;
}
