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
import { RuntimeClient, toJsonBody } from '../runtime/server/client.js';
import { quantile } from '../stats/quantile.js';

export interface HopBenchOptions {
  preset: ModelPresetName;
  steps: readonly number[];
  /** requests per second, per path; direct, forwarded and mapper requests take turns */
  rate: number;
  /** measured requests per path and case, after `warmup` */
  count: number;
  warmup?: number;
  onProgress?: (fraction: number, label: string) => void;
}

export interface HopRow {
  encoding: 'json' | 'binary';
  steps: number;
  direct: { p50Ms: number; p99Ms: number };
  /** through a do-nothing forwarding process: the floor for any sidecar */
  forward: { p50Ms: number; p99Ms: number };
  mapper: { p50Ms: number; p99Ms: number };
  /** what going through the mapper adds to a direct call */
  addedP50Ms: number;
  addedP99Ms: number;
  /** what the mapper adds beyond a do-nothing sidecar: the cost of mapping itself */
  mappingP50Ms: number;
}

export interface HopBenchReport {
  model: string;
  rate: number;
  count: number;
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

/**
 * `crime bench hop`: the latency a mapper adds in front of its runtime. A real `crime runtime` and
 * a real `crime mapper` run as separate processes; the same requests go to the runtime directly
 * (the baseline) and through the mapper, alternating, at a fixed rate on loopback.
 */
export async function runHopBench(options: HopBenchOptions): Promise<HopBenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-hop-'));
  const children: StartedChild[] = [];
  const agent = new Agent({ keepAlive: true });
  try {
    const spec = MODEL_PRESETS[options.preset];
    const { onnx } = await generateModel({ spec, formats: ['onnx'], outDir: dir });
    const maxSteps = Math.max(...options.steps);
    const runtime = await startCrime(['runtime', '--model', onnx as string, '--port', '0', '--max-steps', String(maxSteps), '--log-level', 'warn'], join(dir, 'runtime.log'));
    children.push(runtime);
    await writeFile(join(dir, 'mapper.yaml'), stringify({ device: 'bench', listen: { port: 0 }, runtime: { url: runtime.url }, auth: { disabled: true } }));
    const mapper = await startCrime(['mapper', '--config', join(dir, 'mapper.yaml'), '--log-level', 'warn'], join(dir, 'mapper.log'));
    children.push(mapper);
    const forward = await startScript(fileURLToPath(new URL('./null-sidecar.js', import.meta.url)), [runtime.url], join(dir, 'forward.log'));
    children.push(forward);
    const client = new RuntimeClient({ baseUrl: runtime.url });
    const info = await client.model();
    client.close();
    const cases = (['json', 'binary'] as const).flatMap((encoding) => options.steps.map((steps) => ({ encoding, steps })));
    const rows: HopRow[] = [];
    const warmup = options.warmup ?? 30;
    const gap = 1000 / options.rate / 3;
    for (const [i, c] of cases.entries()) {
      const { headers, bytes } = body(sampleInput(info, c.steps), c.encoding);
      const time = async (base: string): Promise<number> => {
        const t0 = performance.now();
        const res = await send({ agent, method: 'POST', url: new URL('/v1/infer', base), headers: { ...headers, accept: 'application/json' }, body: bytes, timeoutMs: 60_000, peer: base });
        if (res.status !== 200) throw new Error(`${base} answered HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        return performance.now() - t0;
      };
      const samples = { direct: [] as number[], forward: [] as number[], mapper: [] as number[] };
      for (let k = 0; k < warmup + options.count; k++) {
        for (const [path, url] of [['direct', runtime.url], ['forward', forward.url], ['mapper', mapper.url]] as const) {
          const ms = await time(url);
          if (k >= warmup) samples[path].push(ms);
          await new Promise((r) => setTimeout(r, gap));
        }
        options.onProgress?.((i + (k + 1) / (warmup + options.count)) / cases.length, `${c.encoding} n=${c.steps}`);
      }
      const round = (v: number): number => Math.round(v * 1000) / 1000;
      const stats = (xs: number[]): { p50Ms: number; p99Ms: number } => {
        xs.sort((a, b) => a - b);
        return { p50Ms: round(quantile(xs, 0.5)), p99Ms: round(quantile(xs, 0.99)) };
      };
      const direct = stats(samples.direct);
      const fwd = stats(samples.forward);
      const viaMapper = stats(samples.mapper);
      rows.push({
        ...c,
        direct,
        forward: fwd,
        mapper: viaMapper,
        addedP50Ms: round(viaMapper.p50Ms - direct.p50Ms),
        addedP99Ms: round(viaMapper.p99Ms - direct.p99Ms),
        mappingP50Ms: round(viaMapper.p50Ms - fwd.p50Ms),
      });
    }
    return { model: spec.name, rate: options.rate, count: options.count, rows };
  } finally {
    agent.destroy();
    await Promise.all(children.map((c) => stopChild(c.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatHopReport(r: HopBenchReport): string {
  const header = ['body', 'n', 'direct p50', 'p99', 'forward p50', 'p99', 'mapper p50', 'p99', 'added p50', 'p99', 'mapping p50'];
  const rows = r.rows.map((x) => [
    x.encoding,
    String(x.steps),
    ...[x.direct.p50Ms, x.direct.p99Ms, x.forward.p50Ms, x.forward.p99Ms, x.mapper.p50Ms, x.mapper.p99Ms, x.addedP50Ms, x.addedP99Ms, x.mappingP50Ms].map((v) => v.toFixed(3)),
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const table = all.map((row) => row.map((cell, c) => (c < 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return [
    `crime bench hop: ${r.model}, ${r.count} requests per path and case at ${r.rate}/s, loopback, ms`,
    'direct: to the runtime (the baseline); forward: through a do-nothing forwarding process (the floor',
    'for any sidecar); mapper: through crime mapper. added = mapper - direct; mapping = mapper - forward.',
    '',
    table,
    '',
    'Target for n = 10: added p50 <= 0.3 ms, added p99 <= 1.5 ms.',
    '',
  ].join('\n');
}
