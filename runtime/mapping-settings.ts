/**
 * The `mapping` settings as a topology (spec.mapping), a mapper configuration (mapping) and a
 * simulator scenario (mapping) write them: one parser, so the three accept the same fields with
 * the same bounds and defaults, and the CRD's schema mirrors this one place.
 */
import { CALIBRATION_STEPS, MAPPING_DEFAULTS, SELF_CALIBRATION_DEFAULTS } from './defaults.js';
import type { SelfCalibrationPolicy } from './engine/self-calibration.js';
import { DEFAULT_POLICY, parsePolicy, type MappingPolicy } from './mapping-policy.js';
import { known, optNum, optObj, type Obj } from './validate.js';

export interface SelfCalibrationSettings {
  /** most share of the device's time spent timing its own runtime (0 turns it off) */
  budget: number;
  /** time one run when the compute model learned nothing for this long */
  idleSeconds: number;
  /** a length is worth a run when the model's relative standard error there exceeds this */
  tolerance: number;
}

export interface MappingSettings {
  pingIdleSeconds: number;
  forgetting: number;
  requestTimeoutMs: number;
  selfCalibration: SelfCalibrationSettings;
  /** crime (per input), or a fixed policy to measure CRIME against (runtime/mapping-policy.ts) */
  policy: MappingPolicy;
}

export const MAPPING_FIELDS = ['pingIdleSeconds', 'forgetting', 'requestTimeoutMs', 'selfCalibration', 'policy'] as const;

export const SELF_CALIBRATION_LIMITS = { budget: { min: 0, max: 0.5 }, idleSeconds: { above: 0, max: 3600 }, tolerance: { above: 0, max: 10 } } as const;

/** `where` names the object in errors: "spec.mapping" for a topology, "mapping" for a mapper configuration. */
export function parseMappingSettings(m: Obj, where: string): MappingSettings {
  known(m, where, MAPPING_FIELDS);
  return {
    pingIdleSeconds: optNum(m, 'pingIdleSeconds', where, MAPPING_DEFAULTS.pingIdleSeconds, { above: 0, max: 3600 }),
    forgetting: optNum(m, 'forgetting', where, MAPPING_DEFAULTS.forgetting, { above: 0, max: 1 }),
    requestTimeoutMs: optNum(m, 'requestTimeoutMs', where, MAPPING_DEFAULTS.requestTimeoutMs, { min: 10, max: 600_000 }),
    selfCalibration: parseSelfCalibration(optObj(m, 'selfCalibration', where) ?? {}, `${where}.selfCalibration`),
    policy: m.policy === undefined || m.policy === null ? DEFAULT_POLICY : parsePolicy(m.policy, `${where}.policy`),
  };
}

export function parseSelfCalibration(c: Obj, where: string): SelfCalibrationSettings {
  known(c, where, ['budget', 'idleSeconds', 'tolerance']);
  return {
    budget: optNum(c, 'budget', where, SELF_CALIBRATION_DEFAULTS.budget, SELF_CALIBRATION_LIMITS.budget),
    idleSeconds: optNum(c, 'idleSeconds', where, SELF_CALIBRATION_DEFAULTS.idleSeconds, SELF_CALIBRATION_LIMITS.idleSeconds),
    tolerance: optNum(c, 'tolerance', where, SELF_CALIBRATION_DEFAULTS.tolerance, SELF_CALIBRATION_LIMITS.tolerance),
  };
}

/** The engine's policy for these settings, at the standard calibration lengths. */
export function selfCalibrationPolicy(s: SelfCalibrationSettings): SelfCalibrationPolicy {
  return { budget: s.budget, idleMs: s.idleSeconds * 1000, tolerance: s.tolerance, lengths: CALIBRATION_STEPS };
}
