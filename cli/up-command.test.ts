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

  // The mapping policy, switched by a configuration reload of every mapper: local keeps a long input on the end node.
  const put = (path: string, body: unknown, method = 'PUT'): Promise<Response> => fetch(`${seen.control}${path}`, { method, body: JSON.stringify(body) });
  const policy = await put('/policy', { policy: 'local' });
  assert.equal(policy.status, 200);
  assert.deepEqual(await policy.json(), { policy: 'local' });
  const long = await fetch(`${seen.entry}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: Array.from({ length: 900 }, (_, k) => k % 500) }) });
  assert.equal(((await long.json()) as { servedBy: string }).servedBy, 'end-node');
  const badPolicy = await put('/policy', { policy: 'device:nowhere' });
  assert.equal(badPolicy.status, 400);
  assert.match(((await badPolicy.json()) as { error: { message: string } }).error.message, /spec\.mapping\.policy: policy device:<name> names no device/);
  assert.deepEqual(await (await fetch(`${seen.control}/policy`)).json(), { policy: 'local' });

  // A load file's events, played by the control API: a link change, a slowdown, and one it cannot apply (the cloud is not emulated).
  const events = await put('/events', { events: [{ atSec: 0, link: 'gateway->cloud', rttMs: 77 }, { atSec: 0, device: 'end-node', slowdown: 2 }, { atSec: 0, device: 'cloud', slowdown: 2 }] }, 'POST');
  assert.equal(events.status, 202);
  let played: { pending: number; events: Array<{ appliedMs?: number; error?: string }> } = { pending: 1, events: [] };
  for (let i = 0; i < 100 && played.pending > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    played = (await (await fetch(`${seen.control}/events`)).json()) as typeof played;
  }
  assert.equal(played.pending, 0);
  assert.ok(played.events[0]?.appliedMs !== undefined && played.events[1]?.appliedMs !== undefined);
  assert.match(played.events[2]?.error ?? '', /cloud runs at this machine's speed/);
  const links = (await (await fetch(`${seen.control}/links`)).json()) as Array<{ from: string; rttMs: number }>;
  assert.equal(links.find((l) => l.from === 'gateway')?.rttMs, 77);
  const badEvents = await put('/events', { events: [{ atSec: 0, device: 'clod', slowdown: 2 }] }, 'POST');
  assert.equal(badEvents.status, 400);
  assert.match(((await badEvents.json()) as { error: { message: string } }).error.message, /events\[0\]\.device: unknown device "clod"/);

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
