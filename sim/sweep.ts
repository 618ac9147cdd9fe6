import type { Objective } from '../runtime/engine/types.js';
import { quantile } from '../stats/quantile.js';
import { generateScenario, type Family } from './generate.js';
import { meanCost, pctIncrease } from './metrics.js';
import { runScenario } from './run.js';
import type { Scenario } from './scenario.js';

/**
 * CRIME over many generated scenarios (generate.ts): for each, its distance from the oracle and
 * from the best single device, and their distribution per objective and family. The numbers a
 * change to the engine is judged by, instead of the handful of files in examples/scenarios/.
 */
export interface SweepOptions {
  /** scenarios per objective and family */
  count: number;
  /** the generator's seed */
  seed: number;
  /** trace seeds each scenario is run with (replacing its own); default: its own seed */
  traceSeeds?: readonly number[];
  objectives: readonly Objective[];
  families: readonly Family[];
  /** the first scenario index (default 0): a long sweep can be split */
  from?: number;
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface SweepRun {
  name: string;
  objective: Objective;
  family: Family;
  traceSeed: number;
  /** 100·(crime − oracle)/oracle on the objective's mean cost */
  vsOraclePct: number;
  /** 100·(crime − best single device)/best: positive when CRIME is worse than some single device */
  vsBestPct: number;
  /** the single-device policy that cost least */
  best: string;
  /**
   * 100·(oracle − best single device)/best: above 0 the oracle itself is beaten by a single device,
   * so it is no sensible reference for that run (see docs/scenarios.md)
   */
  oracleVsBestPct: number;
  /** the shortest time between two changes of one device or link, s (Infinity: nothing changes) */
  fastestChangeSec: number;
  /** the largest compute noise or link jitter */
  maxNoise: number;
  /** the scenario file, with its seed set to traceSeed: replaying it reproduces this run */
  text: string;
}

export interface SweepSummary {
  objective: Objective;
  family: Family;
  /** 'all', or 'changes ≥ 10 s' (the adversity runs whose conditions change no faster than every 10 s) */
  subset: string;
  runs: number;
  medianPct: number;
  p90Pct: number;
  worstPct: number;
  worst: SweepRun | null;
  /** the largest vsBestPct, and its run */
  worstVsBestPct: number;
  worstVsBest: SweepRun | null;
  /** runs where a single device beat the oracle by more than ORACLE_SLACK_PCT */
  oracleBeaten: number;
}

/** A single device beating the oracle by less than this is noise, not an unsound reference. */
export const ORACLE_SLACK_PCT = 0.05;
/** Adversity runs that count against the adversity targets change no faster than this. */
export const SLOW_CHANGE_SEC = 10;

/** The shortest interval between two changes of the same device or link, and the largest noise. */
export function conditions(s: Scenario): { fastestChangeSec: number; maxNoise: number } {
  const times = new Map<string, number[]>();
  for (const e of s.events) {
    const key = e.kind === 'link' ? `${e.from}->${e.to}` : e.device;
    const list = times.get(key) ?? [];
    list.push(e.atSec);
    times.set(key, list);
  }
  let fastest = Infinity;
  for (const list of times.values()) {
    list.sort((a, b) => a - b);
    for (let i = 1; i < list.length; i++) fastest = Math.min(fastest, (list[i] as number) - (list[i - 1] as number));
  }
  const maxNoise = Math.max(...s.devices.map((d) => d.noise), ...s.links.map((l) => l.jitter));
  return { fastestChangeSec: fastest, maxNoise };
}

/** The scenario file with its top-level seed set (replaced, or added at the end). */
function withSeed(text: string, seed: number): string {
  return /^seed:/m.test(text) ? text.replace(/^seed:.*$/m, `seed: ${seed}`) : `${text.replace(/\n*$/, '\n')}seed: ${seed}\n`;
}

/** Runs one scenario at one trace seed with the policies a sweep compares. */
export function sweepRun(text: string, scenario: Scenario, family: Family, traceSeed: number): SweepRun {
  const s = { ...scenario, seed: traceSeed };
  const { result } = runScenario(s, { policies: 'oracle-and-singles' });
  const singles = Object.entries(result.policies).filter(([p]) => p.startsWith('only-'));
  const [best, bestSummary] = singles.reduce((a, b) => (meanCost(b[1], s.objective) < meanCost(a[1], s.objective) ? b : a));
  const bestCost = meanCost(bestSummary, s.objective);
  return {
    name: s.name,
    objective: s.objective,
    family,
    traceSeed,
    vsOraclePct: result.crimeVsOraclePct,
    vsBestPct: pctIncrease(meanCost(result.policies.crime!, s.objective), bestCost),
    best: best.slice('only-'.length),
    oracleVsBestPct: pctIncrease(meanCost(result.policies.oracle!, s.objective), bestCost),
    ...conditions(s),
    text: withSeed(text, traceSeed),
  };
}

export function runGeneratedSweep(options: SweepOptions): SweepRun[] {
  const from = options.from ?? 0;
  const jobs: Array<{ objective: Objective; family: Family; index: number }> = [];
  for (const objective of options.objectives) {
    for (const family of options.families) {
      for (let index = from; index < from + options.count; index++) jobs.push({ objective, family, index });
    }
  }
  const perJob = options.traceSeeds?.length ?? 1;
  const total = jobs.length * perJob;
  const runs: SweepRun[] = [];
  for (const job of jobs) {
    const generated = generateScenario({ seed: options.seed, ...job });
    for (const traceSeed of options.traceSeeds ?? [generated.scenario.seed]) {
      options.onProgress?.(runs.length, total, `${generated.name} @${traceSeed}`);
      runs.push(sweepRun(generated.text, generated.scenario, job.family, traceSeed));
    }
  }
  options.onProgress?.(total, total, '');
  return runs;
}

function summary(runs: readonly SweepRun[], objective: Objective, family: Family, subset: string): SweepSummary {
  const sorted = runs.map((r) => r.vsOraclePct).sort((a, b) => a - b);
  const worst = runs.reduce<SweepRun | null>((w, r) => (w === null || r.vsOraclePct > w.vsOraclePct ? r : w), null);
  const worstVsBest = runs.reduce<SweepRun | null>((w, r) => (w === null || r.vsBestPct > w.vsBestPct ? r : w), null);
  return {
    objective,
    family,
    subset,
    runs: runs.length,
    medianPct: quantile(sorted, 0.5),
    p90Pct: quantile(sorted, 0.9),
    worstPct: worst?.vsOraclePct ?? Number.NaN,
    worst,
    worstVsBestPct: worstVsBest?.vsBestPct ?? Number.NaN,
    worstVsBest,
    oracleBeaten: runs.filter((r) => r.oracleVsBestPct > ORACLE_SLACK_PCT).length,
  };
}

/** The distribution per objective and family; for adversity also over the runs that change no faster than every 10 s. */
export function summarizeSweep(runs: readonly SweepRun[]): SweepSummary[] {
  const out: SweepSummary[] = [];
  const objectives = [...new Set(runs.map((r) => r.objective))];
  const families = [...new Set(runs.map((r) => r.family))];
  for (const objective of objectives) {
    for (const family of families) {
      const group = runs.filter((r) => r.objective === objective && r.family === family);
      if (group.length === 0) continue;
      out.push(summary(group, objective, family, 'all'));
      if (family === 'adversity') {
        const slow = group.filter((r) => r.fastestChangeSec >= SLOW_CHANGE_SEC && r.maxNoise <= 0.4);
        if (slow.length > 0) out.push(summary(slow, objective, family, `changes ≥ ${SLOW_CHANGE_SEC} s`));
      }
    }
  }
  return out;
}

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

/** The summaries as a table, one row per objective, family and subset. */
export function formatSweepSummary(summaries: readonly SweepSummary[]): string {
  const header = ['objective', 'family', 'subset', 'runs', 'median %', 'p90 %', 'worst %', 'worst scenario', 'worst vs best device %', 'oracle beaten'];
  const rows = [header];
  for (const s of summaries) {
    rows.push([
      s.objective,
      s.family,
      s.subset,
      String(s.runs),
      fmt(s.medianPct),
      fmt(s.p90Pct),
      fmt(s.worstPct),
      s.worst ? `${s.worst.name} @${s.worst.traceSeed}` : '-',
      `${fmt(s.worstVsBestPct)}${s.worstVsBest ? ` (${s.worstVsBest.name} @${s.worstVsBest.traceSeed})` : ''}`,
      String(s.oracleBeaten),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  return rows.map((r) => r.map((cell, c) => (c >= 3 && c <= 6 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}
