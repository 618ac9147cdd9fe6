import { parse as parseYaml } from 'yaml';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import type { Objective, PowerModel } from '../engine/types.js';
import { MODEL_URI_MAX_LENGTH, modelUriProblem, parseModelUri, type ModelUri } from '../models/uri.js';
import { checkOffloadGraph, reachableFromEntry } from '../offload-graph.js';
import { InvalidInputError, at, bool, known, list, num, obj, oneOf, optNum, optObj, str, strValue } from '../validate.js';
import { MODEL_DEFAULTS } from '../defaults.js';
import { parseMappingSettings, type MappingSettings } from '../mapping-settings.js';
import { DEVICE_NAME_PATTERN, parsePolicy, policyDevice } from '../mapping-policy.js';
import { parseServingSettings, servingDefaults, type ServingSettings } from '../serving-settings.js';
import { parsePlacement, parseResources, type DeviceResources, type Placement } from './placement.js';

export type { ModelUri } from '../models/uri.js';
export type { Affinity, DeviceResources, Placement, ResourceQuantities, TaintEffect, Toleration, TolerationOperator } from './placement.js';

/**
 * The RnnTopology resource (crime.dev/v1alpha1), as `kubectl apply` takes it and `crime up` runs
 * it locally. Parsing checks what the CRD's schema and CEL rules check, plus the acyclic offload
 * graph, so a file that runs locally is also accepted by the cluster. The CRD
 * (crds/crime.dev_rnntopologies.yaml) uses the same defaults, limits, patterns and messages, and
 * test/crd.test.ts applies the same documents to a real API server and to this parser.
 */
export const TIERS = ['edge', 'gateway', 'cloud'] as const;

export const OBJECTIVES = ['latency', 'energy'] as const;
export const MODEL_FORMATS = ['onnx', 'tfjs'] as const;

/** Sizes the CRD bounds too (they also keep its CEL rules' cost estimates within budget). */
export const TOPOLOGY_LIMITS = {
  devices: 32,
  offloadTo: 16,
  deviceName: 40,
  /** a device's children are named <topology>--<device>, a Service name (a DNS label of at most 63) */
  topologyName: 60,
  childName: 63,
  replicas: 32,
  gpus: 16,
  watts: 10_000,
  profileMs: 600_000,
  payloadBytes: 1e9,
} as const;

/** Patterns shared with the CRD. */
export const TOPOLOGY_PATTERNS = {
  deviceName: `^${DEVICE_NAME_PATTERN}$`,
  /** a DNS-1035 label without "--": "--" separates topology and device in child names, so they cannot collide */
  topologyName: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
  sha256: '^[0-9a-f]{64}$',
} as const;

/** Messages shared with the CRD (its metadata.name schema and the CEL rule at its root). */
export const TOPOLOGY_MESSAGES = {
  topologyName: `must be a DNS label without "--" (a lowercase letter first, then lowercase letters, digits and single "-", not "-" last) of at most ${TOPOLOGY_LIMITS.topologyName} characters`,
  childName: `the topology name and each device name must together be at most ${TOPOLOGY_LIMITS.childName - 2} characters: a device's Deployment and Service are named <topology>--<device>, a DNS label of at most ${TOPOLOGY_LIMITS.childName}`,
} as const;

export interface TopologyDevice {
  name: string;
  tier: (typeof TIERS)[number];
  entry: boolean;
  offloadTo: string[];
  backend: BackendName;
  gpus: number;
  /** Pods of this device (each runs a runtime and a mapper); 1 unless set. */
  replicas: number;
  /** Empty nodeSelector and tolerations unless set. */
  placement: Placement;
  /** Empty requests and limits unless set. */
  resources: DeviceResources;
  power?: PowerModel;
  profile?: { perStepMs: number; fixedMs: number };
  /** batching and concurrency of the device's runtime; unset fields take the device's defaults (servingDefaults) */
  serving: ServingSettings;
}

export interface TopologyModel {
  format: (typeof MODEL_FORMATS)[number];
  /** As written; `source` says what it names. */
  uri: string;
  source: ModelUri;
  /** Lowercase hex SHA-256 of the file the URI names, checked by `crime model fetch`. */
  sha256?: string;
  stepBytes?: number;
  outputBytes?: number;
  maxSteps: number;
}

export interface Topology {
  name: string;
  model: TopologyModel;
  objective: Objective;
  mapping: MappingSettings;
  devices: TopologyDevice[];
}

