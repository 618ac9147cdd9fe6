/**
 * Without a cluster: the CRD file carries the parser's enums, defaults, limits, patterns and
 * messages. (test/crd.test.ts checks the behaviour against a real API server; this catches drift
 * in a unit-test run.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { URI_MESSAGES, URI_PATTERNS, MODEL_URI_MAX_LENGTH } from '../models/uri.js';
import { LABEL_KEY_MAX, PLACEMENT_LIMITS, PLACEMENT_MESSAGES, PLACEMENT_PATTERNS, TAINT_EFFECTS, TOLERATION_OPERATORS } from './placement.js';
import { BACKEND_NAMES } from '../backends/types.js';
import { SELF_CALIBRATION_DEFAULTS } from '../defaults.js';
import { SELF_CALIBRATION_LIMITS } from '../mapping-settings.js';
import { DEFAULT_POLICY, POLICY_MAX_LENGTH, POLICY_PATTERN } from '../mapping-policy.js';
import { POLICY_CEL_RULES } from './policy-cel.js';
import { SERVING_FIELDS, SERVING_LIMITS } from '../serving-settings.js';
import { MODEL_FORMATS, OBJECTIVES, TIERS, TOPOLOGY_LIMITS, TOPOLOGY_MESSAGES, TOPOLOGY_PATTERNS } from './topology.js';

interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  maxItems?: number;
  maxLength?: number;
  maxProperties?: number;
  pattern?: string;
  description?: string;
  type?: string;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}

const crd = parseYaml(readFileSync(fileURLToPath(new URL('../../../crds/crime.dev_rnntopologies.yaml', import.meta.url)), 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
};
const root = crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;

function at(path: string): Schema {
  let s: Schema | undefined = root;
  for (const part of path.split('.')) {
    s = part === '[]' ? s?.items : part === '{}' ? s?.additionalProperties : s?.properties?.[part];
    if (s === undefined) throw new Error(`the CRD has no ${path}`);
  }
  return s;
}
const rules = (path: string): { rule: string; message: string }[] => at(path)['x-kubernetes-validations'] ?? [];
const device = (field: string): Schema => at(`spec.devices.[].${field}`);

test('the CRD has the parser enums and defaults', () => {
  assert.deepEqual(device('tier').enum, [...TIERS]);
  assert.deepEqual(device('backend').enum, [...BACKEND_NAMES]);
  assert.deepEqual(at('spec.model.format').enum, [...MODEL_FORMATS]);
  assert.deepEqual(at('spec.objective').enum, [...OBJECTIVES]);
  assert.deepEqual(device('placement.tolerations.[].operator').enum, [...TOLERATION_OPERATORS]);
  assert.deepEqual(device('placement.tolerations.[].effect').enum, [...TAINT_EFFECTS]);
  const defaults = {
    'spec.model.maxSteps': 2000, 'spec.objective': 'latency', 'spec.mapping': {}, 'spec.mapping.pingIdleSeconds': 5,
    'spec.mapping.forgetting': 0.98, 'spec.mapping.requestTimeoutMs': 5000, 'spec.devices.[].tier': 'edge',
    'spec.devices.[].entry': false, 'spec.devices.[].offloadTo': [], 'spec.devices.[].backend': 'auto', 'spec.devices.[].gpus': 0,
    'spec.devices.[].replicas': 1, 'spec.devices.[].profile.fixedMs': 0, 'spec.devices.[].placement.tolerations.[].operator': 'Equal',
    'spec.mapping.selfCalibration': {}, 'spec.mapping.selfCalibration.budget': SELF_CALIBRATION_DEFAULTS.budget,
    'spec.mapping.selfCalibration.idleSeconds': SELF_CALIBRATION_DEFAULTS.idleSeconds, 'spec.mapping.selfCalibration.tolerance': SELF_CALIBRATION_DEFAULTS.tolerance,
    'spec.mapping.policy': DEFAULT_POLICY,
  };
  for (const [path, value] of Object.entries(defaults)) assert.deepEqual(at(path).default, value, path);
});

test('the CRD has the parser limits and patterns', () => {
  assert.equal(at('spec.devices').maxItems, TOPOLOGY_LIMITS.devices);
  assert.equal(device('offloadTo').maxItems, TOPOLOGY_LIMITS.offloadTo);
  assert.equal(device('name').maxLength, TOPOLOGY_LIMITS.deviceName);
  assert.equal(device('name').pattern, TOPOLOGY_PATTERNS.deviceName);
  assert.equal(at('metadata.name').maxLength, TOPOLOGY_LIMITS.topologyName);
  assert.equal(at('metadata.name').pattern, TOPOLOGY_PATTERNS.topologyName);
  assert.equal(device('gpus').maximum, TOPOLOGY_LIMITS.gpus);
  assert.equal(device('replicas').maximum, TOPOLOGY_LIMITS.replicas);
  assert.equal(device('power.activeW').maximum, TOPOLOGY_LIMITS.watts);
  assert.equal(device('profile.perStepMs').maximum, TOPOLOGY_LIMITS.profileMs);
  assert.equal(at('spec.model.stepBytes').maximum, TOPOLOGY_LIMITS.payloadBytes);
  assert.equal(at('spec.model.sha256').pattern, TOPOLOGY_PATTERNS.sha256);
  assert.equal(at('spec.model.uri').maxLength, MODEL_URI_MAX_LENGTH);
  assert.equal(at('spec.mapping.policy').pattern, POLICY_PATTERN);
  assert.equal(at('spec.mapping.policy').maxLength, POLICY_MAX_LENGTH);
  for (const [field, limit] of Object.entries(SELF_CALIBRATION_LIMITS)) {
    const s = at(`spec.mapping.selfCalibration.${field}`);
    assert.equal(s.maximum, limit.max, field);
    assert.equal(s.minimum, 'min' in limit ? limit.min : limit.above, field);
    assert.equal(s.exclusiveMinimum === true, 'above' in limit, field);
  }
  for (const field of SERVING_FIELDS) {
    const s = device(`serving.${field}`);
    const limit: { min: number; max: number; integer?: boolean } = SERVING_LIMITS[field];
    assert.deepEqual([s.minimum, s.maximum, s.type], [limit.min, limit.max, limit.integer ? 'integer' : 'number'], field);
    // The defaults depend on the device (servingDefaults): the API server must not store one of its own.
    assert.equal(s.default, undefined, field);
  }
  assert.deepEqual(Object.keys(device('serving').properties ?? {}), [...SERVING_FIELDS]);
  assert.equal(device('placement.nodeSelector').maxProperties, PLACEMENT_LIMITS.nodeSelectorEntries);
  assert.equal(device('placement.nodeSelector.{}').pattern, PLACEMENT_PATTERNS.labelValue);
  assert.equal(device('placement.tolerations').maxItems, PLACEMENT_LIMITS.tolerations);
  assert.equal(device('placement.tolerations.[].key').pattern, `^(${PLACEMENT_PATTERNS.labelKey.slice(1, -1)})?$`);
  assert.equal(device('placement.tolerations.[].key').maxLength, LABEL_KEY_MAX);
  assert.equal(device('placement.tolerations.[].value').pattern, PLACEMENT_PATTERNS.labelValue);
  for (const kind of ['requests', 'limits']) {
    for (const name of ['cpu', 'memory']) assert.equal(device(`resources.${kind}.${name}`).pattern, PLACEMENT_PATTERNS.quantity, `${kind}.${name}`);
  }
});

test('the CRD CEL rules use the parser patterns and messages', () => {
  const uri = rules('spec.model.uri');
  const uriText = uri.map((r) => r.rule).join('\n');
  for (const [name, pattern] of Object.entries(URI_PATTERNS)) assert.ok(uriText.includes(`r'${pattern}'`), `uri rule for ${name}: r'${pattern}'`);
  assert.deepEqual(uri.map((r) => r.message).sort(), Object.values(URI_MESSAGES).slice().sort());
  const selector = rules('spec.devices.[].placement.nodeSelector');
  assert.ok(selector[0]?.rule.includes(`r'${PLACEMENT_PATTERNS.labelKey}'`));
  assert.equal(selector[0]?.message, PLACEMENT_MESSAGES.labelKeys);
  assert.equal(rules('spec.devices.[].placement')[0]?.message, PLACEMENT_MESSAGES.nodeName);
  assert.deepEqual(rules('spec.devices.[].placement.tolerations.[]').map((r) => r.message), [PLACEMENT_MESSAGES.keyOperator, PLACEMENT_MESSAGES.existsValue, PLACEMENT_MESSAGES.secondsEffect]);
  assert.deepEqual(rules('spec.devices.[].resources').map((r) => r.message), [PLACEMENT_MESSAGES.requestOverLimit('cpu'), PLACEMENT_MESSAGES.requestOverLimit('memory')]);
  // Topology and device names together fit a child's name (<topology>--<device>, a DNS label).
  const names = root['x-kubernetes-validations'] ?? [];
  assert.deepEqual(names.map((r) => r.message), [TOPOLOGY_MESSAGES.childName]);
  assert.match(names[0]?.rule ?? '', new RegExp(`<= ${TOPOLOGY_LIMITS.childName - 2}\\)$`));
  // The policy rules are generated (CEL cannot recurse: reachability is unrolled); the CRD carries them verbatim.
  const policy = rules('spec').filter((r) => r.message.startsWith('policy '));
  assert.deepEqual(policy, POLICY_CEL_RULES.map((r) => ({ ...r })));
});
