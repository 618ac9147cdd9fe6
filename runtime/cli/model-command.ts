import { accessSync, constants, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FetchModelOptions } from '../models/fetch.js';
import type { CliIo, Command } from './cli.js';
import { EXIT_USAGE } from './cli.js';
import { describeFailure, intOption, listOption, UsageError } from './options.js';

const usage = `Usage: crime model generate --preset NAME --out DIR [--format onnx,tfjs] [--seed N]
       crime model fetch --uri URI --out FILE [--sha256 HEX] [--format onnx|tfjs]
                         [--max-bytes SIZE] [--timeout SECONDS] [--termination-log FILE]

generate writes a generated LSTM model with deterministic weights: DIR/NAME.onnx (ONNX, opset 13)
and/or DIR/NAME.tfjs/model.json + weight shards (tfjs LayersModel). Both formats compute the same
function.

Presets:
  cove2x300   2-layer LSTM, 300 inputs / 300 hidden (CoVe-like), floats, 3 outputs (~5.8 MB)
  imdb1x128   embedding (vocabulary 1000, width 128) + 1-layer LSTM 128, tokens, 2 outputs (~1 MB)
  tiny2x24    2-layer LSTM, 16 inputs / 24 hidden, floats, 4 outputs (tests)

fetch puts the model an RnnTopology names into FILE, as the operator's init container does:
  URI                   http(s)://..., file:///... or a local path (pvc:// is mounted, not fetched)
  --sha256 HEX          refuse a file with another SHA-256 (for tfjs: of model.json)
  --format              tfjs fetches model.json and its weight shards beside FILE
                        (default: tfjs when the URI ends in .json, else onnx)
  --max-bytes SIZE      refuse more than SIZE in total, e.g. 512Mi (default 2Gi)
  --timeout SECONDS     fail when no data arrives for this long (default 60)
  --termination-log F   where the one-line reason of a failure goes (default /dev/termination-log
                        when it exists and is writable; "" for none)
Files appear only complete and verified. Exit 0 fetched, 1 failed, 2 bad usage (or a pvc:// URI).
`;

export const modelCommand: Command = {
  name: 'model',
  summary: 'generate the demo/test LSTM models (ONNX and tfjs), or fetch a model for a device',
  usage,
  async run(args, io) {
    if (args[0] === 'fetch') return fetchCommand(args.slice(1), io);
    return generateCommand(args, io);
  },
};

async function generateCommand(args: string[], io: CliIo): Promise<number> {
  const { MODEL_PRESETS, isPresetName } = await import('../models/spec.js');
  let spec;
  let outDir: string;
  let formats: ('onnx' | 'tfjs')[];
  try {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' } },
    });
    if (positionals[0] !== 'generate' || positionals.length !== 1) throw new UsageError('expected the subcommand "generate" or "fetch"');
    const preset = values.preset ?? '';
    if (!isPresetName(preset)) throw new UsageError(`--preset must be one of ${Object.keys(MODEL_PRESETS).join(', ')}`);
    if (values.out === undefined) throw new UsageError('--out is required');
    outDir = values.out;
    formats = (listOption(values.format) ?? ['onnx', 'tfjs']).map((f) => {
      if (f !== 'onnx' && f !== 'tfjs') throw new UsageError(`--format takes onnx and/or tfjs, got "${f}"`);
      return f;
    });
    spec = { ...MODEL_PRESETS[preset], seed: intOption(values.seed, 'seed', MODEL_PRESETS[preset].seed) };
  } catch (err) {
    io.stderr.write(`crime model: ${(err as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  try {
    const { generateModel } = await import('../models/generate.js');
    const result = await generateModel({ spec, formats, outDir });
    for (const path of [result.onnx, result.tfjs]) if (path !== undefined) io.stdout.write(`${path}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`crime model: ${describeFailure(err)}\n`);
    return 1;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function fetchCommand(args: string[], io: CliIo): Promise<number> {
  const fetcher = await import('../models/fetch.js');
  let logPath: string | undefined;
  // Every failure, usage included, also goes to the termination log: in a pod that is where it shows.
  const fail = (reason: string, code: number, extra = ''): number => {
    io.stderr.write(`crime model fetch: ${reason}\n${extra}`);
    if (logPath !== undefined) {
      try {
        writeFileSync(logPath, fetcher.terminationMessage(reason));
      } catch (err) {
        io.stderr.write(`crime model fetch: cannot write the termination log ${logPath}: ${(err as Error).message}\n`);
      }
    }
    return code;
  };
  let options: FetchModelOptions;
  try {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        uri: { type: 'string' }, out: { type: 'string' }, sha256: { type: 'string' }, format: { type: 'string' },
        'max-bytes': { type: 'string' }, timeout: { type: 'string' }, 'termination-log': { type: 'string' },
      },
    });
    logPath = fetcher.terminationLogPath(values['termination-log'], writable);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    if (values.uri === undefined) throw new UsageError('--uri is required');
    if (values.out === undefined) throw new UsageError('--out is required');
    if (values.format !== undefined && values.format !== 'onnx' && values.format !== 'tfjs') {
      throw new UsageError(`--format must be onnx or tfjs, got "${values.format}"`);
    }
    const timeoutSec = values.timeout === undefined ? fetcher.DEFAULT_TIMEOUT_MS / 1000 : Number(values.timeout);
    if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UsageError(`--timeout must be a number of seconds > 0, got "${values.timeout ?? ''}"`);
    options = {
      uri: values.uri,
      out: values.out,
      timeoutMs: timeoutSec * 1000,
      maxBytes: values['max-bytes'] === undefined ? fetcher.DEFAULT_MAX_BYTES : fetcher.parseByteSize(values['max-bytes']),
    };
    if (values.format !== undefined) options.format = values.format;
    if (values.sha256 !== undefined) options.sha256 = fetcher.normaliseSha256(values.sha256);
    fetcher.planFetch(options.uri);
  } catch (err) {
    return fail((err as Error).message, EXIT_USAGE, err instanceof UsageError ? `\n${usage}` : '');
  }
  try {
    const result = await fetcher.fetchModel(options);
    const [main, ...shards] = result.files;
    if (main !== undefined) {
      const extra = shards.length > 0 ? ` and ${shards.length} weight shard${shards.length === 1 ? '' : 's'}` : '';
      io.stdout.write(`fetched ${options.uri} to ${main.path}${extra}: ${fetcher.formatBytes(result.files.reduce((n, f) => n + f.bytes, 0))}, sha256 ${main.sha256}\n`);
    }
    return 0;
  } catch (err) {
    const usageError = err instanceof fetcher.FetchError && err.usage;
    return fail(err instanceof Error ? err.message : String(err), usageError ? EXIT_USAGE : 1);
  }
}
