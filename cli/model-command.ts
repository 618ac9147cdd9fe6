import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import { groupUsage, type Command } from './command.js';
import { intOption, listOption, required } from './options.js';

const generateUsage = `Usage: crime model generate --preset NAME --out DIR [--format onnx,tfjs] [--seed N]

Writes a generated LSTM model with deterministic weights: DIR/NAME.onnx (ONNX, opset 13) and/or
DIR/NAME.tfjs/model.json + weight shards (tfjs LayersModel). Both formats compute the same function.

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
      options: { preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' } },
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
    const result = await generateModel({ spec, formats, outDir });
    for (const path of [result.onnx, result.tfjs]) if (path !== undefined) io.stdout.write(`${path}\n`);
    return 0;
  },
};

const subcommands: readonly Command[] = [generate];

export const modelCommand: Command = {
  name: 'model',
  summary: 'model files: generate the demo/test LSTM models',
  usage: groupUsage('crime model', 'Model files for the runtime.', subcommands),
  subcommands,
};
