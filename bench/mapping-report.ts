import { plotMappings, type MappingPoint } from '../sim/plot.js';
import type { MappingBenchResult } from './mapping.js';
import { pinnedDevice } from './mapping-table.js';

const fmt = (v: number | undefined, digits = 2): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '-');
const pct = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} %` : '-');

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd()).join('\n');
}

const entryOverhead = (o: MappingBenchResult['crimeEntryOverhead']['live']): string =>
  `${o.selfCalibrations} self-calibration runs (${fmt(o.selfCalibrationMs, 0)} ms of compute), ${fmt(o.energyJ * 1000, 1)} mJ with its pings`;

/** The bench's table in the shape of the CRIME slides, each live figure beside the simulator's prediction. */
export function formatMappingBench(r: MappingBenchResult): string {
  const policies = Object.keys(r.policies);
  const devices = [...new Set(Object.values(r.policies).flatMap((p) => Object.keys(p.servedBy)))];
  const energy = r.objective === 'energy';
  const rows = [['policy', 'mean ms', 'sim ms', 'p99 ms', 'mJ/req', 'sim mJ/req', 'failed', 'fallbacks', `served (${devices.join(' / ')})`]];
  for (const p of policies) {
    const live = r.policies[p];
    const sim = r.sim.policies[p];
    rows.push([
      p,
      fmt(live?.meanMs),
      fmt(sim?.meanMs),
      fmt(live?.p99Ms),
      fmt((live?.meanEnergyJ ?? Number.NaN) * 1000, 3),
      fmt((sim?.meanEnergyJ ?? Number.NaN) * 1000, 3),
      String(live?.failed ?? '-'),
      String(live?.fallbacks ?? '-'),
      devices.map((d) => live?.servedBy[d] ?? 0).join(' / '),
    ]);
  }
  const measure = energy ? 'end-node energy per request' : 'mean latency';
  const against = policies.filter((p) => p !== 'crime').map((p) => {
    const device = pinnedDevice(p as never, r.entry);
    const s = r.savings[p];
    const apart = s ? `, ${pct(s.relativeDiffPct)} apart` : '';
    return `  vs ${p}${device && p === 'local' ? ` (${device})` : ''}: ${pct(r.crimeReductionPct[p])} live, ${pct(r.sim.crimeReductionPct[p])} simulated${apart}`;
  });
  return [
    `${r.topology} / ${r.load}: ${r.requests} requests per policy, objective ${r.objective}; ${fmt(r.durationSec, 0)} s; load average ${fmt(r.loadAverage[0])} → ${fmt(r.loadAverage[1])} (2 cores, shared)`,
    '',
    table(rows),
    '',
    `CRIME's reduction of ${measure} (live, simulated, how far apart relative to the simulated):`,
    ...against,
    `CRIME vs the best fixed policy (${r.bestFixed}): ${pct(r.crimeVsBestFixedPct)} live, ${pct(r.sim.crimeVsBestFixedPct)} simulated (the simulator's best: ${r.sim.bestFixed})`,
    `CRIME vs the live hindsight bound: ${pct(r.crimeVsHindsightPct)} (simulated: ${pct(r.sim.crimeVsHindsightPct)}). The bound takes, per request, the best of the single-device runs for that very request: optimistic, since it knows each request's luck in every run and never probes`,
    `the simulator was given what this machine added during the runs (medians, docs/mapping-bench.md): ${fmt(r.overhead.requestMs)} ms from the client to the entry, ${fmt(r.overhead.serveMs)} ms serving a request, ${fmt(r.overhead.hopMs)} ms per hop between mappers`,
    `CRIME's entry outside requests: ${entryOverhead(r.crimeEntryOverhead.live)} live, ${entryOverhead(r.crimeEntryOverhead.sim)} simulated`,
    `every policy replayed the identical trace (lengths, bodies, arrival times): ${r.identicalTrace ? 'yes' : 'NO'}`,
    `static thresholds the simulator tuned: ${r.simThresholds.map((t) => `${t.fromSteps}-${t.toSteps} -> ${t.device}`).join(', ')}`,
  ].join('\n') + '\n';
}

/** The slides' mapping figure of CRIME's run (input length over time, coloured by the serving device): live above, simulated below, same axes. */
export function plotMappingBench(r: MappingBenchResult, devices: readonly string[]): string {
  const points = (records: MappingBenchResult['records']): MappingPoint[] => (records.crime ?? []).map((o) => ({ tSec: o.atMs / 1000, n: o.n, servedBy: o.servedBy }));
  return plotMappings([
    { title: `live: CRIME's mapping, input length over time, coloured by the serving device (${r.load})`, points: points(r.records) },
    { title: 'simulated (crime sim --topology): the same trace', points: points(r.simRecords) },
  ], devices);
}
