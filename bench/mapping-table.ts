/**
 * The arithmetic of `crime bench mapping`, the same for the live runs and for the simulator's
 * prediction: per policy the mean latency and end-node energy, CRIME's reduction against each
 * single-device policy and the threshold policy, its increase over the best fixed policy, and over
 * the hindsight bound (per request, the best of the single-device runs for that very request). Pure.
 */
import { quantile } from '../stats/quantile.js';
import type { Objective } from '../runtime/engine/types.js';
import { policyDevice, type MappingPolicy } from '../runtime/mapping-policy.js';

/** One request under one policy, measured live or simulated. */
export interface RequestOutcome {
  id: number;
  n: number;
  /** ms after the start the request arrived */
  atMs: number;
  latencyMs: number;
  /** the end node's energy for this request, J */
  energyJ: number;
  /** the device that computed it; null when it failed */
  servedBy: string | null;
  /** live runs: the entry mapper's own time for it (the rest of the latency is the client's hop to it) */
  entryMs?: number;
}

/** One policy's run over the trace. */
export interface PolicyRun {
  policy: MappingPolicy;
  outcomes: readonly RequestOutcome[];
  /** end-node energy spent outside requests during the run (CRIME's pings and self-calibration), J */
  overheadEnergyJ: number;
}

export interface PolicyFigures {
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** requests' energy plus the overhead, per request */
  meanEnergyJ: number;
  overheadEnergyJ: number;
  failed: number;
  servedBy: Record<string, number>;
  /**
   * requests a fixed policy did not serve where it pins them (its pinned hop failed and a device
   * fell back to serving); 0 for crime and threshold, which pin nothing fixed
   */
  fallbacks: number;
}

export interface MappingTable {
  objective: Objective;
  policies: Record<string, PolicyFigures>;
  /** 100·(policy − crime)/policy on the objective's mean cost: what CRIME saves against each other policy */
  crimeReductionPct: Record<string, number>;
  /** the single-device policies whose per-request best is the hindsight bound */
  singleDevice: string[];
  /** the hindsight bound's mean latency and energy (per request the best single-device run for it, by the objective) */
  hindsight: { meanMs: number; meanEnergyJ: number };
  /** 100·(crime − hindsight)/hindsight on the objective's mean cost */
  crimeVsHindsightPct: number;
  /** the best fixed policy (single-device or threshold) by the objective, and CRIME's increase over it */
  bestFixed: string;
  crimeVsBestFixedPct: number;
}

const round = (v: number, digits = 3): number => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);
const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** A policy that serves every request on one device: `local` (the entry) or `device:<name>`. */
export function isSingleDevice(p: MappingPolicy): boolean {
  return p === 'local' || policyDevice(p) !== undefined;
}

/** The device a single-device policy serves on. */
export function pinnedDevice(p: MappingPolicy, entry: string): string | undefined {
  return p === 'local' ? entry : policyDevice(p);
}

export function figures(run: PolicyRun, entry: string): PolicyFigures {
  const served = run.outcomes.filter((o) => o.servedBy !== null);
  const latencies = served.map((o) => o.latencyMs).sort((a, b) => a - b);
  const servedBy: Record<string, number> = {};
  for (const o of served) servedBy[o.servedBy as string] = (servedBy[o.servedBy as string] ?? 0) + 1;
  const pinned = pinnedDevice(run.policy, entry);
  const energy = run.outcomes.reduce((a, o) => a + o.energyJ, 0) + run.overheadEnergyJ;
  return {
    meanMs: round(mean(latencies)),
    p50Ms: round(quantile(latencies, 0.5)),
    p95Ms: round(quantile(latencies, 0.95)),
    p99Ms: round(quantile(latencies, 0.99)),
    meanEnergyJ: round(energy / Math.max(1, run.outcomes.length), 9),
    overheadEnergyJ: round(run.overheadEnergyJ, 6),
    failed: run.outcomes.length - served.length,
    servedBy,
    fallbacks: pinned === undefined ? 0 : served.filter((o) => o.servedBy !== pinned).length,
  };
}

function cost(f: PolicyFigures, objective: Objective): number {
  return objective === 'energy' ? f.meanEnergyJ : f.meanMs;
}

export function mappingTable(runs: readonly PolicyRun[], objective: Objective, entry: string): MappingTable {
  const policies: Record<string, PolicyFigures> = {};
  for (const r of runs) policies[r.policy] = figures(r, entry);
  const crime = policies.crime;
  if (!crime) throw new RangeError('the table compares against crime: run it among the policies');
  const crimeCost = cost(crime, objective);
  const crimeReductionPct: Record<string, number> = {};
  for (const r of runs) {
    if (r.policy === 'crime') continue;
    const other = cost(policies[r.policy] as PolicyFigures, objective);
    crimeReductionPct[r.policy] = other === 0 ? 0 : round((100 * (other - crimeCost)) / other);
  }
  const singles = runs.filter((r) => isSingleDevice(r.policy));
  // Per request, the best single-device run for it by the objective (failed runs of it left out).
  const byId = new Map<number, { latencyMs: number; energyJ: number; cost: number }>();
  for (const r of singles) {
    for (const o of r.outcomes) {
      if (o.servedBy === null) continue;
      const c = objective === 'energy' ? o.energyJ : o.latencyMs;
      const best = byId.get(o.id);
      if (!best || c < best.cost) byId.set(o.id, { latencyMs: o.latencyMs, energyJ: o.energyJ, cost: c });
    }
  }
  const bound = [...byId.values()];
  const hindsight = { meanMs: round(mean(bound.map((b) => b.latencyMs))), meanEnergyJ: round(mean(bound.map((b) => b.energyJ)), 9) };
  const hindsightCost = objective === 'energy' ? hindsight.meanEnergyJ : hindsight.meanMs;
  const fixed = runs.filter((r) => r.policy !== 'crime').map((r) => r.policy);
  const bestFixed = fixed.reduce<string | undefined>((best, p) => (best === undefined || cost(policies[p] as PolicyFigures, objective) < cost(policies[best] as PolicyFigures, objective) ? p : best), undefined) ?? 'crime';
  const bestCost = cost(policies[bestFixed] as PolicyFigures, objective);
  return {
    objective,
    policies,
    crimeReductionPct,
    singleDevice: singles.map((r) => r.policy),
    hindsight,
    crimeVsHindsightPct: singles.length === 0 ? Number.NaN : round((100 * (crimeCost - hindsightCost)) / hindsightCost),
    bestFixed,
    crimeVsBestFixedPct: round((100 * (crimeCost - bestCost)) / bestCost),
  };
}
