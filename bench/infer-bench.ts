/**
 * Inference benchmark: batch-1 latency per sequence length of one generated model on each backend,
 * measured through the Backend interface (and optionally through the runtime's HTTP server), against
 * raw onnxruntime-node on the same ONNX file in the same run. Baseline and candidate runs alternate so
 * that background load hits both alike; medians, not means.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleInput } from '../runtime/backends/input.js';
import { loadOrt, sessionOptions } from '../runtime/backends/onnx.js';
import { createBackend } from '../runtime/backends/select.js';
import type { ConcreteBackendName, ModelInput } from '../runtime/backends/types.js';
import { CrimeError } from '../runtime/errors.js';
import { generateModel } from '../runtime/models/generate.js';
import { SEQ_LENS_INPUT } from '../runtime/models/onnx-writer.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { RuntimeClient } from '../runtime/server/client.js';
import { startRuntimeServer } from '../runtime/server/server.js';

/** A backend name, optionally with "/predict" (tfjs generic path) or "/http" (through the server). */
export type BenchTarget = string;

export const DEFAULT_TARGETS: readonly BenchTarget[] = [
  'onnx-cpu', 'onnx-cpu/http', 'onnx-cuda', 'tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-wasm/predict', 'tfjs-cpu',
];

export interface InferBenchOptions {
  preset?: ModelPresetName;
  steps?: readonly number[];
  targets?: readonly BenchTarget[];
  /** Minimum measured runs per cell. */
  repeats?: number;
  /** Time budget per cell; runs continue until both repeats and budget are reached (capped at 200). */
  budgetMs?: number;
  /** onnxruntime intra-op threads, for the runtime and the baseline alike. */
  threads?: number;
  progress?: (line: string) => void;
}

export interface BenchRow {
  target: BenchTarget;
  backend: ConcreteBackendName;
  steps: number;
  runs: number;
  medianMs: number;
  perStepUs: number;
  baselineMedianMs: number;
  baselinePerStepUs: number;
  /** candidate median / raw onnxruntime median. */
  ratio: number;
}

