/**
 * Which waiting requests run next as one batch: pure, so the queue's policy is tested without
 * clocks or threads.
 *
 * Requests are grouped by length so padding stays small: with a model that takes each sequence's
 * length (mixedLengths), by geometric length buckets (a request pads by less than a quarter of the
 * batch's longest); otherwise only requests of the same length share a run. A request longer than
 * the longest bucket runs alone, and no batch's input holds more than MAX_BATCH_NUMBERS numbers.
 * Groups are served oldest first. A group runs when it is full (maxBatch, or the size bound) or
 * when its oldest request has waited maxDelayMs; otherwise the plan says when to look again.
 */

/** Neighbouring length buckets differ by this factor: padding stays below 1 − 1/1.25 = 20 % of a run. */
export const LENGTH_BUCKET_RATIO = 1.25;
/** Requests longer than this run alone (their run is long already, and their batch would be large). */
export const LONGEST_BUCKET_STEPS = 1024;
/** Most numbers (steps × batch × width) in one batched run's input: 64 MiB of float32. */
export const MAX_BATCH_NUMBERS = 16 * 1024 * 1024;

export interface PlanPolicy {
  maxBatch: number;
  maxDelayMs: number;
  /** sequences of different lengths may share a run (the model takes their lengths) */
  mixedLengths: boolean;
  /** numbers per step (the feature size; 1 for tokens) */
  width: number;
}

export interface PlanItem {
  steps: number;
  enqueuedAt: number;
}

/** The next batch (indices into `waiting`, oldest first), or when to look again (no batch is due yet). */
export type Plan = { take: number[] } | { wakeAt: number };

/** The group a length belongs to; undefined for a request that runs alone. */
export function lengthBucket(steps: number, mixedLengths: boolean): number | undefined {
  if (steps > LONGEST_BUCKET_STEPS) return undefined;
  if (!mixedLengths) return steps;
  // Bucket k holds the lengths in (1.25^(k−1), 1.25^k]; the small epsilon keeps exact powers in k.
  return Math.ceil(Math.log(steps) / Math.log(LENGTH_BUCKET_RATIO) - 1e-9);
}

export function planBatch(waiting: readonly PlanItem[], now: number, policy: PlanPolicy): Plan | undefined {
  if (waiting.length === 0) return undefined;
  const groups = new Map<number | string, number[]>();
  waiting.forEach((item, i) => {
    const key = lengthBucket(item.steps, policy.mixedLengths) ?? `alone-${i}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  let wakeAt = Infinity;
  // Map iteration follows insertion, which follows each group's oldest member: oldest group first.
  for (const [key, group] of groups) {
    const head = waiting[group[0] as number] as PlanItem;
    const take: number[] = [];
    let longest = 0;
    let full = false;
    for (const i of group) {
      const steps = (waiting[i] as PlanItem).steps;
      const next = Math.max(longest, steps);
      if (take.length >= policy.maxBatch || (take.length > 0 && (take.length + 1) * next * policy.width > MAX_BATCH_NUMBERS)) {
        full = true;
        break;
      }
      take.push(i);
      longest = next;
    }
    // A request that runs alone has no companion to wait for.
    full ||= take.length >= policy.maxBatch || typeof key === 'string';
    if (full || now - head.enqueuedAt >= policy.maxDelayMs) return { take };
    wakeAt = Math.min(wakeAt, head.enqueuedAt + policy.maxDelayMs);
  }
  return { wakeAt };
}
