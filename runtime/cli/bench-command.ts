import { parseArgs } from 'node:util';
import { EXIT_USAGE, type CliIo, type Command } from './cli.js';
import { progressBar } from './progress.js';

/** One `crime bench <name>` benchmark. */
interface Benchmark {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

const DECIDE_USAGE = `Usage: crime bench decide [--json] [--decisions N] [--candidates 2,4,8]

Times the mapping engine's per-request decision for 2, 4 and 8 candidates (local plus
neighbours), one call per sample, and the cost of learning from one compute time and one
offload reply. The baseline is the clock read alone, timed the same way in the same run.

Options:
  --json            print one JSON object instead of the table
  --decisions N     timed decisions per candidate count (default 200000, at least 100000 for
                    the published figures)
  --candidates L    comma-separated candidate counts (default 2,4,8)`;

const decide: Benchmark = {
  name: 'decide',
  summary: 'per-request decision overhead of the mapping engine',
  usage: DECIDE_USAGE,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, decisions: { type: 'string' }, candidates: { type: 'string' } },
      strict: true,
    });
    const decisions = Number(values.decisions ?? 200_000);
    const candidates = (values.candidates ?? '2,4,8').split(',').map(Number);
    if (!Number.isInteger(decisions) || decisions < 1000) throw new UsageError('--decisions must be an integer ≥ 1000');
    if (candidates.some((c) => !Number.isInteger(c) || c < 1 || c > 64)) throw new UsageError('--candidates must list integers in 1..64');
    const { benchDecide, formatDecideBench } = await import('../../bench/decide.js');
    const bar = progressBar(io.stderr);
    const result = benchDecide({ decisions, candidates, onProgress: (f, label) => bar.update(f, label) });
    bar.done();
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatDecideBench(result));
    return 0;
  },
};

class UsageError extends Error {}

const benchmarks: readonly Benchmark[] = [decide];

function usage(): string {
  const lines = benchmarks.map((b) => `  ${b.name.padEnd(8)}  ${b.summary}`);
  return `Usage: crime bench <benchmark> [options]\n\nBenchmarks (each prints its figures as ratios against a baseline measured in the same run):\n${lines.join('\n')}\n\nRun \`crime bench <benchmark> --help\` for its options.`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark (decide)',
  ownHelp: true,
  get usage() {
    return usage();
  },
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h') {
      io.stdout.write(`${usage()}\n`);
      return 0;
    }
    const bench = benchmarks.find((b) => b.name === name);
    if (!bench) {
      io.stderr.write(`crime bench: ${name === undefined ? 'which benchmark?' : `unknown benchmark "${name}"`}\n\n${usage()}\n`);
      return EXIT_USAGE;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${bench.usage}\n`);
      return 0;
    }
    try {
      return await bench.run(rest, io);
    } catch (err) {
      if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
        io.stderr.write(`crime bench ${bench.name}: ${(err as Error).message}\n\n${bench.usage}\n`);
        return EXIT_USAGE;
      }
      throw err;
    }
  },
};
