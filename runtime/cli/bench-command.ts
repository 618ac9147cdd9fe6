import { parseArgs } from 'node:util';
import type { CliIo, Command } from './cli.js';
import { EXIT_USAGE } from './cli.js';
import { describeFailure, intOption, listOption, UsageError } from './options.js';

const inferUsage = `Usage: crime bench infer [--json] [--steps 10,100,500] [--backends LIST] [--model PRESET]
                         [--repeats N] [--budget-ms N] [--threads N]

Per-step batch-1 latency of a generated model (default cove2x300: 2-layer LSTM, 300/300) on each
backend, against raw onnxruntime-node on the same model in the same run (ratio column).
Targets: onnx-cpu, onnx-cuda, tfjs-node-gpu, tfjs-node, tfjs-wasm, tfjs-cpu; append /predict for the
generic tfjs-layers path, /http to go through the runtime server and RuntimeClient.
Default: ${'onnx-cpu,onnx-cpu/http,onnx-cuda,tfjs-node-gpu,tfjs-node,tfjs-wasm,tfjs-wasm/predict,tfjs-cpu'}
Unavailable backends are listed as skipped.
`;

const usage = `Usage: crime bench <benchmark> [options]

Benchmarks:
  infer    inference latency per backend vs raw onnxruntime-node

${inferUsage}`;

async function benchInfer(args: string[], io: CliIo): Promise<number> {
  let options;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args, strict: true,
      options: {
        json: { type: 'boolean' }, steps: { type: 'string' }, backends: { type: 'string' }, model: { type: 'string' },
        repeats: { type: 'string' }, 'budget-ms': { type: 'string' }, threads: { type: 'string' },
      },
    });
    const { isPresetName } = await import('../models/spec.js');
    const preset = values.model ?? 'cove2x300';
    if (!isPresetName(preset)) throw new UsageError(`--model must be a preset (cove2x300, imdb1x128, tiny2x24)`);
    json = values.json ?? false;
    const steps = listOption(values.steps)?.map((s) => intOption(s, 'steps', 0, 1));
    const targets = listOption(values.backends);
    options = {
      preset,
      ...(steps === undefined ? {} : { steps }),
      ...(targets === undefined ? {} : { targets }),
      repeats: intOption(values.repeats, 'repeats', 5, 1),
      budgetMs: intOption(values['budget-ms'], 'budget-ms', 2000, 0),
      threads: intOption(values.threads, 'threads', 1, 1),
      progress: (line: string) => void io.stderr.write(`${line}\n`),
    };
  } catch (err) {
    io.stderr.write(`crime bench infer: ${(err as Error).message}\n\n${inferUsage}`);
    return EXIT_USAGE;
  }
  try {
    const { runInferBench, formatInferReport } = await import('../../bench/infer-bench.js');
    const report = await runInferBench(options);
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatInferReport(report));
    return 0;
  } catch (err) {
    io.stderr.write(`crime bench infer: ${describeFailure(err)}\n`);
    return 1;
  }
}

/** Benchmarks by name; other benchmarks (e.g. the mapper hop) add an entry here. */
const benchmarks: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  infer: benchInfer,
};

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark (infer: backends vs raw onnxruntime)',
  usage,
  async run(args, io) {
    const [name, ...rest] = args;
    const bench = name === undefined ? undefined : benchmarks[name];
    if (bench === undefined) {
      io.stderr.write(`crime bench: ${name === undefined ? 'which benchmark?' : `unknown benchmark "${name}"`}\n\n${usage}`);
      return EXIT_USAGE;
    }
    return bench(rest, io);
  },
};
