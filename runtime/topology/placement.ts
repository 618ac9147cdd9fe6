/**
 * Where a device's pods run and what they reserve: `placement` (nodeSelector, affinity, tolerations)
 * and `resources` (cpu and memory requests and limits) of an RnnTopology device. The shapes are the
 * core Kubernetes ones, narrowed to what the operator renders, and validated as the API server
 * validates the CRD (crds/crime.dev_rnntopologies.yaml), which uses the same patterns and messages.
 */
import { InvalidInputError, at, known, list, numValue, obj, oneOf, optObj, type Obj } from '../validate.js';

export const TOLERATION_OPERATORS = ['Exists', 'Equal'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const RESOURCE_NAMES = ['cpu', 'memory'] as const;

export const PLACEMENT_LIMITS = { nodeSelectorEntries: 32, tolerations: 32 } as const;

/** Patterns shared with the CRD (RE2 and JS agree on them). */
export const PLACEMENT_PATTERNS = {
  /** A label or taint key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
  labelKey: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$',
  /** A label value (also a toleration value): empty, or up to 63 characters. */
  labelValue: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
  /** A non-negative Kubernetes quantity: 100m, 0.5, 2, 512Mi, 1Gi, 1e3. */
  quantity: '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$',
} as const;
export const LABEL_KEY_MAX = 317;
export const LABEL_VALUE_MAX = 63;
export const QUANTITY_MAX = 32;

export type TolerationOperator = (typeof TOLERATION_OPERATORS)[number];
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** core/v1 Toleration. */
export interface Toleration {
  key?: string;
  operator: TolerationOperator;
  value?: string;
  effect?: TaintEffect;
  tolerationSeconds?: number;
}

/**
 * core/v1 Affinity, passed through to the pod unchanged: only the three top-level keys are checked;
 * the API server validates the inside when the operator creates the pod.
 */
export interface Affinity {
  nodeAffinity?: Obj;
  podAffinity?: Obj;
  podAntiAffinity?: Obj;
}

export interface Placement {
  nodeSelector: Record<string, string>;
  affinity?: Affinity;
  tolerations: Toleration[];
}

/** Quantities as Kubernetes writes them ("500m", "1Gi"); integers in the YAML become strings. */
export interface ResourceQuantities {
  cpu?: string;
  memory?: string;
}

export interface DeviceResources {
  requests: ResourceQuantities;
  limits: ResourceQuantities;
}

const labelKey = new RegExp(PLACEMENT_PATTERNS.labelKey);
const labelValue = new RegExp(PLACEMENT_PATTERNS.labelValue);
const quantityRe = new RegExp(PLACEMENT_PATTERNS.quantity);

export const PLACEMENT_MESSAGES = {
  nodeName: 'nodeName is not allowed: it bypasses the scheduler, and with it the GPU and taint checks; use nodeSelector or affinity',
  labelKeys: 'keys must be label keys: an optional DNS-1123 prefix and "/", then up to 63 letters, digits, "-", "_" or "."',
  tolerationKey: 'must be empty or a label key: an optional DNS-1123 prefix and "/", then up to 63 letters, digits, "-", "_" or "."',
  keyOperator: 'operator must be Exists when key is empty (which matches every taint)',
  existsValue: 'value must be empty when operator is Exists',
  secondsEffect: 'tolerationSeconds needs effect NoExecute',
  requestOverLimit: (r: string) => `requests.${r} must not exceed limits.${r}`,
} as const;

export function parsePlacement(v: unknown, path: string): Placement {
  const p = obj(v, path);
  if (p.nodeName !== undefined) throw new InvalidInputError(at(path, 'nodeName'), PLACEMENT_MESSAGES.nodeName);
  known(p, path, ['nodeSelector', 'affinity', 'tolerations']);
  const out: Placement = { nodeSelector: {}, tolerations: [] };
  const selector = optObj(p, 'nodeSelector', path);
  if (selector) {
    const field = at(path, 'nodeSelector');
    const entries = Object.entries(selector);
    if (entries.length > PLACEMENT_LIMITS.nodeSelectorEntries) {
      throw new InvalidInputError(field, `must have at most ${PLACEMENT_LIMITS.nodeSelectorEntries} entries`);
    }
    for (const [key, value] of entries) {
      // The API server reports a bad value at the entry and a bad key at the map (its CEL rule).
      if (typeof value !== 'string') throw new InvalidInputError(at(field, key), `must be a string, got ${JSON.stringify(value)}`);
      checkLabelValue(value, at(field, key));
    }
    for (const key of Object.keys(selector)) {
      if (key.length > LABEL_KEY_MAX || !labelKey.test(key)) throw new InvalidInputError(field, `${PLACEMENT_MESSAGES.labelKeys}, got "${key}"`);
    }
    out.nodeSelector = selector as Record<string, string>;
  }
  const affinity = optObj(p, 'affinity', path);
  if (affinity) {
    const field = at(path, 'affinity');
    known(affinity, field, ['nodeAffinity', 'podAffinity', 'podAntiAffinity']);
    const a: Affinity = {};
    for (const key of ['nodeAffinity', 'podAffinity', 'podAntiAffinity'] as const) {
      const part = optObj(affinity, key, field);
      if (part) a[key] = part;
    }
    out.affinity = a;
  }
  if (p.tolerations !== undefined && p.tolerations !== null) {
    const field = at(path, 'tolerations');
    const items = list(p.tolerations, field);
    if (items.length > PLACEMENT_LIMITS.tolerations) throw new InvalidInputError(field, `must have at most ${PLACEMENT_LIMITS.tolerations} items`);
    out.tolerations = items.map((t, i) => toleration(t, at(field, i)));
  }
  return out;
}

function checkLabelValue(value: string, field: string): void {
  if (value.length > LABEL_VALUE_MAX) throw new InvalidInputError(field, `must be at most ${LABEL_VALUE_MAX} characters`);
  if (!labelValue.test(value)) {
    throw new InvalidInputError(field, `must be a label value: empty, or letters and digits with "-", "_" or "." inside, got "${value}"`);
  }
}

function optString(t: Obj, key: string, path: string): string | undefined {
  const v = t[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidInputError(at(path, key), `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function toleration(v: unknown, path: string): Toleration {
  const t = obj(v, path);
  known(t, path, ['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
  const key = optString(t, 'key', path);
  if (key !== undefined && key !== '' && (key.length > LABEL_KEY_MAX || !labelKey.test(key))) {
    throw new InvalidInputError(at(path, 'key'), `${PLACEMENT_MESSAGES.tolerationKey}, got "${key}"`);
  }
  const operator = oneOf(t, 'operator', path, TOLERATION_OPERATORS, 'Equal');
  const value = optString(t, 'value', path);
  if (value !== undefined) checkLabelValue(value, at(path, 'value'));
  const out: Toleration = { operator };
  if (key !== undefined) out.key = key;
  if (value !== undefined) out.value = value;
  if (t.effect !== undefined && t.effect !== null) out.effect = oneOf(t, 'effect', path, TAINT_EFFECTS);
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) {
    out.tolerationSeconds = numValue(t.tolerationSeconds, at(path, 'tolerationSeconds'), { integer: true, min: 0 });
  }
  // The rules core/v1 applies to a pod's tolerations, checked here so the operator's pod is not refused.
  if ((key === undefined || key === '') && operator !== 'Exists') throw new InvalidInputError(at(path, 'operator'), PLACEMENT_MESSAGES.keyOperator);
  if (operator === 'Exists' && value !== undefined && value !== '') throw new InvalidInputError(at(path, 'value'), PLACEMENT_MESSAGES.existsValue);
  if (out.tolerationSeconds !== undefined && out.effect !== 'NoExecute') {
    throw new InvalidInputError(at(path, 'tolerationSeconds'), PLACEMENT_MESSAGES.secondsEffect);
  }
  return out;
}

export function parseResources(v: unknown, path: string): DeviceResources {
  const r = obj(v, path);
  known(r, path, ['requests', 'limits']);
  const out: DeviceResources = { requests: {}, limits: {} };
  for (const kind of ['requests', 'limits'] as const) {
    const q = optObj(r, kind, path);
    if (!q) continue;
    const field = at(path, kind);
    known(q, field, RESOURCE_NAMES);
    for (const name of RESOURCE_NAMES) {
      if (q[name] !== undefined && q[name] !== null) out[kind][name] = quantity(q[name], at(field, name));
    }
  }
  for (const name of RESOURCE_NAMES) {
    const request = out.requests[name];
    const limit = out.limits[name];
    if (request !== undefined && limit !== undefined && quantityValue(request) > quantityValue(limit)) {
      throw new InvalidInputError(at(at(path, 'requests'), name), PLACEMENT_MESSAGES.requestOverLimit(name));
    }
  }
  return out;
}

/** A quantity given as a string ("500m", "1Gi") or a non-negative integer; returned as a string. */
export function quantity(v: unknown, field: string): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new InvalidInputError(field, `must be an integer or a quantity string such as "500m", got ${v}`);
    if (v < 0) throw new InvalidInputError(field, `must not be negative, got ${v}`);
    return String(v);
  }
  if (typeof v !== 'string') throw new InvalidInputError(field, `must be an integer or a quantity string such as "500m" or "1Gi", got ${JSON.stringify(v)}`);
  if (v.length > QUANTITY_MAX || !quantityRe.test(v)) {
    throw new InvalidInputError(field, `must be a quantity such as 100m, 0.5, 2, 512Mi or 1Gi, got "${v}"`);
  }
  return v;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity that `quantity` accepted, as a float (exact enough to compare). */
export function quantityValue(q: string): number {
  const m = /^([0-9.]+)(.*)$/.exec(q);
  if (m === null) return Number.NaN;
  const [, digits = '', suffix = ''] = m;
  if (/^[eE]/.test(suffix)) return Number(digits) * 10 ** Number(suffix.slice(1));
  return Number(digits) * (SUFFIX[suffix] ?? Number.NaN);
}
