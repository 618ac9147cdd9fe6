import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startCrime, startScript, stopChild, type StartedChild } from '../local/child.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { directPath, HOP_TRANSPORTS, measurePaths, quantiles, ratio, round, startHopRuntime, type HopPath, type HopTransport, type Quantiles } from './hop-harness.js';

export { HOP_TRANSPORTS, type HopTransport, type Quantiles } from './hop-harness.js';

/**
 * The target: at n = TARGET.steps, what the mapper adds (mapper - direct, p50) is at most
 * TARGET.maxRatio times what a do-nothing forwarder adds on the same transport in the same run.
 */
export const HOP_TARGET = { steps: 10, maxRatio: 1.2 } as const;

export interface HopBenchOptions {
  preset: ModelPresetName;
  steps: readonly number[];
  /** transports to measure, alternating within every case (default both) */
  transports?: readonly HopTransport[];
  /** requests per second, per path; every path of every transport takes its turn */
  rate: number;
  /** measured requests per path and case, after `warmup` */
  count: number;
  warmup?: number;
  onProgress?: (fraction: number, label: string) => void;
}

export interface HopRow {
  transport: HopTransport;
  encoding: 'json' | 'binary';
  steps: number;
  /** the client to the runtime, over `transport` */
  direct: Quantiles;
  /** through a do-nothing forwarding process (TCP in, `transport` to the runtime): the floor for any sidecar */
  forward: Quantiles;
  /** through crime mapper (TCP in, `transport` to the runtime) */
  mapper: Quantiles;
  /** what going through the mapper adds to a direct call: mapper - direct */
  addedP50Ms: number;
  addedP99Ms: number;
  /** what going through the forwarder adds: forward - direct */
  forwardAddedP50Ms: number;
  forwardAddedP99Ms: number;
  /** what the mapper adds beyond a do-nothing sidecar: the cost of mapping itself */
  mappingP50Ms: number;
  /** added / forwardAdded: the mapper against the floor on the same transport (the target's measure at p50) */
  ratioP50: number;
  ratioP99: number;
}

export interface HopBenchReport {
  model: string;
  rate: number;
  count: number;
  transports: HopTransport[];
  target: { steps: number; maxRatio: number; description: string };
  rows: HopRow[];
}

/**
 * `crime bench hop`: the latency a mapper adds in front of its runtime. One real `crime runtime`
 * listening on TCP and on a Unix socket; per transport a real `crime mapper` and a do-nothing
 * forwarder reaching it that way, all separate processes. The same requests go to the runtime
 * directly (the baseline), through the forwarder and through the mapper, every path of every
 * transport in turn (the order rotating), at a fixed rate, on loopback.
 */
