/**
 * `crime bench mapping`: CRIME measured live against the policies it replaces, on one topology, its
 * local settings and a load file, and beside each live figure what `crime sim` predicts for the same
 * inputs. The topology runs once per policy (`crime up`'s launcher, the policy in its mapping
 * settings), all of them at once, so that every policy meets the same machine: on a shared 2-core
 * machine whose load drifts by the minute, runs one after the other compare the load as much as the
 * policies. Each waits until its mappers know their neighbours, then all replay the identical trace
 * (same lengths, bodies, arrival times) from the same instant while each one's event player plays
 * the load's events.
 */
import { loadavg } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { energyJ } from '../runtime/engine/energy.js';
import { valuesProbes } from '../runtime/engine/engine.js';
import { requestBytes } from '../runtime/engine/rank.js';
import { bandwidthToMsPerByte, type PayloadModel, type PowerModel } from '../runtime/engine/types.js';
import type { MappingPolicy } from '../runtime/mapping-policy.js';
import { entryOf, withPolicy, type Topology } from '../runtime/topology/topology.js';
import type { TimedEvent } from '../runtime/timed-events.js';
import { LocalTopology } from '../local/launcher.js';
import type { LocalSettings } from '../local/settings.js';
import { replayTrace, type ReplayRecord } from '../load/replay.js';
import type { LoadFile } from '../sim/load-file.js';
import { runScenario } from '../sim/run.js';
import type { Scenario } from '../sim/scenario.js';
import { scenarioFromTopology, type LiveOverhead, type TopologyRun } from '../sim/topology-scenario.js';
import { nextHops } from '../runtime/offload-graph.js';
import { START_MS, buildTrace } from '../sim/trace.js';
import { countsSince, mapperCounters, type MapperCounters } from './mapper-metrics.js';
import { isSingleDevice, mappingTable, pinnedDevice, type MappingTable, type PolicyRun, type RequestOutcome } from './mapping-table.js';

/** Bytes of a ping's reply (its advertisement), as the engine and the simulator count them. */
const PING_REPLY_BYTES = 256;
/** Requests are due from this long after the replay is set up, so the first is not late. */
const LEAD_MS = 100;

export interface MappingBenchOptions {
  topology: Topology;
  baseDir: string;
  settings: LocalSettings;
  load: LoadFile;
  /** the same inputs for the simulator (cli/topology-run.ts reads all of them) */
  run: TopologyRun;
  policies: readonly MappingPolicy[];
  /** where the topology's configs and logs go (default: a temp dir, removed afterwards) */
  workDir?: string;
  onProgress?: (fraction: number, label: string) => void;
}

export interface MappingBenchResult extends MappingTable {
  topology: string;
  load: string;
  requests: number;
  entry: string;
  /** the simulator's prediction for the same inputs, computed the same way */
  sim: MappingTable;
  /** per single-device policy: CRIME's live saving against it, the simulated one, and how far apart (relative to the simulated) */
  savings: Record<string, { livePct: number; simPct: number; relativeDiffPct: number }>;
  /** what this machine added to requests and hops during the runs (fitOverhead), given to the simulator */
  overhead: LiveOverhead;
  /** every policy saw the same requests (ids, lengths, bodies) due at the same times */
  identicalTrace: boolean;
  /**
   * CRIME's entry outside requests, live and simulated: its self-calibration runs (count, compute
   * time) and the energy they and its pings cost. A few long runs make most of it, so on a run of a
   * few hundred requests one run more or less moves the energy savings by a point or two.
   */
  crimeEntryOverhead: { live: EntryOverhead; sim: EntryOverhead };
  /** the static thresholds the simulator tuned (its prediction for the threshold policy) */
  simThresholds: Array<{ fromSteps: number; toSteps: number; device: string }>;
  durationSec: number;
  /** 1-minute load average when the bench started and ended (2 cores, shared) */
  loadAverage: [number, number];
  records: Record<string, RequestOutcome[]>;
  simRecords: Record<string, RequestOutcome[]>;
}

export interface EntryOverhead {
  /** pings the entry sent, and their payload bytes */
  pings: number;
  pingBytes: number;
  selfCalibrations: number;
  selfCalibrationMs: number;
  /** the entry's energy outside requests (pings' radio time, self-calibration runs), J */
  energyJ: number;
}

