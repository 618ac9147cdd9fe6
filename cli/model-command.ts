import { parseArgs } from 'node:util';
import type { Command } from './cli.js';
import { EXIT_USAGE } from './cli.js';
import { describeFailure, intOption, listOption, UsageError } from './options.js';

const usage = `Usage: crime model generate --preset NAME --out DIR [--format onnx,tfjs] [--seed N]

Writes a generated LSTM model with deterministic weights: DIR/NAME.onnx (ONNX, opset 13) and/or
DIR/NAME.tfjs/model.json + weight shards (tfjs LayersModel). Both formats compute the same function.

Presets:
  cove2x300   2-layer LSTM, 300 inputs / 300 hidden (CoVe-like), floats, 3 outputs (~5.8 MB)
  imdb1x128   embedding (vocabulary 1000, width 128) + 1-layer LSTM 128, tokens, 2 outputs (~1 MB)
  tiny2x24    2-layer LSTM, 16 inputs / 24 hidden, floats, 4 outputs (tests)
`;

export const modelCommand: Command = {
  name: 'model',
  summary: 'generate the demo/test LSTM models (ONNX and tfjs)',
  usage,
  async run(args, io) {
    const { MODEL_PRESETS, isPresetName } = await import('../runtime/models/spec.js');
    let spec;
    let outDir: string;
    let formats: ('onnx' | 'tfjs')[];
    try {
      const { values, positionals } = parseArgs({
        args, allowPositionals: true, strict: true,
        options: { preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' } },
      });
      if (positionals[0] !== 'generate' || positionals.length !== 1) throw new UsageError('expected the subcommand "generate"');
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
      const { generateModel } = await import('../runtime/models/generate.js');
      const result = await generateModel({ spec, formats, outDir });
      for (const path of [result.onnx, result.tfjs]) if (path !== undefined) io.stdout.write(`${path}\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`crime model: ${describeFailure(err)}\n`);
      return 1;
    }
  },
};