export async function runHopBench(options: HopBenchOptions): Promise<HopBenchReport> {
  const transports = [...(options.transports ?? HOP_TRANSPORTS)];
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-hop-'));
  const children: StartedChild[] = [];
  try {
    const spec = MODEL_PRESETS[options.preset];
    const runtime = await startHopRuntime(dir, options.preset, Math.max(...options.steps));
    children.push(runtime.child);
    const paths: HopPath[] = [];
    for (const transport of transports) {
      const config = join(dir, `mapper-${transport}.yaml`);
      await writeFile(config, stringify({ device: 'bench', listen: { port: 0 }, runtime: { url: runtime.address[transport] }, auth: { disabled: true } }));
      const mapper = await startCrime(['mapper', '--config', config, '--log-level', 'warn'], join(dir, `mapper-${transport}.log`));
      children.push(mapper);
      const forward = await startScript(fileURLToPath(new URL('./null-sidecar.js', import.meta.url)), [runtime.address[transport]], join(dir, `forward-${transport}.log`));
      children.push(forward);
      paths.push(directPath(runtime, transport), { transport, kind: 'forward', url: new URL('/v1/infer', forward.url) }, { transport, kind: 'mapper', url: new URL('/v1/infer', mapper.url) });
    }
    const cases = (['json', 'binary'] as const).flatMap((encoding) => options.steps.map((steps) => ({ encoding, steps })));
    const measured = await measurePaths({
      paths, cases, info: runtime.info, rate: options.rate, count: options.count, warmup: options.warmup ?? 30, ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const rows: HopRow[] = [];
    for (const [i, c] of cases.entries()) {
      const samples = measured[i]?.latencies ?? [];
      for (const transport of transports) {
        const of = (kind: string): Quantiles => quantiles(samples[paths.findIndex((p) => p.transport === transport && p.kind === kind)] ?? []);
        const direct = of('direct');
        const forward = of('forward');
        const mapper = of('mapper');
        const added = { p50: round(mapper.p50Ms - direct.p50Ms), p99: round(mapper.p99Ms - direct.p99Ms) };
        const floor = { p50: round(forward.p50Ms - direct.p50Ms), p99: round(forward.p99Ms - direct.p99Ms) };
        rows.push({
          transport,
          ...c,
          direct,
          forward,
          mapper,
          addedP50Ms: added.p50,
          addedP99Ms: added.p99,
          forwardAddedP50Ms: floor.p50,
          forwardAddedP99Ms: floor.p99,
          mappingP50Ms: round(mapper.p50Ms - forward.p50Ms),
          ratioP50: ratio(added.p50, floor.p50),
          ratioP99: ratio(added.p99, floor.p99),
        });
      }
    }
    return {
      model: spec.name,
      rate: options.rate,
      count: options.count,
      transports,
      target: {
        ...HOP_TARGET,
        description: `at n = ${HOP_TARGET.steps}, the mapper adds at most ${HOP_TARGET.maxRatio}x what the null forwarder adds on the same transport (p50, same run)`,
      },
      rows,
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether a row at the target's length meets it; undefined for other lengths. */
export function meetsHopTarget(row: HopRow): boolean | undefined {
  if (row.steps !== HOP_TARGET.steps) return undefined;
  return row.ratioP50 <= HOP_TARGET.maxRatio;
}

export function formatHopReport(r: HopBenchReport): string {
  const header = ['transport', 'body', 'n', 'direct p50', 'p99', 'forward p50', 'p99', 'mapper p50', 'p99', 'added p50', 'p99', 'fwd added p50', 'p99', 'ratio p50', 'p99', 'target'];
  const rows = r.rows.map((x) => {
    const meets = meetsHopTarget(x);
    return [
      x.transport,
      x.encoding,
      String(x.steps),
      ...[x.direct.p50Ms, x.direct.p99Ms, x.forward.p50Ms, x.forward.p99Ms, x.mapper.p50Ms, x.mapper.p99Ms, x.addedP50Ms, x.addedP99Ms, x.forwardAddedP50Ms, x.forwardAddedP99Ms].map((v) => v.toFixed(3)),
      ...[x.ratioP50, x.ratioP99].map((v) => (Number.isFinite(v) ? v.toFixed(2) : '-')),
      meets === undefined ? '' : meets ? 'met' : 'MISSED',
    ];
  });
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const table = all.map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return [
    `crime bench hop: ${r.model}, ${r.count} requests per path and case at ${r.rate}/s per path, loopback, ms`,
    'direct: the client to the runtime over the transport (the baseline); forward: through a do-nothing',
    'forwarding process (the floor for any sidecar); mapper: through crime mapper. Both take requests',
    'over TCP and reach the runtime over the transport (tcp: 127.0.0.1; unix: a Unix socket, as in a pod).',
    'added = mapper - direct; fwd added = forward - direct; ratio = added / fwd added.',
    '',
    table,
    '',
    `Target: ${r.target.description}.`,
    `The earlier absolute target (n = ${HOP_TARGET.steps}: added p50 <= 0.3 ms, p99 <= 1.5 ms) is below what any extra process costs here: see fwd added.`,
    '',
  ].join('\n');
}
