#!/usr/bin/env node
// Runs scenario files over several seeds and prints, per run, CRIME's gap to the oracle and to the
// hindsight reference, its saving against the best single device and the static thresholds, the
// busiest minute of any device under any policy, and the largest share of a device's time CRIME
// spent on self-calibration: the numbers docs/scenarios.md reports.
//   node scripts/sim-seeds.mjs [--seeds 1,2,3,4,5] [--rate-scale 0.1] FILE.yaml...
// Needs `npm run build` first. Seeds replace the file's own seed (sweeps report their worst point).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const { parseScenario } = await import(new URL('../dist/sim/scenario.js', import.meta.url).href);
const { runScenario, runSweep } = await import(new URL('../dist/sim/run.js', import.meta.url).href);

const args = process.argv.slice(2);
let seeds = null;
let rateScale = 1;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seeds') seeds = args[++i].split(',').map(Number);
  else if (args[i] === '--rate-scale') rateScale = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: node scripts/sim-seeds.mjs [--seeds 1,2,3] [--rate-scale F] FILE.yaml...');
  process.exit(2);
}

const fmt = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const row = (cells) => console.log(cells.map((c, i) => (i === 0 ? String(c).padEnd(34) : String(c).padStart(9))).join(' '));
row(['scenario', 'seed', 'vsOracle', 'vsHindsi', 'bestOnly', 'vsBest%', 'vsStatic%', 'peakUtil', 'selfCal%']);
for (const file of files) {
  const base = parseScenario(readFileSync(file, 'utf8'));
  for (const seed of seeds ?? [base.seed]) {
    let s = { ...base, seed };
    if (rateScale !== 1 && s.arrival.type === 'poisson') s = { ...s, arrival: { ...s.arrival, ratePerSec: s.arrival.ratePerSec * rateScale } };
    const results = s.sweep ? runSweep(s).points : [runScenario(s).result];
    for (const r of results) {
      const singles = Object.entries(r.crimeReductionPct).filter(([p]) => p.startsWith('only-'));
      const [best, saving] = singles.reduce((a, b) => (b[1] < a[1] ? b : a));
      const util = Math.max(...Object.values(r.policies).flatMap((p) => Object.values(p.peakUtilisation ?? {})));
      const selfCal = Math.max(0, ...Object.values(r.policies.crime?.selfCalibrationShare ?? {})) * 100;
      const label = basename(file, '.yaml') + (r.rttMs !== undefined ? ` @${r.rttMs}ms` : '');
      row([label, seed, fmt(r.crimeVsOraclePct, 3), fmt(r.crimeVsHindsightPct ?? Number.NaN, 3), best.slice(5), fmt(saving), fmt(r.crimeReductionPct['static-threshold']), fmt(util), fmt(selfCal, 3)]);
    }
  }
}
