import type { Objective } from '../runtime/engine/types.js';
import { quantile } from '../stats/quantile.js';
import type { RequestRecord, RunStats } from './simulate.js';

export interface PolicySummary {
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** total end-node energy: every request's, plus what the end node spent outside requests (pings), J */
  energyJ: number;
  /** energyJ per request, J */
  meanEnergyJ: number;
  served: Record<string, number>;
  failed: number;
  /**
   * per device: its busy time over the time requests arrived in (offered load ρ); above 1 the
   * device could not keep up and its queue grew for the whole run
   */
  utilisation: Record<string, number>;
  /** per device: the busy share of its busiest minute; near 1 the device was saturated for a while */
  peakUtilisation: Record<string, number>;
  /** pings sent by every device */
  pings: number;
  /** self-calibration runs of every device */
  selfCalibrations: number;
  /** per device: its self-calibration runs and their compute time, ms, and how many of them (and ms) were in the warm-up */
  selfCalibrationRuns: Record<string, { runs: number; computeMs: number; warmUpRuns: number; warmUpMs: number }>;
  /** per device: the share of the arrival span it spent on self-calibration */
  selfCalibrationShare: Record<string, number>;
  /** the part of energyJ spent outside requests, J */
  overheadEnergyJ: number;
  /** the part of overheadEnergyJ spent in the warm-up, before the first request could arrive, J */
  warmUpEnergyJ: number;
}

/** Latency statistics over the requests that were served; failures are counted apart. */
export function summarize(records: readonly RequestRecord[], devices: readonly string[], stats: RunStats): PolicySummary {
  const served: Record<string, number> = Object.fromEntries(devices.map((d) => [d, 0]));
  const latencies: number[] = [];
  let energy = stats.overheadEnergyJ;
  let failed = 0;
  for (const r of records) {
    energy += r.energyJ;
    if (r.servedBy === null) {
      failed++;
      continue;
    }
    served[r.servedBy] = (served[r.servedBy] ?? 0) + 1;
    latencies.push(r.latencyMs);
  }
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((s, v) => s + v, 0) / Math.max(1, latencies.length);
  return {
    meanMs: round(mean),
    p50Ms: round(quantile(latencies, 0.5)),
    p95Ms: round(quantile(latencies, 0.95)),
    p99Ms: round(quantile(latencies, 0.99)),
    energyJ: round(energy, 6),
    meanEnergyJ: round(energy / Math.max(1, records.length), 9),
    served,
    failed,
    utilisation: Object.fromEntries(devices.map((d) => [d, round((stats.busyMs[d] ?? 0) / stats.spanMs, 3)])),
    peakUtilisation: Object.fromEntries(devices.map((d) => [d, round(stats.peakUtilisation[d] ?? 0, 3)])),
    pings: stats.pings,
    selfCalibrations: Object.values(stats.calibrations).reduce((a, b) => a + b, 0),
    selfCalibrationRuns: Object.fromEntries(
      devices.map((d) => [d, { runs: stats.calibrations[d] ?? 0, computeMs: round(stats.calibrationMs[d] ?? 0), warmUpRuns: stats.warmUp.calibrations[d] ?? 0, warmUpMs: round(stats.warmUp.calibrationMs[d] ?? 0) }]),
    ),
    selfCalibrationShare: Object.fromEntries(devices.map((d) => [d, round((stats.calibrationMs[d] ?? 0) / stats.spanMs, 5)])),
    overheadEnergyJ: round(stats.overheadEnergyJ, 6),
    warmUpEnergyJ: round(stats.warmUp.energyJ, 6),
  };
}

/** What the objective minimises, per request on average. */
export function meanCost(s: PolicySummary, objective: Objective): number {
  return objective === 'energy' ? s.meanEnergyJ : s.meanMs;
}

/** 100·(a − b)/b: positive when a costs more than b. */
export function pctIncrease(a: number, b: number): number {
  return b === 0 ? 0 : round((100 * (a - b)) / b, 3);
}

export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
