#!/usr/bin/env node
// Runs `crime bench mapping` on the shipped regimes of the three-tier example, one after the other,
// and prints the table docs/mapping-bench.md reports: per regime the objective, CRIME's live and
// simulated saving against each single device, its increase over the best fixed policy and over the
// live hindsight bound, the machine's load and the time taken.
//   node scripts/bench-mapping-table.mjs [--only low-rtt,high-rtt] [--json FILE]
// Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/cli/main.js`;
const REGIMES = [
  { name: 'low-rtt', topology: 'three-tier.yaml', local: 'low-rtt.local.yaml', load: 'low-rtt.yaml' },
  { name: 'intermediate', topology: 'three-tier.yaml', local: 'intermediate.local.yaml', load: 'intermediate.yaml' },
  { name: 'high-rtt', topology: 'three-tier.yaml', local: 'high-rtt.local.yaml', load: 'high-rtt.yaml' },
  { name: 'link-slowdown (energy)', topology: 'three-tier-energy.yaml', local: 'intermediate.local.yaml', load: 'link-slowdown.yaml' },
  { name: 'link-slowdown (latency)', topology: 'three-tier.yaml', local: 'intermediate.local.yaml', load: 'link-slowdown.yaml', extra: true },
];

const args = process.argv.slice(2);
let only = null;
let jsonFile = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only') only = args[++i].split(',');
  else if (args[i] === '--json') jsonFile = args[++i];
  else {
    console.error('usage: node scripts/bench-mapping-table.mjs [--only NAME,...] [--json FILE]');
    process.exit(2);
  }
}
const chosen = REGIMES.filter((r) => (only ? only.some((o) => r.name.startsWith(o)) : !r.extra));
const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const signed = (v, d = 1) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(d)}` : '-');
const cal = (o) => `${o.selfCalibrations} (${fmt(o.energyJ * 1000, 0)})`;
const started = Date.now();
const results = [];
console.log('| regime | objective | saving vs single devices, live / simulated (relative gap) | vs best fixed (which) | vs live hindsight bound | overhead client / serve / hop ms | CRIME entry self-calibrations live / sim (mJ outside requests) | load avg | s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of chosen) {
  const out = execFileSync(process.execPath, [
    cli, 'bench', 'mapping',
    '--topology', `${root}examples/topologies/${r.topology}`,
    '--local', `${root}examples/loads/${r.local}`,
    '--load', `${root}examples/loads/${r.load}`,
    '--json',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 });
  const res = JSON.parse(out);
  results.push({ regime: r.name, ...res });
  const savings = Object.entries(res.savings).map(([p, s]) => `${p} ${fmt(s.livePct)} / ${fmt(s.simPct)} % (${signed(s.relativeDiffPct)} %)`).join('; ');
  console.log(`| ${r.name} | ${res.objective} | ${savings} | ${signed(res.crimeVsBestFixedPct)} % (${res.bestFixed}) | ${signed(res.crimeVsHindsightPct)} % | ${fmt(res.overhead.requestMs)} / ${fmt(res.overhead.serveMs)} / ${fmt(res.overhead.hopMs)} | ${cal(res.crimeEntryOverhead.live)} / ${cal(res.crimeEntryOverhead.sim)} | ${fmt(res.loadAverage[0])}-${fmt(res.loadAverage[1])} | ${fmt(res.durationSec, 0)} |`);
}
console.log(`\n${chosen.length} regimes in ${fmt((Date.now() - started) / 1000, 0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores, shared)`);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(results));
