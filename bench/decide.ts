import { MappingEngine } from '../runtime/engine/engine.js';
import { Random } from '../stats/random.js';
import { bandwidthToMsPerByte, type Advertisement } from '../runtime/engine/types.js';
import { percentiles, timeCalls, type Percentiles } from './stats.js';
import { CALIBRATION_STEPS, MAPPING_DEFAULTS } from '../runtime/defaults.js';

export interface DecideBenchOptions {
  /** decisions timed per candidate count */
  decisions: number;
  candidates: readonly number[];
  onProgress?: (fraction: number, label: string) => void;
}

export interface DecideBenchResult {
  decisions: number;
  /** the clock read alone, timed the same way: what every figure below includes */
  baseline: Percentiles;
  decide: Array<{ candidates: number } & Percentiles & { medianVsBaseline: number }>;
  update: {
    /** one local compute time learned (RLS update) */
    compute: Percentiles;
    /** one offload reply learned (link RLS update and the neighbour's advertisement) */
    offload: Percentiles;
    /** this device's own advertisement, as sent in every reply */
    advertise: Percentiles;
  };
}

const PAYLOAD = { stepBytes: 1200, outputBytes: 8 };

/** A device with `candidates − 1` warmed-up neighbours, each advertising a two-piece curve. */
function engineWith(candidates: number, rnd: Random): { engine: MappingEngine; tick: () => void } {
  let now = 0;
  const names = Array.from({ length: candidates - 1 }, (_, i) => `nb-${i}`);
  const engine = new MappingEngine({
    device: 'bench',
    neighbours: names.map((name) => ({ name })),
    objective: 'latency',
    payload: PAYLOAD,
    maxSteps: 2000,
    forgetting: MAPPING_DEFAULTS.forgetting,
    pingIdleMs: MAPPING_DEFAULTS.pingIdleSeconds * 1000,
    clock: () => now,
  });
  for (const n of CALIBRATION_STEPS) engine.observeCompute(n, 3 * n + 2);
  const adverts = names.map(
    (_, i): Advertisement => ({
      local: { slope: 0.4 + 0.1 * i, intercept: 3 },
      queueMs: rnd.uniform(0, 20),
      remote: [
        { slope: 0.2, intercept: 40 + i },
        { slope: 0.05, intercept: 90 + i },
      ],
    }),
  );
  for (let round = 0; round < 2; round++) {
    for (const ping of engine.duePings()) {
      const i = names.indexOf(ping.name);
      engine.pingSent(ping.name);
      const rtt = 5 + 10 * i;
      engine.pingResult(ping.name, {
        roundTripMs: rtt + (ping.bytes + 256) * bandwidthToMsPerByte(50),
        calleeElapsedMs: 0.05,
        bytes: ping.bytes,
        advertisement: adverts[i] as Advertisement,
      });
    }
  }
  return { engine, tick: () => void (now += 0.01) };
}

/** `crime bench decide`: the per-request cost of the mapping engine. */
export function benchDecide(options: DecideBenchOptions): DecideBenchResult {
  const rnd = new Random(42);
  const lengths = Int32Array.from({ length: 4096 }, () => rnd.int(1, 400));
  const warmup = Math.min(50_000, options.decisions);
  const total = options.candidates.length + 4;
  let step = 0;
  const progress = (label: string): void => options.onProgress?.(step++ / total, label);

  progress('baseline');
  let sink = 0;
  const baseline = percentiles(timeCalls(options.decisions, warmup, (i) => void (sink += i)));
  const decide = options.candidates.map((candidates) => {
    progress(`${candidates} candidates`);
    const { engine, tick } = engineWith(candidates, rnd);
    const p = percentiles(
      timeCalls(options.decisions, warmup, (i) => {
        tick();
        sink += engine.decide(lengths[i & 4095] as number).ranked.length;
      }),
    );
    return { candidates, ...p, medianVsBaseline: Math.round((p.medianNs / Math.max(1, baseline.medianNs)) * 10) / 10 };
  });

  const updates = Math.max(10_000, Math.floor(options.decisions / 4));
  const { engine, tick } = engineWith(4, rnd);
  progress('compute update');
  const compute = percentiles(
    timeCalls(updates, warmup, (i) => {
      const n = lengths[i & 4095] as number;
      engine.observeCompute(n, (3 * n + 2) * (1 + 0.05 * Math.sin(i)));
    }),
  );
  progress('offload update');
  const reply: Advertisement = { local: { slope: 0.4, intercept: 3 }, queueMs: 2, remote: [{ slope: 0.05, intercept: 90 }] };
  const offload = percentiles(
    timeCalls(updates, warmup, (i) => {
      tick();
      const n = lengths[i & 4095] as number;
      const ticket = engine.startOffload('nb-0', n);
      engine.finishOffload(ticket, { roundTripMs: 5 + n * 0.19 + 0.4 * n + 3, calleeElapsedMs: 0.4 * n + 3, advertisement: reply });
    }),
  );
  progress('advertise');
  const advertise = percentiles(timeCalls(updates, warmup, () => void (sink += engine.advertise().remote.length)));
  if (sink === -1) console.log(sink); // keeps the timed work from being optimised away
  return { decisions: options.decisions, baseline, decide, update: { compute, offload, advertise } };
}

export function formatDecideBench(r: DecideBenchResult): string {
  const rows = [
    ['what', 'median ns', 'p99 ns', 'mean ns', 'median vs baseline'],
    ['baseline: clock read only', String(r.baseline.medianNs), String(r.baseline.p99Ns), String(r.baseline.meanNs), '1.0x'],
    ...r.decide.map((d) => [`decide, ${d.candidates} candidates`, String(d.medianNs), String(d.p99Ns), String(d.meanNs), `${d.medianVsBaseline}x`]),
    ['learn a compute time', String(r.update.compute.medianNs), String(r.update.compute.p99Ns), String(r.update.compute.meanNs), ''],
    ['learn an offload reply', String(r.update.offload.medianNs), String(r.update.offload.p99Ns), String(r.update.offload.meanNs), ''],
    ['advertise (every reply)', String(r.update.advertise.medianNs), String(r.update.advertise.p99Ns), String(r.update.advertise.meanNs), ''],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const table = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return `crime bench decide: ${r.decisions} timed decisions per row (Node ${process.version}, one call per sample)\n\n${table}\n\nTarget for 4 candidates: median <= 2000 ns, p99 <= 20000 ns.\n`;
}