/** The simulator's name for a bench policy. */
export function simPolicyName(p: MappingPolicy, entry: string): string {
  if (p === 'crime') return 'crime';
  if (p === 'threshold') return 'static-threshold';
  return `only-${pinnedDevice(p, entry) as string}`;
}

/** Link conditions over time, as the load's events change them (the simulator's world does the same). */
class LinkTimeline {
  constructor(private readonly scenario: Scenario) {}

  msPerByte(from: string, to: string, atMs: number): number {
    const link = this.scenario.links.find((l) => l.from === from && l.to === to);
    let bw = link?.bandwidthMbps ?? Infinity;
    for (const e of this.scenario.events) {
      if (e.atSec * 1000 > atMs) break;
      if (e.kind === 'link' && e.from === from && e.to === to && e.bandwidthMbps !== undefined) bw = e.bandwidthMbps;
    }
    return bandwidthToMsPerByte(bw);
  }
}

interface EnergyModel {
  power: PowerModel | undefined;
  entry: string;
  payload: PayloadModel;
  links: LinkTimeline;
}

/**
 * The end node's energy for one request, from its power model on the measured times, as the
 * simulator charges it: computed there, activeW × its compute time; offloaded, txW × the request's
 * bytes on the first link, rxW × the reply's, idleW × the rest of the wait.
 */
function requestEnergy(r: ReplayRecord, m: EnergyModel): number {
  if (!m.power || !r.ok) return 0;
  if (r.servedBy === m.entry) return energyJ(m.power, { computeMs: r.computeMs ?? 0 });
  const hop = r.path?.[1];
  if (hop === undefined) return 0;
  const msPerByte = m.links.msPerByte(m.entry, hop, r.sentAtMs);
  const txMs = requestBytes(m.payload, r.n) * msPerByte;
  const rxMs = m.payload.outputBytes * msPerByte;
  // The end node waits from sending to the reply: its own time for the request, not the client's.
  return energyJ(m.power, { txMs, rxMs, idleMs: Math.max(0, (r.entryMs ?? r.latencyMs) - txMs - rxMs) });
}

/** The entry's energy outside requests between two readings of its counters: its pings' radio time and its self-calibration runs. */
function overheadEnergy(before: MapperCounters, after: MapperCounters, m: EnergyModel, atMs: number): number {
  if (!m.power) return 0;
  let j = 0;
  const sent = countsSince(before.pingBytes, after.pingBytes);
  const answered = countsSince(before.pingsOk, after.pingsOk);
  for (const nb of new Set([...Object.keys(sent), ...Object.keys(answered)])) {
    const msPerByte = m.links.msPerByte(m.entry, nb, atMs);
    j += energyJ(m.power, { txMs: (sent[nb] ?? 0) * msPerByte, rxMs: (answered[nb] ?? 0) * PING_REPLY_BYTES * msPerByte });
  }
  return j + energyJ(m.power, { computeMs: 1000 * (after.selfCalibrationSeconds - before.selfCalibrationSeconds) });
}

/** The longest chain of offloads from the entry: how many rounds of pings carry news from the far end. */
function depth(t: Topology): number {
  const byName = new Map(t.devices.map((d) => [d.name, d]));
  const walk = (name: string, seen: Set<string>): number => {
    const next = (byName.get(name)?.offloadTo ?? []).filter((n) => !seen.has(n));
    return next.length === 0 ? 0 : 1 + Math.max(...next.map((n) => walk(n, new Set([...seen, n]))));
  };
  return walk(entryOf(t).name, new Set([entryOf(t).name]));
}

/**
 * Waits until every mapper knows its neighbours as a fresh start would: each has had two pings
 * answered by each neighbour (RTT and bandwidth), then, once per hop of the longest chain, one
 * more (its advertisement then carries what the far end knows). A mapper that weighs its probes'
 * energy (valuesProbes) pings no more than twice before any request, as in the simulator's
 * warm-up, so it is not waited for beyond those two.
 */
