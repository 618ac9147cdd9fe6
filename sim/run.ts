import { nextHops, reachableFromEntry } from '../runtime/offload-graph.js';
import { leastSquares } from '../stats/fit.js';
import { CrimeAgent, OracleAgent, PinnedAgent } from './agents.js';
import { HindsightAgent } from './hindsight.js';
import { meanCost, pctIncrease, round, summarize, type PolicySummary } from './metrics.js';
import { withLinkRtt, type Scenario } from './scenario.js';
import { simulate, type AgentFactory, type RequestRecord } from './simulate.js';
import { START_MS, buildTrace } from './trace.js';

/** The share of the trace the static-threshold policy is tuned on. */
const TUNING_SHARE = 0.1;

export interface ThresholdRange {
  fromSteps: number;
  toSteps: number;
  device: string;
}

export interface SimResult {
  scenario: string;
  objective: Scenario['objective'];
  requests: number;
  /** the time CRIME's requests arrived over, s: what utilisation is relative to */
  spanSec: number;
  policies: Record<string, PolicySummary>;
  /** 100·(crime − oracle)/oracle on the objective's mean cost (the oracle is greedy with perfect current information) */
  crimeVsOraclePct: number;
  /** 100·(crime − hindsight)/hindsight: the hindsight reference also knows each request's real compute and link times */
  crimeVsHindsightPct: number;
  /** 100·(policy − crime)/policy: how much crime saves against each other policy */
  crimeReductionPct: Record<string, number>;
  staticThresholds: ThresholdRange[];
}

export interface SimRun {
  result: SimResult;
  /** per-policy request records, for plots */
  records: Record<string, RequestRecord[]>;
}

export interface RunOptions {
  /** called as each policy advances: fraction of all the work done, 0..1 */
  onProgress?: (fraction: number, policy: string) => void;
  /**
   * 'all' (default): every policy; 'oracle-and-singles': only crime, the oracle and the single
   * devices, as a sweep over many scenarios needs (crimeVsHindsightPct is then NaN and
   * staticThresholds empty)
   */
  policies?: 'all' | 'oracle-and-singles';
}

/** Devices the entry can reach (itself included), in scenario order. */
function reachable(s: Scenario): string[] {
  return reachableFromEntry(s.devices);
}

function pinnedFactory(s: Scenario, choose: (n: number) => string): AgentFactory {
  const hops = nextHops(s.devices);
  return (_world, device) => new PinnedAgent(device, hops.get(device.name)!, device.entry ? choose : null);
}

/**
 * The best fixed length thresholds for the first part of the trace: each single-device policy is
 * run on it, an affine cost in n (without queueing) is fitted per device from what it measured,
 * and each length goes to the cheapest fit.
 */
function tuneStatic(s: Scenario, trace: ReturnType<typeof buildTrace>): (n: number) => string {
  const tuning = trace.slice(0, Math.max(1, Math.floor(trace.length * TUNING_SHARE)));
  const fits: Array<{ device: string; slope: number; intercept: number }> = [];
  for (const device of reachable(s)) {
    const { records } = simulate({ scenario: s, trace: tuning, startMs: START_MS, makeAgent: pinnedFactory(s, () => device) });
    const ok = records.filter((r) => r.servedBy === device);
    if (ok.length === 0) continue;
    // Queue waits depend on the single-device policy's own load, not on the device: leave them out.
    const cost = (r: RequestRecord): number => (s.objective === 'energy' ? r.energyJ : r.latencyMs - r.queueMs);
    fits.push({ device, ...leastSquares(ok.map((r) => r.n), ok.map(cost)) });
  }
  const entry = s.devices.find((d) => d.entry)!.name;
  return (n) => {
    let best = entry;
    let bestCost = Infinity;
    for (const f of fits) {
      const c = f.slope * n + f.intercept;
      if (c < bestCost) {
        bestCost = c;
        best = f.device;
      }
    }
    return best;
  };
}

function ranges(choose: (n: number) => string, maxSteps: number): ThresholdRange[] {
  const out: ThresholdRange[] = [];
  for (let n = 1; n <= maxSteps; n++) {
    const device = choose(n);
    const last = out[out.length - 1];
    if (last && last.device === device) last.toSteps = n;
    else out.push({ fromSteps: n, toSteps: n, device });
  }
  return out;
}

/** Runs every policy on the same trace and compares them. */
export function runScenario(s: Scenario, options: RunOptions = {}): SimRun {
  const trace = buildTrace(s, START_MS);
  const devices = s.devices.map((d) => d.name);
  const all = options.policies !== 'oracle-and-singles';
  const staticChoice = all ? tuneStatic(s, trace) : null;
  const policies: Array<[string, AgentFactory]> = [
    ['crime', (_w, d, clock) => new CrimeAgent(s, d, clock)],
    ['oracle', (w, d) => new OracleAgent(w, d, s.objective)],
    ...(all ? [['hindsight', (w, d) => new HindsightAgent(w, d, s.objective)] as [string, AgentFactory]] : []),
    ...(staticChoice ? [['static-threshold', pinnedFactory(s, staticChoice)] as [string, AgentFactory]] : []),
    ...reachable(s).map((d): [string, AgentFactory] => [`only-${d}`, pinnedFactory(s, () => d)]),
  ];
  const summaries: Record<string, PolicySummary> = {};
  const records: Record<string, RequestRecord[]> = {};
  let spanMs = 0;
  policies.forEach(([name, makeAgent], i) => {
    const onProgress = options.onProgress;
    const out = simulate({
      scenario: s,
      trace,
      startMs: START_MS,
      makeAgent,
      ...(onProgress ? { onProgress: (done: number, total: number) => onProgress((i + done / total) / policies.length, name) } : {}),
    });
    records[name] = out.records;
    if (name === 'crime') spanMs = out.stats.spanMs;
    summaries[name] = summarize(out.records, devices, out.stats);
  });
  const crime = meanCost(summaries.crime!, s.objective);
  const reduction: Record<string, number> = {};
  for (const [name] of policies) {
    if (name === 'crime') continue;
    const other = meanCost(summaries[name]!, s.objective);
    reduction[name] = other === 0 ? 0 : round((100 * (other - crime)) / other, 3);
  }
  return {
    result: {
      scenario: s.name,
      objective: s.objective,
      requests: s.requests,
      spanSec: round(spanMs / 1000, 1),
      policies: summaries,
      crimeVsOraclePct: pctIncrease(crime, meanCost(summaries.oracle!, s.objective)),
      crimeVsHindsightPct: summaries.hindsight ? pctIncrease(crime, meanCost(summaries.hindsight, s.objective)) : Number.NaN,
      crimeReductionPct: reduction,
      staticThresholds: staticChoice ? ranges(staticChoice, s.mapping.maxSteps) : [],
    },
    records,
  };
}

export interface SweepPoint extends SimResult {
  rttMs: number;
}

/** Runs the scenario once per swept RTT value. */
export function runSweep(s: Scenario, options: RunOptions = {}): { link: string; points: SweepPoint[] } {
  const sweep = s.sweep!;
  const points = sweep.rttMs.map((rttMs, i) => {
    const onProgress = options.onProgress;
    const run = runScenario(withLinkRtt(s, sweep.link, rttMs), {
      ...(onProgress ? { onProgress: (f: number, p: string) => onProgress((i + f) / sweep.rttMs.length, `${p} @ ${rttMs} ms`) } : {}),
    });
    return { rttMs, ...run.result };
  });
  return { link: sweep.link, points };
}
