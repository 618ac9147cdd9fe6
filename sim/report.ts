import type { SimResult, SweepPoint } from './run.js';

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function table(rows: string[][], rightAlign: (col: number) => boolean): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAlign(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** The comparison in the shape of the CRIME slides: reductions vs each single device, increase vs oracle. */
export function formatResult(r: SimResult): string {
  const devices = Object.keys(r.policies.crime?.served ?? {});
  const crime = r.policies.crime;
  const energy = r.objective === 'energy';
  const header = ['policy', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'energy mJ/req', 'failed', `served (${devices.join(' / ')})`, 'utilisation', 'busiest minute'];
  const rows = [header];
  for (const [name, p] of Object.entries(r.policies)) {
    rows.push([
      name,
      fmt(p.meanMs),
      fmt(p.p50Ms),
      fmt(p.p95Ms),
      fmt(p.p99Ms),
      fmt(p.meanEnergyJ * 1000, 3),
      String(p.failed),
      devices.map((d) => p.served[d] ?? 0).join(' / '),
      devices.map((d) => fmt(p.utilisation[d] ?? 0)).join(' / '),
      devices.map((d) => fmt(p.peakUtilisation[d] ?? 0)).join(' / '),
    ]);
  }
  const singles = Object.entries(r.crimeReductionPct).filter(([p]) => p.startsWith('only-'));
  const measure = energy ? 'end-node energy' : 'mean latency';
  const lines = [
    `${r.scenario}: ${r.requests} requests, objective ${r.objective}`,
    '',
    table(rows, (c) => c > 0 && c < 7),
    '',
    `CRIME reduction of ${measure} vs single-device policies: ${singles.map(([p, v]) => `${p.slice(5)} ${fmt(v)}%`).join(', ')}`,
    `CRIME reduction vs static thresholds: ${fmt(r.crimeReductionPct['static-threshold'] ?? Number.NaN)}%`,
    `CRIME increase vs oracle (greedy, perfect current information; not a bound): ${fmt(r.crimeVsOraclePct, 3)}%`,
    `CRIME increase vs hindsight (greedy, also knows each request's real compute and link times): ${fmt(r.crimeVsHindsightPct, 3)}%`,
    `utilisation: each device's busy time over the ${fmt(r.spanSec, 0)} s requests arrived in (above 1 it could not keep up), and in its busiest minute (near 1: saturated for a while)`,
    `CRIME overheads: ${crime?.pings ?? 0} pings, ${crime?.selfCalibrations ?? 0} self-calibration runs taking ${devices.map((d) => `${fmt(100 * (crime?.selfCalibrationShare[d] ?? 0), 3)}%`).join(' / ')} of device time, ${fmt(1000 * (crime?.overheadEnergyJ ?? 0) / Math.max(1, r.requests), 3)} mJ/req of end-node energy (counted in its totals)`,
    `static thresholds (tuned on the first 10%): ${r.staticThresholds.map((t) => `${t.fromSteps}-${t.toSteps} steps -> ${t.device}`).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}

export function formatSweep(name: string, link: string, points: readonly SweepPoint[]): string {
  const first = points[0];
  if (!first) return '';
  const singles = Object.keys(first.crimeReductionPct).filter((p) => p.startsWith('only-'));
  const unit = first.objective === 'energy' ? 'mJ' : 'ms';
  const cost = (p: SweepPoint, policy: string): number =>
    first.objective === 'energy' ? (p.policies[policy]?.meanEnergyJ ?? Number.NaN) * 1000 : (p.policies[policy]?.meanMs ?? Number.NaN);
  const header = [`${link} RTT ms`, `crime ${unit}`, `oracle ${unit}`, ...singles.map((s) => `${s} ${unit}`), ...singles.map((s) => `saving vs ${s.slice(5)}`), 'vs oracle', 'vs hindsight'];
  const rows = [header];
  for (const p of points) {
    rows.push([
      fmt(p.rttMs, 1),
      fmt(cost(p, 'crime')),
      fmt(cost(p, 'oracle')),
      ...singles.map((s) => fmt(cost(p, s))),
      ...singles.map((s) => `${fmt(p.crimeReductionPct[s] ?? Number.NaN, 1)}%`),
      `${fmt(p.crimeVsOraclePct, 3)}%`,
      `${fmt(p.crimeVsHindsightPct, 3)}%`,
    ]);
  }
  return `${name}: sweep of ${link} RTT, ${first.requests} requests per point, objective ${first.objective}\n\n${table(rows, () => true)}\n`;
}
