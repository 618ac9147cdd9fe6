import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import { groupUsage, type Command } from './command.js';
import type { FetchModelOptions } from '../runtime/models/fetch.js';
import { choice, intOption, listOption, numberOption, required } from './options.js';
import { reportingFailure, terminationLog } from './termination-log.js';

const generateUsage = `Usage: crime model generate --preset NAME --out DIR [--format onnx,tfjs] [--seed N] [--batch dynamic|fixed]

Writes a generated LSTM model with deterministic weights: DIR/NAME.onnx (ONNX, opset 13) and/or
DIR/NAME.tfjs/model.json + weight shards (tfjs LayersModel). Both formats compute the same function.
The ONNX model has a dynamic batch dimension and takes each sequence's length (--batch dynamic, the
default), so a runtime can batch requests of different lengths; --batch fixed writes the batch-1
layout ([steps, 1, …] in, no lengths), which serves one request per run.

Presets:
  cove2x300   2-layer LSTM, 300 inputs / 300 hidden (CoVe-like), floats, 3 outputs (~5.8 MB)
  imdb1x128   embedding (vocabulary 1000, width 128) + 1-layer LSTM 128, tokens, 2 outputs (~1 MB)
  tiny2x24    2-layer LSTM, 16 inputs / 24 hidden, floats, 4 outputs (tests)
`;

const generate: Command = {
  name: 'generate',
  summary: 'write a generated LSTM model with deterministic weights (ONNX and tfjs)',
  usage: generateUsage,
  async run(args, io) {
    const { MODEL_PRESETS, isPresetName } = await import('../runtime/models/spec.js');
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' }, batch: { type: 'string' } },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const preset = values.preset ?? '';
    if (!isPresetName(preset)) throw new UsageError(`--preset must be one of ${Object.keys(MODEL_PRESETS).join(', ')}`);
    const outDir = required(values.out, 'out');
    const formats = (listOption(values.format) ?? ['onnx', 'tfjs']).map((f) => {
      if (f !== 'onnx' && f !== 'tfjs') throw new UsageError(`--format takes onnx and/or tfjs, got "${f}"`);
      return f;
    });
    const spec = { ...MODEL_PRESETS[preset], seed: intOption(values.seed, 'seed', MODEL_PRESETS[preset].seed) };
    const { generateModel } = await import('../runtime/models/generate.js');
    const batch = choice(values.batch, 'batch', ['dynamic', 'fixed'] as const, 'dynamic');
    const result = await generateModel({ spec, formats, outDir, batch });
    for (const path of [result.onnx, result.tfjs]) if (path !== undefined) io.stdout.write(`${path}\n`);
    return 0;
  },
};

const fetchUsage = `Usage: crime model fetch --uri URI --out FILE [--sha256 HEX] [--format onnx|tfjs]
                         [--max-bytes SIZE] [--timeout SECONDS] [--termination-log FILE]

Puts the model an RnnTopology names into FILE, as the operator's init container does:
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

const fetchModel: Command = {
  name: 'fetch',
  summary: 'fetch and verify the model of a topology (the operator\'s init container)',
  usage: fetchUsage,
  async run(args, io) {
    const fetcher = await import('../runtime/models/fetch.js');
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        uri: { type: 'string' }, out: { type: 'string' }, sha256: { type: 'string' }, format: { type: 'string' },
        'max-bytes': { type: 'string' }, timeout: { type: 'string' }, 'termination-log': { type: 'string' },
      },
    });
    const logPath = terminationLog(values['termination-log']);
    // In a pod the termination log is where the reason shows (the pod's status, then the topology's).
    return reportingFailure(logPath, io, 'crime model fetch', async () => {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
      const uri = required(values.uri, 'uri');
      const options: FetchModelOptions = {
        uri,
        out: required(values.out, 'out'),
        timeoutMs: numberOption(values.timeout, 'timeout', fetcher.DEFAULT_TIMEOUT_MS / 1000, Number.MIN_VALUE) * 1000,
        maxBytes: values['max-bytes'] === undefined ? fetcher.DEFAULT_MAX_BYTES : fetcher.parseByteSize(values['max-bytes']),
      };
      if (values.format !== undefined) options.format = choice(values.format, 'format', ['onnx', 'tfjs'] as const, 'onnx');
      if (values.sha256 !== undefined) options.sha256 = fetcher.normaliseSha256(values.sha256);
      fetcher.planFetch(uri);
      const result = await fetcher.fetchModel(options);
      const [main, ...shards] = result.files;
      if (main !== undefined) {
        const extra = shards.length > 0 ? ` and ${shards.length} weight shard${shards.length === 1 ? '' : 's'}` : '';
        io.stdout.write(`fetched ${uri} to ${main.path}${extra}: ${fetcher.formatBytes(result.files.reduce((n, f) => n + f.bytes, 0))}, sha256 ${main.sha256}\n`);
      }
      return 0;
    });
  },
};

const subcommands: readonly Command[] = [generate, fetchModel];

export const modelCommand: Command = {
  name: 'model',
  summary: 'model files: generate the demo/test LSTM models, fetch a topology\'s model',
  usage: groupUsage('crime model', 'Model files for the runtime.', subcommands),
  subcommands,
};
