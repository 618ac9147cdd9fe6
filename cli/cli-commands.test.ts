import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
  for (const [flag, value, message] of [
    ['--max-batch', '0', /--max-batch must be an integer ≥ 1 and ≤ 1024, got 0/],
    ['--max-batch', '1025', /--max-batch must be an integer ≥ 1 and ≤ 1024, got 1025/],
    ['--max-delay-ms', '-1', /--max-delay-ms must be a number ≥ 0 and ≤ 1000, got -1/],
    ['--concurrency', '0', /--concurrency must be an integer ≥ 1 and ≤ 64, got 0/],
    ['--max-batch', 'many', /--max-batch must be an integer .* got "many"/],
  ] as const) {
    const r = await cli(['runtime', '--model', 'x.onnx', `${flag}=${value}`]);
    assert.equal(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, message);
  }
  assert.equal((await cli(['bench', 'nope'])).code, 2);
});

test('crime runtime: a real process prints "listening URL" when ready, serves, and exits 0 on SIGTERM', async () => {
  const model = join(dir, 'tiny2x24.onnx');
  await stat(model);
  // Batching, in two worker threads: they must not keep the process from exiting on SIGTERM.
  const child = spawn(process.execPath, [main, 'runtime', '--model', model, '--port', '0', '--max-steps', '64', '--max-batch', '8', '--concurrency', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const info = await client.model();
    assert.equal(info.maxSteps, 64);
    assert.deepEqual(info.serving, { maxBatch: 8, maxDelayMs: 0, concurrency: 2, mixedLengths: true, workers: 2 });
    const result = await client.infer({ kind: 'floats', data: new Float32Array(3 * 16), steps: 3 });
    assert.equal(result.outputs.length, 4);
    client.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('crime runtime --socket: the socket alone, crime probe --socket reaches it, a live one is refused, a killed one replaced', async () => {
  const model = join(dir, 'tiny2x24.onnx');
  await stat(model);
  const socket = join(dir, 'runtime.sock');
  const start = (): { child: ReturnType<typeof spawn>; listening: Promise<string>; exited: Promise<number | null> } => {
    const child = spawn(process.execPath, [main, 'runtime', '--model', model, '--socket', socket, '--max-steps', '64', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const listening = new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout?.on('data', (c: Buffer) => {
        buffered += c.toString();
        if (buffered.endsWith('\n')) resolve(buffered);
      });
      child.on('exit', (code) => reject(new Error(`runtime exited early with ${code}`)));
    });
    listening.catch(() => undefined);
    return { child, listening, exited };
  };
  const first = start();
  let second: ReturnType<typeof start> | undefined;
  try {
    assert.equal(await first.listening, `listening unix:${socket}\n`, 'one listener, no TCP');
    second = start();
    assert.deepEqual(await cli(['probe', '--socket', socket, '/healthz']), { code: 0, stdout: '', stderr: '' });
    const notFound = await cli(['probe', '--socket', socket, 'http://localhost/nope']);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /answered HTTP 404/);
    assert.equal((await cli(['probe', '--socket', socket, 'healthz'])).code, 2);
    await assert.rejects(second.listening);
    assert.equal(await second.exited, 1, 'a second runtime on a live socket exits 1');
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(existsSync(socket), 'a killed runtime leaves its socket file');
    assert.equal((await cli(['probe', '--socket', socket, '/healthz'])).code, 1);
    const third = start();
    try {
      await third.listening;
      assert.equal((await cli(['probe', '--socket', socket, '/readyz'])).code, 0);
      third.child.kill('SIGTERM');
      assert.equal(await third.exited, 0);
      assert.equal(existsSync(socket), false, 'a runtime that stops removes its socket');
    } finally {
      third.child.kill('SIGKILL');
    }
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
  }
});

test('crime runtime exits 1 with a typed message when the model cannot load, and says so in its termination log', async () => {
  const log = join(dir, 'termination-log');
  const r = await cli(['runtime', '--model', join(dir, 'missing.onnx'), '--port', '0', '--log-level', 'error', '--termination-log', log]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /MODEL_LOAD_FAILED/);
  assert.match(await readFile(log, 'utf8'), /^MODEL_LOAD_FAILED: /);
  // A GPU device's backend, named, on a machine whose onnxruntime has no CUDA provider (this one, and
  // any CPU image): no fallback to the CPU, exit 1, the reason where the pod's status shows it.
  const cuda = await cli(['runtime', '--model', join(dir, 'tiny2x24.onnx'), '--backend', 'onnx-cuda', '--port', '0', '--log-level', 'error', '--termination-log', log]);
  assert.equal(cuda.code, 1);
  assert.match(await readFile(log, 'utf8'), /^BACKEND_UNAVAILABLE: onnxruntime \(cuda\) cannot load the model: /);
});