export function parseTopology(text: string): Topology {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError('', `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return topologyFromObject(doc);
}

/** Validates an RnnTopology already parsed (from YAML, or as the API server returns it). */
export function topologyFromObject(doc: unknown): Topology {
  const root = obj(doc, '(topology)');
  if (root.apiVersion !== 'crime.dev/v1alpha1' || root.kind !== 'RnnTopology') {
    throw new InvalidInputError('kind', `expected apiVersion crime.dev/v1alpha1 and kind RnnTopology, got ${String(root.apiVersion)} ${String(root.kind)}`);
  }
  const metadata = obj(root.metadata, 'metadata');
  const name = str(metadata, 'name', 'metadata');
  if (name.length > TOPOLOGY_LIMITS.topologyName || !new RegExp(TOPOLOGY_PATTERNS.topologyName).test(name)) {
    throw new InvalidInputError('metadata.name', `${TOPOLOGY_MESSAGES.topologyName}, got "${name}"`);
  }
  const spec = obj(root.spec, 'spec');
  known(spec, 'spec', ['model', 'objective', 'mapping', 'devices']);
  const model = obj(spec.model, 'spec.model');
  known(model, 'spec.model', ['format', 'uri', 'sha256', 'stepBytes', 'outputBytes', 'maxSteps']);
  const format = oneOf(model, 'format', 'spec.model', MODEL_FORMATS);
  const uri = modelUri(model);
  const topology: Topology = {
    name,
    model: {
      format,
      uri,
      source: parseModelUri(uri),
      maxSteps: optNum(model, 'maxSteps', 'spec.model', MODEL_DEFAULTS.maxSteps, { integer: true, min: 1, max: 1_000_000 }),
    },
    objective: oneOf(spec, 'objective', 'spec', OBJECTIVES, 'latency'),
    mapping: parseMappingSettings(optObj(spec, 'mapping', 'spec') ?? {}, 'spec.mapping'),
    devices: boundedList(spec.devices, 'spec.devices', TOPOLOGY_LIMITS.devices).map((d, i) => device(d, at('spec.devices', i))),
  };
  if (model.sha256 !== undefined && model.sha256 !== null) {
    const sha256 = str(model, 'sha256', 'spec.model');
    if (!new RegExp(TOPOLOGY_PATTERNS.sha256).test(sha256)) {
      throw new InvalidInputError('spec.model.sha256', `must be 64 lowercase hexadecimal digits (a SHA-256 digest), got "${sha256}"`);
    }
    topology.model.sha256 = sha256;
  }
  const payload = { above: 0, max: TOPOLOGY_LIMITS.payloadBytes };
  if (model.stepBytes !== undefined) topology.model.stepBytes = num(model, 'stepBytes', 'spec.model', payload);
  if (model.outputBytes !== undefined) topology.model.outputBytes = num(model, 'outputBytes', 'spec.model', { min: 0, max: payload.max });
  topology.devices.forEach((d, i) => {
    if (name.length + 2 + d.name.length > TOPOLOGY_LIMITS.childName) {
      throw new InvalidInputError(at(at('spec.devices', i), 'name'), `${TOPOLOGY_MESSAGES.childName} ("${name}--${d.name}" has ${name.length + 2 + d.name.length})`);
    }
  });
  checkGraph(topology);
  return topology;
}


function modelUri(model: Record<string, unknown>): string {
  const uri = model.uri;
  if (typeof uri !== 'string' || uri === '') throw new InvalidInputError('spec.model.uri', 'must be a non-empty string');
  if (uri.length > MODEL_URI_MAX_LENGTH) throw new InvalidInputError('spec.model.uri', `must be at most ${MODEL_URI_MAX_LENGTH} characters`);
  const problem = modelUriProblem(uri);
  if (problem !== undefined) throw new InvalidInputError('spec.model.uri', `${problem}, got "${uri}"`);
  return uri;
}

function boundedList(v: unknown, path: string, max: number): unknown[] {
  const items = list(v, path);
  if (items.length > max) throw new InvalidInputError(path, `must have at most ${max} items, got ${items.length}`);
  return items;
}

function device(v: unknown, path: string): TopologyDevice {
  const d = obj(v, path);
  known(d, path, ['name', 'tier', 'entry', 'offloadTo', 'placement', 'backend', 'gpus', 'replicas', 'power', 'profile', 'resources', 'serving']);
  const name = str(d, 'name', path);
  if (!new RegExp(TOPOLOGY_PATTERNS.deviceName).test(name) || name.length > TOPOLOGY_LIMITS.deviceName) {
    throw new InvalidInputError(at(path, 'name'), `must be a DNS label of at most ${TOPOLOGY_LIMITS.deviceName} characters, got "${name}"`);
  }
  const tier = oneOf(d, 'tier', path, TIERS, 'edge');
  const gpus = optNum(d, 'gpus', path, 0, { integer: true, min: 0, max: TOPOLOGY_LIMITS.gpus });
  const out: TopologyDevice = {
    name,
    tier,
    entry: bool(d, 'entry', path, false),
    offloadTo: offloadTargets(d.offloadTo, at(path, 'offloadTo')),
    backend: oneOf(d, 'backend', path, BACKEND_NAMES, 'auto'),
    gpus,
    replicas: optNum(d, 'replicas', path, 1, { integer: true, min: 1, max: TOPOLOGY_LIMITS.replicas }),
    placement: d.placement === undefined || d.placement === null ? { nodeSelector: {}, tolerations: [] } : parsePlacement(d.placement, at(path, 'placement')),
    resources: d.resources === undefined || d.resources === null ? { requests: {}, limits: {} } : parseResources(d.resources, at(path, 'resources')),
    // The defaults depend on the device (a GPU batches, an edge node does not), so the CRD has none.
    serving: parseServingSettings(optObj(d, 'serving', path) ?? {}, at(path, 'serving'), servingDefaults({ tier, gpus })),
  };
  const power = optObj(d, 'power', path);
  if (power) {
    const p = at(path, 'power');
    known(power, p, ['activeW', 'idleW', 'txW', 'rxW']);
    const watts = { min: 0, max: TOPOLOGY_LIMITS.watts };
    out.power = { activeW: num(power, 'activeW', p, watts), idleW: num(power, 'idleW', p, watts), txW: num(power, 'txW', p, watts), rxW: num(power, 'rxW', p, watts) };
  }
  const profile = optObj(d, 'profile', path);
  if (profile) {
    const p = at(path, 'profile');
    known(profile, p, ['perStepMs', 'fixedMs']);
    const ms = { min: 0, max: TOPOLOGY_LIMITS.profileMs };
    out.profile = { perStepMs: num(profile, 'perStepMs', p, ms), fixedMs: optNum(profile, 'fixedMs', p, 0, ms) };
  }
  return out;
}

function offloadTargets(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  const targets = boundedList(v, path, TOPOLOGY_LIMITS.offloadTo).map((t, i) => strValue(t, at(path, i)));
  targets.forEach((t, i) => {
    if (targets.indexOf(t) !== i) throw new InvalidInputError(at(path, i), `duplicate device "${t}"`);
  });
  return targets;
}

/** The messages of the policy rules, shared with the CRD's CEL rules on spec. */
export const POLICY_MESSAGES = {
  unknownDevice: 'policy device:<name> names no device of spec.devices',
  unreachable: 'policy device:<name> names a device the entry cannot reach along offloadTo',
} as const;

function checkGraph(t: Topology): void {
  checkOffloadGraph(t.devices, 'spec.devices');
  if (t.objective === 'energy' && !entryOf(t).power) throw new InvalidInputError('spec.devices', 'objective energy needs power on the entry device');
  const target = policyDevice(t.mapping.policy);
  if (target !== undefined) {
    if (!t.devices.some((d) => d.name === target)) throw new InvalidInputError('spec.mapping.policy', `${POLICY_MESSAGES.unknownDevice} ("${target}")`);
    if (!reachableFromEntry(t.devices).includes(target)) throw new InvalidInputError('spec.mapping.policy', `${POLICY_MESSAGES.unreachable} ("${target}" from ${entryOf(t).name})`);
  }
}

/**
 * The topology under another mapping policy, refused as parseTopology refuses it (an unknown
 * policy, or a device the entry cannot reach), naming spec.mapping.policy.
 */
export function withPolicy(t: Topology, policy: unknown): Topology {
  const next = { ...t, mapping: { ...t.mapping, policy: parsePolicy(policy, 'spec.mapping.policy') } };
  checkGraph(next);
  return next;
}

export function entryOf(t: Topology): TopologyDevice {
  return t.devices.find((d) => d.entry) as TopologyDevice;
}
