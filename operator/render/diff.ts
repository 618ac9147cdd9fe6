/**
 * Whether a rendered object must be applied: it is missing, it differs from what was last applied
 * (a hash the operator stamps on every child, so fields it stops rendering get removed by the
 * apply), or someone changed a field the operator owns (the rendered object is no longer contained
 * in the observed one). A reconcile that finds nothing to change writes nothing.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';

export const APPLIED_HASH = 'crime.dev/applied-hash';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function hashOf(obj: unknown): string {
  return createHash('sha256').update(canonical(obj)).digest('hex').slice(0, 16);
}

/** The object with its hash annotation, as it is applied. */
export function stamped<T extends KubernetesObject>(obj: T): T {
  const hash = hashOf(obj);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [APPLIED_HASH]: hash } } };
}

/** Kubernetes quantities the API server may rewrite ("0.5" is stored as "500m"). */
function quantityValue(q: string): number | undefined {
  const m = /^([0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
  if (!m) return undefined;
  const scale: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  return Number(m[1]) * (m[2] ? (scale[m[2]] as number) : 1);
}

/** Every field of `want` is in `have` with the same value (arrays: same length, item by item). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, w]) => contains((have as Record<string, Json>)[k], w));
  }
  if (typeof want === 'string' && typeof have === 'string' && want !== have) {
    const a = quantityValue(want);
    return a !== undefined && a === quantityValue(have);
  }
  return have === want;
}

export function needsApply(desired: KubernetesObject, observed: KubernetesObject | undefined): boolean {
  if (!observed) return true;
  if (observed.metadata?.annotations?.[APPLIED_HASH] !== desired.metadata?.annotations?.[APPLIED_HASH]) return true;
  return !contains(observed, desired);
}
