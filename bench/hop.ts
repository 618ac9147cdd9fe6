import { Agent } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sampleInput } from '../runtime/backends/input.js';
import type { ModelInput } from '../runtime/backends/types.js';
import { send } from '../runtime/http/request.js';
import { startCrime, stopChild, type StartedChild } from '../runtime/local/child.js';
import { generateModel } from '../runtime/models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { RuntimeClient, toJsonBody } from '../runtime/server/client.js';
import { quantile } from '../runtime/sim/metrics.js';

export interface HopBenchOptions {
  preset: ModelPresetName;
  steps: readonly number[];
  /** requests per second, per path; direct and mapper requests alternate */
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
  mapper: { p50Ms: number; p99Ms: number };
  /** what going through the mapper adds */
  addedP50Ms: number;
  addedP99Ms: number;
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
    await writeFile(join(dir, 'mapper.yaml'), stringify({ device: 'bench', listen: { port: 0 }, runtime: { url: runtime.url } }));
    const mapper = await startCrime(['mapper', '--config', join(dir, 'mapper.yaml'), '--log-level', 'warn'], join(dir, 'mapper.log'));
    children.push(mapper);
    const client = new RuntimeClient({ baseUrl: runtime.url });
    const info = await client.model();
    client.close();
    const cases = (['json', 'binary'] as const).flatMap((encoding) => options.steps.map((steps) => ({ encoding, steps })));
    const rows: HopRow[] = [];
    const warmup = options.warmup ?? 30;
    const gap = 1000 / options.rate / 2;
    for (const [i, c] of cases.entries()) {
      const { headers, bytes } = body(sampleInput(info, c.steps), c.encoding);
      const time = async (base: string): Promise<number> => {
        const t0 = performance.now();
        const res = await send({ agent, method: 'POST', url: new URL('/v1/infer', base), headers: { ...headers, accept: 'application/json' }, body: bytes, timeoutMs: 60_000, peer: base });
        if (res.status !== 200) throw new Error(`${base} answered HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        return performance.now() - t0;
      };
      const direct: number[] = [];
      const viaMapper: number[] = [];
      for (let k = 0; k < warmup + options.count; k++) {
        const d = await time(runtime.url);
        await new Promise((r) => setTimeout(r, gap));
        const m = await time(mapper.url);
        await new Promise((r) => setTimeout(r, gap));
        if (k >= warmup) {
          direct.push(d);
          viaMapper.push(m);
        }
        options.onProgress?.((i + (k + 1) / (warmup + options.count)) / cases.length, `${c.encoding} n=${c.steps}`);
      }
      direct.sort((a, b) => a - b);
      viaMapper.sort((a, b) => a - b);
      const p = (xs: number[], q: number): number => Math.round(quantile(xs, q) * 1000) / 1000;
      const row: HopRow = {
        ...c,
        direct: { p50Ms: p(direct, 0.5), p99Ms: p(direct, 0.99) },
        mapper: { p50Ms: p(viaMapper, 0.5), p99Ms: p(viaMapper, 0.99) },
        addedP50Ms: 0,
        addedP99Ms: 0,
      };
      row.addedP50Ms = Math.round((row.mapper.p50Ms - row.direct.p50Ms) * 1000) / 1000;
      row.addedP99Ms = Math.round((row.mapper.p99Ms - row.direct.p99Ms) * 1000) / 1000;
      rows.push(row);
    }
    return { model: spec.name, rate: options.rate, count: options.count, rows };
  } finally {
    agent.destroy();
    await Promise.all(children.map((c) => stopChild(c.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatHopReport(r: HopBenchReport): string {
  const header = ['body', 'n', 'runtime p50', 'runtime p99', 'mapper p50', 'mapper p99', 'added p50', 'added p99'];
  const rows = r.rows.map((x) => [
    x.encoding,
    String(x.steps),
    x.direct.p50Ms.toFixed(3),
    x.direct.p99Ms.toFixed(3),
    x.mapper.p50Ms.toFixed(3),
    x.mapper.p99Ms.toFixed(3),
    x.addedP50Ms.toFixed(3),
    x.addedP99Ms.toFixed(3),
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const table = all.map((row) => row.map((cell, c) => (c < 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return `crime bench hop: ${r.model}, ${r.count} requests per path and case at ${r.rate}/s, loopback, ms\n(baseline: the same requests sent to the runtime directly, alternating with the mapper)\n\n${table}\n\nTarget for n = 10: added p50 <= 0.3 ms, added p99 <= 1.5 ms.\n`;
}