export interface InferBenchReport {
  model: string;
  threads: number;
  cpus: number;
  node: string;
  rows: BenchRow[];
  skipped: { target: BenchTarget; reason: string }[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

interface Runner {
  run(input: ModelInput): Promise<void>;
  close(): Promise<void>;
}

function parseTarget(target: BenchTarget): { backend: ConcreteBackendName; variant: 'direct' | 'predict' | 'http' } {
  const [name, variant = 'direct'] = target.split('/');
  const backends: readonly string[] = ['onnx-cpu', 'onnx-cuda', 'tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'];
  if (name === undefined || !backends.includes(name) || !['direct', 'predict', 'http'].includes(variant)) {
    throw new CrimeError('INVALID_INPUT', `unknown benchmark target "${target}"`);
  }
  return { backend: name as ConcreteBackendName, variant: variant as 'direct' | 'predict' | 'http' };
}

async function openRunner(target: BenchTarget, paths: { onnx: string; tfjs: string }, threads: number, maxSteps: number): Promise<Runner> {
  const { backend, variant } = parseTarget(target);
  const location = backend.startsWith('onnx') ? paths.onnx : paths.tfjs;
  if (variant === 'http') {
    const server = await startRuntimeServer({ model: { location, backend, threads }, maxSteps, defaultMetrics: false });
    try {
      await server.ready;
    } catch (err) {
      await server.close();
      throw err;
    }
    const client = new RuntimeClient({ baseUrl: server.url });
    return {
      run: async (input) => void (await client.infer(input)),
      close: async () => {
        client.close();
        await server.close();
      },
    };
  }
  const b = await createBackend({ location, backend, threads, ...(variant === 'predict' ? { tfjsLstmPath: 'predict' as const } : {}) });
  return { run: async (input) => void (await b.infer(input)), close: () => b.dispose() };
}

export async function runInferBench(options: InferBenchOptions = {}): Promise<InferBenchReport> {
  const preset = options.preset ?? 'cove2x300';
  const spec = MODEL_PRESETS[preset];
  const steps = options.steps ?? [10, 100, 500];
  const threads = options.threads ?? 1;
  const repeats = options.repeats ?? 5;
  const budgetMs = options.budgetMs ?? 2000;
  const progress = options.progress ?? ((): void => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-'));
  const report: InferBenchReport = { model: preset, threads, cpus: cpus().length, node: process.version, rows: [], skipped: [] };
  try {
    const generated = await generateModel({ spec, formats: ['onnx', 'tfjs'], outDir: dir });
    const paths = { onnx: generated.onnx ?? '', tfjs: generated.tfjs ?? '' };
    const ort = await loadOrt();
    const raw = await ort.InferenceSession.create(paths.onnx, sessionOptions('cpu', threads));
    const inputName = raw.inputNames[0] ?? 'x';
    // The generated model takes each sequence's length too (a dynamic batch): a batch of one here.
    const lengths = raw.inputNames.includes(SEQ_LENS_INPUT);
    const baseline = async (input: ModelInput): Promise<void> => {
      const tensor = input.kind === 'floats'
        ? new ort.Tensor('float32', input.data, [input.steps, 1, spec.featureSize])
        : new ort.Tensor('int32', input.data, [input.steps, 1]);
      await raw.run({ [inputName]: tensor, ...(lengths ? { [SEQ_LENS_INPUT]: new ort.Tensor('int32', Int32Array.of(input.steps), [1]) } : {}) });
    };
    const maxSteps = Math.max(...steps);
    for (const target of options.targets ?? DEFAULT_TARGETS) {
      let runner: Runner;
      try {
        runner = await openRunner(target, paths, threads, maxSteps);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        report.skipped.push({ target, reason });
        progress(`skip ${target}: ${reason}`);
        continue;
      }
      try {
        for (const n of steps) {
          const input = sampleInput({ ...spec }, n);
          for (let k = 0; k < 2; k++) {
            await baseline(input);
            await runner.run(input);
          }
          const base: number[] = [];
          const cand: number[] = [];
          const started = performance.now();
          while (cand.length < repeats || (performance.now() - started < budgetMs && cand.length < 200)) {
            let t = performance.now();
            await baseline(input);
            base.push(performance.now() - t);
            t = performance.now();
            await runner.run(input);
            cand.push(performance.now() - t);
          }
          const medianMs = median(cand);
          const baselineMedianMs = median(base);
          const row: BenchRow = {
            target, backend: parseTarget(target).backend, steps: n, runs: cand.length,
            medianMs, perStepUs: (medianMs / n) * 1000,
            baselineMedianMs, baselinePerStepUs: (baselineMedianMs / n) * 1000,
            ratio: medianMs / baselineMedianMs,
          };
          report.rows.push(row);
          progress(`${target} n=${n}: ${row.perStepUs.toFixed(1)} µs/step, ${row.ratio.toFixed(2)}× raw onnxruntime`);
        }
      } finally {
        await runner.close();
      }
    }
    await raw.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return report;
}

/** The ≤ 1.2× target applies to the runtime's ONNX path through the Backend interface. */
function isDirectOnnx(target: BenchTarget): boolean {
  return target === 'onnx-cpu' || target === 'onnx-cuda';
}

/** The report as an aligned text table, with the ≤ 1.2× check for the ONNX paths. */
export function formatInferReport(report: InferBenchReport): string {
  const header = ['target', 'n', 'runs', 'median ms', 'µs/step', 'raw ort µs/step', 'ratio'];
  const body = report.rows.map((r) => [
    r.target, String(r.steps), String(r.runs), r.medianMs.toFixed(3), r.perStepUs.toFixed(1), r.baselinePerStepUs.toFixed(1),
    `${r.ratio.toFixed(2)}×${isDirectOnnx(r.target) ? (r.ratio <= 1.2 ? ' (target ≤1.2: ok)' : ' (target ≤1.2: over)') : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    `model ${report.model} (batch 1), onnxruntime threads ${report.threads}, ${report.cpus} CPUs, node ${report.node}`,
    'baseline: raw onnxruntime-node InferenceSession on the same ONNX file, runs interleaved with each target;',
    '/http rows include a loopback HTTP round trip with client and server in this one process',
    '',
    line(header),
    ...body.map(line),
  ];
  if (report.skipped.length > 0) {
    out.push('', 'skipped:');
    for (const s of report.skipped) out.push(`  ${s.target}: ${s.reason}`);
  }
  return `${out.join('\n')}\n`;
}
