/**
 * The topology-wide mapping policy (spec.mapping.policy of an RnnTopology, mapping.policy of a
 * mapper configuration): `crime`, the default, decides per input; the others are the fixed
 * policies CRIME replaces, so a topology can be measured against them (crime bench mapping) or
 * A/B-tested on a cluster by a configuration reload:
 *
 * - `local`: every device serves what reaches it itself (so the entry serves everything);
 * - `device:<name>`: every request is served on that device, forwarded along the offload graph;
 * - `threshold`: fixed input-length thresholds, taken from the engine's models once they know every
 *   neighbour (the initial calibration and pings), never updated.
 *
 * One string, so the CRD checks it with a pattern and `crime bench mapping --policies` takes the
 * same names.
 */
import { InvalidInputError } from './validate.js';

export type MappingPolicy = 'crime' | 'local' | 'threshold' | `device:${string}`;

export const FIXED_POLICIES = ['crime', 'local', 'threshold'] as const;
export const DEFAULT_POLICY: MappingPolicy = 'crime';
const DEVICE_PREFIX = 'device:';

/** A device name: a DNS label (the topology and the CRD use the same pattern). */
export const DEVICE_NAME_PATTERN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const POLICY_PATTERN = `^(crime|local|threshold|device:${DEVICE_NAME_PATTERN})$`;
/** "device:" and a device name of at most 40 characters. */
export const POLICY_MAX_LENGTH = DEVICE_PREFIX.length + 40;

export function isPolicy(v: unknown): v is MappingPolicy {
  return typeof v === 'string' && v.length <= POLICY_MAX_LENGTH && new RegExp(POLICY_PATTERN).test(v);
}

export function parsePolicy(v: unknown, field: string): MappingPolicy {
  if (!isPolicy(v)) {
    throw new InvalidInputError(field, `must be crime, local, threshold or device:<device name>, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The device a `device:<name>` policy sends everything to; undefined for the other policies. */
export function policyDevice(p: MappingPolicy): string | undefined {
  return p.startsWith(DEVICE_PREFIX) ? p.slice(DEVICE_PREFIX.length) : undefined;
}

export function devicePolicy(name: string): MappingPolicy {
  return `${DEVICE_PREFIX}${name}`;
}
