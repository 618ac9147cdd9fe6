import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { capture } from './testing.js';

const BIN = fileURLToPath(new URL('./main.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/topologies/', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('crime up prints the entry once ready, serves, and stops every process on SIGTERM', { timeout: 120_000 }, async () => {
  const up = spawn(process.execPath, [BIN, 'up', `${EXAMPLES}three-tier.yaml`, '--local', `${EXAMPLES}three-tier.local.yaml`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: up.stdout });
  const seen: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    up.once('exit', (code) => reject(new Error(`crime up exited early with ${code}`)));
    lines.on('line', (line) => {
      const [key, value] = line.split(' ');
      if (key && value) seen[key] = value;
      if (seen.entry && seen.page && seen.control && seen.logs) resolve();
    });
  });
  assert.match(seen.entry!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(seen.page, `${seen.entry}/ui`);
  const page = await fetch(seen.page!);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const load = await capture(['load', '--url', seen.entry!, '--lengths', 'list:3,900', '--rate', '0', '--count', '6', '--json']);
  assert.equal(load.code, 0, load.stderr);
  const report = JSON.parse(load.stdout) as { ok: number; failed: number; servedBy: Record<string, { count: number }> };
  assert.equal(report.ok, 6);
  assert.ok(report.servedBy['end-node']!.count >= 1);

  const devices = (await (await fetch(`${seen.control}/devices`)).json()) as Array<{ runtimePid: number; mapperPid: number }>;
  const pids = devices.flatMap((d) => [d.runtimePid, d.mapperPid]);
  assert.equal(pids.length, 6);
  assert.ok(pids.every(alive));
  const badLink = await fetch(`${seen.control}/links/cloud/gateway`, { method: 'PUT', body: '{"rttMs": 5}' });
  assert.equal(badLink.status, 404);
  const badBody = await fetch(`${seen.control}/links/gateway/cloud`, { method: 'PUT', body: '{"rttMs": -5}' });
  assert.equal(badBody.status, 400);

  const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
  up.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(pids.every((pid) => !alive(pid)), 'no process outlives crime up');
});

test('crime up refuses an invalid topology with exit code 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-up-'));
  await writeFile(join(dir, 't.yaml'), 'apiVersion: crime.dev/v1alpha1\nkind: RnnTopology\nmetadata: { name: x }\nspec:\n  model: { format: onnx, uri: m.onnx }\n  devices: []\n');
  const r = await capture(['up', join(dir, 't.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid topology \S+t\.yaml: spec\.devices: must list at least one device/);
  const missing = await capture(['up', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ENOENT/);
  assert.equal((await capture(['up'])).code, 2);
  const pvc = await capture(['up', `${EXAMPLES}three-tier-cluster.yaml`]);
  assert.equal(pvc.code, 2);
  assert.match(pvc.stderr, /spec\.model\.uri: pvc:\/\/crime-models\/imdb1x128\.onnx: a pvc:\/\/ model lives on a cluster volume that only the operator mounts/);
});

test('crime mapper and crime load refuse bad usage with exit code 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-mapper-'));
  await writeFile(join(dir, 'bad.yaml'), 'device: x\nruntime: { url: "ftp://nowhere" }\n');
  const bad = await capture(['mapper', '--config', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid configuration .*runtime\.url: must be an http\(s\) URL/);
  assert.equal((await capture(['mapper'])).code, 2);
  assert.equal((await capture(['load'])).code, 2);
  assert.equal((await capture(['load', '--url', 'http://127.0.0.1:1', '--rate', 'fast'])).code, 2);
});
