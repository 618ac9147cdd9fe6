import { Agent } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { sampleInput } from '../runtime/backends/input.js';
import type { ModelInput } from '../runtime/backends/types.js';
import { send } from '../runtime/http/request.js';
import { startCrime, startScript, stopChild, type StartedChild } from '../local/child.js';
import { generateModel } from '../runtime/models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { unixAddress } from '../runtime/http/unix-socket.js';
import { RuntimeClient, toJsonBody } from '../runtime/server/client.js';
import { quantile } from '../stats/quantile.js';

/** How the forwarder and the mapper reach the runtime (and the direct baseline the client does). */
export type HopTransport = 'tcp' | 'unix';
export const HOP_TRANSPORTS: readonly HopTransport[] = ['tcp', 'unix'];

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

export interface Quantiles {
  p50Ms: number;
  p99Ms: number;
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

function body(input: ModelInput, encoding: 'json' | 'binary'): { headers: Record<string, string>; bytes: Uint8Array } {
  if (encoding === 'json') return { headers: { 'content-type': 'application/json' }, bytes: Buffer.from(JSON.stringify(toJsonBody(input))) };
  const width = input.kind === 'floats' ? input.data.length / input.steps : 1;
  return {
    headers: {
      'content-type': 'application/octet-stream',
      'crime-shape': input.kind === 'floats' ? `${input.steps},${width}` : String(input.steps),
    },
    bytes: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength),
  };
}

interface Path {
  transport: HopTransport;
  kind: 'direct' | 'forward' | 'mapper';
  url: URL;
  socketPath?: string;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

function quantiles(xs: number[]): Quantiles {
  xs.sort((a, b) => a - b);
  return { p50Ms: round(quantile(xs, 0.5)), p99Ms: round(quantile(xs, 0.99)) };
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
  const agent = new Agent({ keepAlive: true });
  try {
    const spec = MODEL_PRESETS[options.preset];
    const { onnx } = await generateModel({ spec, formats: ['onnx'], outDir: dir });
    const maxSteps = Math.max(...options.steps);
    const socket = join(dir, 'runtime.sock');
    const runtime = await startCrime(['runtime', '--model', onnx as string, '--socket', socket, '--port', '0', '--max-steps', String(maxSteps), '--log-level', 'warn'], join(dir, 'runtime.log'));
    children.push(runtime);
    const runtimeAddress: Record<HopTransport, string> = { tcp: runtime.url, unix: unixAddress(socket) };
    const paths: Path[] = [];
    for (const transport of transports) {
      const config = join(dir, `mapper-${transport}.yaml`);
      await writeFile(config, stringify({ device: 'bench', listen: { port: 0 }, runtime: { url: runtimeAddress[transport] }, auth: { disabled: true } }));
      const mapper = await startCrime(['mapper', '--config', config, '--log-level', 'warn'], join(dir, `mapper-${transport}.log`));
      children.push(mapper);
      const forward = await startScript(fileURLToPath(new URL('./null-sidecar.js', import.meta.url)), [runtimeAddress[transport]], join(dir, `forward-${transport}.log`));
      children.push(forward);
      paths.push(
        transport === 'unix' ? { transport, kind: 'direct', url: new URL('/v1/infer', 'http://localhost'), socketPath: socket } : { transport, kind: 'direct', url: new URL('/v1/infer', runtime.url) },
        { transport, kind: 'forward', url: new URL('/v1/infer', forward.url) },
        { transport, kind: 'mapper', url: new URL('/v1/infer', mapper.url) },
      );
    }
    const client = new RuntimeClient({ baseUrl: runtime.url });
    const info = await client.model();
    client.close();
    const cases = (['json', 'binary'] as const).flatMap((encoding) => options.steps.map((steps) => ({ encoding, steps })));
    const rows: HopRow[] = [];
    const warmup = options.warmup ?? 30;
    const gap = 1000 / options.rate / paths.length;
    for (const [i, c] of cases.entries()) {
      const { headers, bytes } = body(sampleInput(info, c.steps), c.encoding);
      const time = async (p: Path): Promise<number> => {
        const t0 = performance.now();
        const res = await send({
          agent, method: 'POST', url: p.url, headers: { ...headers, accept: 'application/json' }, body: bytes, timeoutMs: 60_000, peer: `${p.kind} (${p.transport})`,
          ...(p.socketPath === undefined ? {} : { socketPath: p.socketPath }),
        });
        if (res.status !== 200) throw new Error(`${p.kind} (${p.transport}) answered HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        return performance.now() - t0;
      };
      const samples = paths.map(() => [] as number[]);
      for (let k = 0; k < warmup + options.count; k++) {
        // Every path once per round, starting one further each round: no path always follows the same one.
        for (let j = 0; j < paths.length; j++) {
          const at = (j + k) % paths.length;
          const ms = await time(paths[at] as Path);
          if (k >= warmup) samples[at]?.push(ms);
          await new Promise((r) => setTimeout(r, gap));
        }
        options.onProgress?.((i + (k + 1) / (warmup + options.count)) / cases.length, `${c.encoding} n=${c.steps}`);
      }
      for (const transport of transports) {
        const of = (kind: Path['kind']): Quantiles => quantiles(samples[paths.findIndex((p) => p.transport === transport && p.kind === kind)] ?? []);
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
    agent.destroy();
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
