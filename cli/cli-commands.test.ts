import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RuntimeClient } from '../runtime/server/client.js';
import { runCli } from './cli.js';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crime-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('crime model generate writes both formats; bad usage exits 2', async () => {
  const r = await cli(['model', 'generate', '--preset', 'tiny2x24', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [join(dir, 'tiny2x24.onnx'), join(dir, 'tiny2x24.tfjs', 'model.json')]);
  assert.ok((await stat(join(dir, 'tiny2x24.tfjs', 'group1-shard1of1.bin'))).size > 0);
  assert.equal((await cli(['model', 'generate', '--preset', 'nope', '--out', dir])).code, 2);
  assert.equal((await cli(['runtime'])).code, 2);
  assert.equal((await cli(['runtime', '--model', 'x.onnx', '--backend', 'gpu'])).code, 2);
  assert.equal((await cli(['bench', 'nope'])).code, 2);
});

test('crime runtime: a real process prints "listening URL" when ready, serves, and exits 0 on SIGTERM', async () => {
  const model = join(dir, 'tiny2x24.onnx');
  await stat(model);
  const child = spawn(process.execPath, [main, 'runtime', '--model', model, '--port', '0', '--max-steps', '64'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (c: Buffer) => {
        buffered += c.toString();
        const m = /^listening (http:\/\/127\.0\.0\.1:\d+)$/m.exec(buffered);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`runtime exited early with ${code}`)));
    });
    const client = new RuntimeClient({ baseUrl: url });
    assert.equal(await client.ready(), true);
    assert.equal((await client.model()).maxSteps, 64);
    const result = await client.infer({ kind: 'floats', data: new Float32Array(3 * 16), steps: 3 });
    assert.equal(result.outputs.length, 4);
    client.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('crime runtime exits 1 with a typed message when the model cannot load', async () => {
  const r = await cli(['runtime', '--model', join(dir, 'missing.onnx'), '--port', '0', '--log-level', 'error']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /MODEL_LOAD_FAILED/);
});
