// Low-load latency A/B: the runtime before batching (old), this one with batching off on the same fixed-batch model, and on the dynamic-batch model.
import { startCrime, stopChild } from '/work/wt-batching/dist/local/child.js';
import { generateModel } from '/work/wt-batching/dist/runtime/models/generate.js';
import { MODEL_PRESETS } from '/work/wt-batching/dist/runtime/models/spec.js';
import { RuntimeClient } from '/work/wt-batching/dist/runtime/server/client.js';
import { sampleInput } from '/work/wt-batching/dist/runtime/backends/input.js';
import { quantile } from '/work/wt-batching/dist/stats/quantile.js';
import { spawn } from 'node:child_process';
const n = Number(process.argv[2] ?? 100), count = Number(process.argv[3] ?? 300);
const spec = MODEL_PRESETS.cove2x300;
const fixed = (await generateModel({ spec, formats: ['onnx'], outDir: '/tmp/bx/ll/fixed', batch: 'fixed' })).onnx;
const dyn = (await generateModel({ spec, formats: ['onnx'], outDir: '/tmp/bx/ll/dyn' })).onnx;
const oldBin = '/tmp/bx/old/dist/cli/main.js';
const start = async (bin, args, log) => {
  if (bin === null) return startCrime(args, log);
  const { startScript } = await import('/work/wt-batching/dist/local/child.js');
  return startScript(bin, args, log);
};
const common = ['--port', '0', '--max-steps', '2000', '--log-level', 'warn'];
const targets = [
  ['old (before batching), fixed model', await start(oldBin, ['runtime', '--model', fixed, ...common], '/tmp/bx/ll/old.log')],
  ['new, batching off, fixed model', await start(null, ['runtime', '--model', fixed, ...common], '/tmp/bx/ll/new-fixed.log')],
  ['new, batching off, dynamic model', await start(null, ['runtime', '--model', dyn, ...common], '/tmp/bx/ll/new-dyn.log')],
  ['new, batching on (16/0/1), dynamic model', await start(null, ['runtime', '--model', dyn, ...common, '--max-batch', '16'], '/tmp/bx/ll/new-batch.log')],
];
const clients = targets.map(([, c]) => new RuntimeClient({ baseUrl: c.url }));
const input = sampleInput({ inputKind: 'floats', featureSize: 300 }, n);
const samples = targets.map(() => []);
for (let k = 0; k < count + 20; k++) {
  for (let j = 0; j < clients.length; j++) {
    const i = (j + k) % clients.length;
    const t0 = performance.now();
    await clients[i].infer(input);
    if (k >= 20) samples[i].push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
}
for (const [i, [name]] of targets.entries()) {
  const s = samples[i].sort((a, b) => a - b);
  console.log(`${name.padEnd(44)} p50 ${quantile(s, 0.5).toFixed(3)} ms  p90 ${quantile(s, 0.9).toFixed(3)}  p99 ${quantile(s, 0.99).toFixed(3)}`);
}
for (const c of clients) c.close();
await Promise.all(targets.map(([, c]) => stopChild(c.child)));