async function settle(local: LocalTopology, t: Topology, timeoutMs = 60_000): Promise<void> {
  const mappers = local.listDevices().filter((d) => d.running);
  const deadline = performance.now() + timeoutMs;
  const read = async (): Promise<Map<string, MapperCounters>> => new Map(await Promise.all(mappers.map(async (d) => [d.name, await mapperCounters(d.mapperUrl)] as const)));
  const budgeted = (name: string): boolean => valuesProbes(t.objective, t.devices.find((x) => x.name === name)?.power);
  const waitFor = async (base: Map<string, MapperCounters>, more: number, pinging: typeof mappers): Promise<Map<string, MapperCounters>> => {
    for (;;) {
      const now = await read();
      const missing = pinging.flatMap((d) => {
        const neighbours = t.devices.find((x) => x.name === d.name)?.offloadTo ?? [];
        const answered = countsSince(base.get(d.name)?.pingsOk ?? {}, now.get(d.name)?.pingsOk ?? {});
        const sent = countsSince(base.get(d.name)?.pingsSent ?? {}, now.get(d.name)?.pingsSent ?? {});
        return neighbours.filter((nb) => (answered[nb] ?? 0) < more).map((nb) => `${d.name} -> ${nb}: ${answered[nb] ?? 0} of ${more} answered, ${sent[nb] ?? 0} sent`);
      });
      if (missing.length === 0) return now;
      if (performance.now() > deadline) throw new Error(`the mappers did not ping their neighbours within ${timeoutMs} ms of their start (${missing.join('; ')})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Counted from each mapper's start (each policy has a topology of its own): a budgeted mapper has
  // sent its two before the first read.
  let base = await waitFor(new Map(), 2, mappers);
  const unbudgeted = mappers.filter((d) => !budgeted(d.name));
  for (let k = 1; k < depth(t); k++) base = await waitFor(base, 1, unbudgeted);
}

/**
 * What this machine added during the runs, beyond the emulated devices and links (Scenario.overhead):
 * the client's hop to the entry is the median of latency − the entry's own time over every live
 * request; on every single-device run, per request, live minus simulated-without-overhead latency
 * (same request, same device, queues simulated) gives the rest: its median over the local run, less
 * the client's hop, is what serving a request adds, and each hop beyond the entry adds the per-hop
 * overhead (medians of the runs through one or more hops, less the local run's, divided by their
 * hops). The machine is shared and its load moves by the minute, so this is measured on the runs
 * themselves rather than assumed.
 */
export function fitOverhead(live: readonly PolicyRun[], simulated: readonly PolicyRun[], hopsTo: (policy: MappingPolicy) => number): LiveOverhead {
  const median = (xs: number[]): number => {
    const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
  };
  const client = median(live.flatMap((r) => r.outcomes.filter((o) => o.servedBy !== null && o.entryMs !== undefined).map((o) => o.latencyMs - (o.entryMs as number))));
  const excess = live.filter((r) => isSingleDevice(r.policy)).map((r) => {
    const sim = new Map((simulated.find((x) => x.policy === r.policy)?.outcomes ?? []).map((o) => [o.id, o]));
    const d = r.outcomes.filter((o) => o.servedBy !== null && sim.get(o.id)?.servedBy === o.servedBy).map((o) => o.latencyMs - (sim.get(o.id) as RequestOutcome).latencyMs);
    return { hops: hopsTo(r.policy), ms: median(d) };
  });
  const base = excess.find((e) => e.hops === 0)?.ms ?? Number.NaN;
  const perHop = excess.filter((e) => e.hops > 0 && Number.isFinite(e.ms)).map((e) => (e.ms - (Number.isFinite(base) ? base : 0)) / e.hops);
  const r2 = (v: number): number => (Number.isFinite(v) ? Math.round(Math.max(0, v) * 100) / 100 : 0);
  const requestMs = r2(client);
  return {
    requestMs,
    serveMs: Number.isFinite(base) ? r2(base - requestMs) : 0,
    hopMs: perHop.length > 0 ? r2(perHop.reduce((a, b) => a + b, 0) / perHop.length) : 0,
  };
}

function simRuns(sim: ReturnType<typeof runScenario>, policies: readonly MappingPolicy[], entry: string): PolicyRun[] {
  return policies.map((p) => {
    const name = simPolicyName(p, entry);
    const summary = sim.result.policies[name];
    if (!summary) throw new RangeError(`the simulator has no policy ${name} for ${p}`);
    return {
      policy: p,
      // After the warm-up, as the live runs count it (from the end of settle()).
      overheadEnergyJ: summary.overheadEnergyJ - summary.warmUpEnergyJ,
      outcomes: (sim.records[name] ?? []).map((r) => ({ id: r.id, n: r.n, atMs: r.arrivalMs - START_MS, latencyMs: r.latencyMs, energyJ: r.energyJ, servedBy: r.servedBy })),
    };
  });
}

/** CRIME's entry outside requests in the simulator, after the warm-up as the live run counts it. */
function simEntryOverhead(sim: ReturnType<typeof runScenario>, runs: readonly PolicyRun[], entry: string): EntryOverhead {
  const cal = sim.result.policies.crime?.selfCalibrationRuns[entry];
  const pings = sim.result.policies.crime?.pingsBy[entry];
  return {
    pings: pings ? pings.pings - pings.warmUpPings : 0,
    pingBytes: pings ? pings.bytes - pings.warmUpBytes : 0,
    selfCalibrations: cal ? cal.runs - cal.warmUpRuns : 0,
    selfCalibrationMs: cal ? Math.round(1000 * (cal.computeMs - cal.warmUpMs)) / 1000 : 0,
    energyJ: runs.find((r) => r.policy === 'crime')?.overheadEnergyJ ?? 0,
  };
}

function outcomes(records: readonly ReplayRecord[], m: EnergyModel): RequestOutcome[] {
  return records.map((r) => ({
    id: r.id, n: r.n, atMs: r.dueMs, latencyMs: r.latencyMs, energyJ: requestEnergy(r, m), servedBy: r.ok ? (r.servedBy ?? null) : null,
    ...(r.entryMs === undefined ? {} : { entryMs: r.entryMs }),
  }));
}

function sameTrace(runs: ReadonlyArray<readonly ReplayRecord[]>): boolean {
  const key = (rs: readonly ReplayRecord[]): string => rs.map((r) => `${r.id}:${r.n}:${r.bodyHash}:${Number.isFinite(r.dueMs) ? r.dueMs.toFixed(3) : ''}`).join(',');
  const first = runs[0];
  return first !== undefined && runs.every((r) => key(r) === key(first));
}

export async function runMappingBench(o: MappingBenchOptions): Promise<MappingBenchResult> {
  const started = performance.now();
  const loadBefore = loadavg()[0] as number;
  const entry = entryOf(o.topology).name;
  const scenario = scenarioFromTopology(o.run);
  const trace = buildTrace(scenario, START_MS);
  const closed = scenario.arrival.type === 'closed';
  const items = trace.map((t) => ({ id: t.id, n: t.n, atMs: closed ? Number.NaN : t.arrivalMs - START_MS }));
  const energy: EnergyModel = { power: entryOf(o.topology).power, entry, payload: o.run.payload, links: new LinkTimeline(scenario) };

  const workDir = o.workDir ?? (await mkdtemp(join(tmpdir(), `crime-bench-mapping-${o.topology.name}-`)));
  // One topology per policy, all at once: every policy meets the same machine, whatever else runs on it.
  const running: Array<LocalTopology | undefined> = [];
  const live: PolicyRun[] = [];
  const replays: ReplayRecord[][] = [];
  let replayed = false;
  let crimeEntry: EntryOverhead = { pings: 0, pingBytes: 0, selfCalibrations: 0, selfCalibrationMs: 0, energyJ: 0 };
  try {
    o.onProgress?.(0, 'starting a topology per policy');
    const locals = await Promise.all(
      o.policies.map(async (policy, i) => {
        const dir = join(workDir, policy.replace(':', '-'));
        await mkdir(dir, { recursive: true });
        const local = await LocalTopology.start({ topology: withPolicy(o.topology, policy), baseDir: o.baseDir, settings: o.settings, workDir: dir });
        running[i] = local;
        return local;
      }),
    );
    o.onProgress?.(0, 'mappers learning their neighbours');
    await Promise.all(locals.map((l) => settle(l, o.topology)));
    const entryMapper = (l: LocalTopology): string => l.listDevices().find((d) => d.name === entry)?.mapperUrl as string;
    const before = await Promise.all(locals.map((l) => mapperCounters(entryMapper(l))));
    const startAt = performance.now() + LEAD_MS;
    const done = new Array<number>(locals.length).fill(0);
    const runs = await Promise.all(
      locals.map((l, i) => {
        l.playEvents(scenario.events as TimedEvent[], startAt);
        return replayTrace({
          url: l.entryUrl,
          trace: items,
          arrival: scenario.arrival.type === 'poisson' ? { type: 'poisson' } : scenario.arrival,
          seed: scenario.seed,
          startAt,
          timeoutMs: o.topology.mapping.requestTimeoutMs + 5000,
          onResult: (_r, n) => {
            done[i] = n;
            o.onProgress?.(done.reduce((a, b) => a + b, 0) / (items.length * locals.length), 'replaying the trace');
          },
        });
      }),
    );
    const after = await Promise.all(locals.map((l) => mapperCounters(entryMapper(l))));
    o.policies.forEach((policy, i) => {
      const records = runs[i] as ReplayRecord[];
      replays.push(records);
      const endMs = Math.max(0, ...records.map((r) => r.sentAtMs + r.latencyMs));
      const [b, a] = [before[i] as MapperCounters, after[i] as MapperCounters];
      const overheadEnergyJ = overheadEnergy(b, a, energy, endMs / 2);
      live.push({ policy, outcomes: outcomes(records, energy), overheadEnergyJ });
      if (policy === 'crime') {
        const sum = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);
        crimeEntry = { pings: sum(countsSince(b.pingsSent, a.pingsSent)), pingBytes: sum(countsSince(b.pingBytes, a.pingBytes)), selfCalibrations: a.selfCalibrations - b.selfCalibrations, selfCalibrationMs: Math.round(1e6 * (a.selfCalibrationSeconds - b.selfCalibrationSeconds)) / 1000, energyJ: overheadEnergyJ };
      }
    });
    replayed = true;
  } finally {
    await Promise.all(running.map((l) => l?.close()));
    // On a failure the temp dir stays: the error names a log in it (a mapper that exited early).
    if (replayed && o.workDir === undefined) await rm(workDir, { recursive: true, force: true });
  }

  // The simulator's prediction for the same inputs, given the overhead this machine added meanwhile.
  const graph = nextHops(o.topology.devices);
  const hopsTo = (p: MappingPolicy): number => {
    const device = pinnedDevice(p, entry);
    let k = 0;
    for (let at = entry; device !== undefined && at !== device && k < graph.size; k++) at = graph.get(at)?.get(device) as string;
    return k;
  };
  const bare = simRuns(runScenario(scenarioFromTopology({ ...o.run, overhead: { requestMs: 0, serveMs: 0, hopMs: 0 } })), o.policies, entry);
  const overhead = o.run.overhead ?? fitOverhead(live, bare, hopsTo);
  const sim = runScenario(scenarioFromTopology({ ...o.run, overhead }));
  const simPolicies = simRuns(sim, o.policies, entry);
  const table = mappingTable(live, scenario.objective, entry);
  const simTable = mappingTable(simPolicies, scenario.objective, entry);
  const savings: MappingBenchResult['savings'] = {};
  for (const p of o.policies.filter(isSingleDevice)) {
    const livePct = table.crimeReductionPct[p] ?? Number.NaN;
    const simPct = simTable.crimeReductionPct[p] ?? Number.NaN;
    savings[p] = { livePct, simPct, relativeDiffPct: simPct === 0 ? Number.NaN : Math.round((10_000 * (livePct - simPct)) / Math.abs(simPct)) / 100 };
  }
  return {
    ...table,
    topology: o.topology.name,
    load: o.load.name,
    requests: items.length,
    entry,
    sim: simTable,
    savings,
    overhead,
    identicalTrace: sameTrace(replays),
    crimeEntryOverhead: {
      live: crimeEntry,
      sim: simEntryOverhead(sim, simPolicies, entry),
    },
    simThresholds: sim.result.staticThresholds,
    durationSec: Math.round((performance.now() - started) / 100) / 10,
    loadAverage: [Math.round(loadBefore * 100) / 100, Math.round((loadavg()[0] as number) * 100) / 100],
    records: Object.fromEntries(live.map((r) => [r.policy, [...r.outcomes]])),
    simRecords: Object.fromEntries(simPolicies.map((r) => [r.policy, [...r.outcomes]])),
  };
}
