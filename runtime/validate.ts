/**
 * Small helpers for validating user-written YAML: every failure names the field it is about, so a
 * user sees `devices[1].perStepMs: must be a number ≥ 0` instead of a stack trace.
 */
import type { PowerModel } from './engine/types.js';
import { InvalidInputError } from './errors.js';

export { InvalidInputError };

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new InvalidInputError(path, 'must be a mapping');
  return v;
}

export function optObj(parent: Obj, key: string, path: string): Obj | undefined {
  const v = parent[key];
  return v === undefined || v === null ? undefined : obj(v, at(path, key));
}

export function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidInputError(path, 'must be a list');
  return v;
}

export interface NumberRule {
  min?: number;
  /** exclusive lower bound */
  above?: number;
  max?: number;
  integer?: boolean;
}

function describe(rule: NumberRule): string {
  const parts: string[] = [];
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.min !== undefined) parts.push(`≥ ${rule.min}`);
  if (rule.max !== undefined) parts.push(`≤ ${rule.max}`);
  return `${rule.integer ? 'an integer' : 'a number'}${parts.length ? ' ' + parts.join(' and ') : ''}`;
}

export function num(parent: Obj, key: string, path: string, rule: NumberRule = {}): number {
  return numValue(parent[key], at(path, key), rule);
}

/** Validates a bare value (e.g. a list element) as a number at the given field path. */
export function numValue(v: unknown, field: string, rule: NumberRule = {}): number {
  if (v === undefined || v === null) throw new InvalidInputError(field, `is required (${describe(rule)})`);
  const bad =
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    (rule.integer === true && !Number.isInteger(v)) ||
    (rule.min !== undefined && v < rule.min) ||
    (rule.above !== undefined && v <= rule.above) ||
    (rule.max !== undefined && v > rule.max);
  if (bad) throw new InvalidInputError(field, `must be ${describe(rule)}, got ${JSON.stringify(v)}`);
  return v as number;
}

export function optNum(parent: Obj, key: string, path: string, fallback: number, rule: NumberRule = {}): number {
  return parent[key] === undefined || parent[key] === null ? fallback : num(parent, key, path, rule);
}

export function str(parent: Obj, key: string, path: string): string {
  return strValue(parent[key], at(path, key));
}

export function strValue(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new InvalidInputError(field, 'must be a non-empty string');
  return v;
}

export function oneOf<T extends string>(parent: Obj, key: string, path: string, allowed: readonly T[], fallback?: T): T {
  const v = parent[key];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new InvalidInputError(at(path, key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

export function bool(parent: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = parent[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new InvalidInputError(at(path, key), `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Rejects keys the format does not know: a typo must not be silently ignored. */
export function known(parent: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(parent)) {
    if (!keys.includes(k)) throw new InvalidInputError(at(path, k), `unknown field (expected one of ${keys.join(', ')})`);
  }
}

/** An optional power model (watts busy, idle, sending, receiving) under `key`. */
export function optPower(parent: Obj, key: string, path: string): PowerModel | undefined {
  const p = optObj(parent, key, path);
  if (!p) return undefined;
  const field = at(path, key);
  known(p, field, ['activeW', 'idleW', 'txW', 'rxW']);
  return {
    activeW: num(p, 'activeW', field, { min: 0 }),
    idleW: num(p, 'idleW', field, { min: 0 }),
    txW: num(p, 'txW', field, { min: 0 }),
    rxW: num(p, 'rxW', field, { min: 0 }),
  };
}
