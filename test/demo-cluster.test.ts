/**
 * `crime demo --cluster` as a user runs it: the whole command as a child process (root: its pods
 * get network namespaces), with --keep so what it left running can be checked, then Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LiveData } from '../runtime/mapper/ui/browser/live-data.js';

const BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const root = process.getuid?.() === 0;

describe('crime demo --cluster', () => {
  it('refuses to run without root, saying why, with exit code 2', { skip: root ? false : 'spawning as another user needs root' }, async () => {
    // As nobody: what a user without sudo gets.
    const child = spawn(process.execPath, [BIN, 'demo', '--cluster'], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /needs root: sudo npx crime demo --cluster/);
  });

  it('brings the example up through Kubernetes, serves both phases with no failure, prints the tables, kubectl get rnnt and the page; --keep until Ctrl-C', { skip: root ? false : 'needs root for network namespaces', timeout: 400_000 }, async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--cluster', '--keep', '--count', '60', '--rate', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 200_000) stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const left = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        stdout += `${line}\n`;
        if (line.startsWith('Left running')) resolve();
      });
      void exited.then((code) => reject(new Error(`crime demo --cluster exited with ${code} before it was left running:\n${stdout}\n${stderr.slice(-3000)}`)));
    });
    try {
      await left;
      await new Promise((r) => setTimeout(r, 200)); // the lines after it
      const tables = stdout.match(/^60 requests to http:\/\/169\.254\.\d+\.\d+:8080 in [\d.]+ s: 60 ok, 0 failed$/gm) ?? [];
      assert.equal(tables.length, 2, stdout);
      assert.match(stdout, /^== gateway -> cloud RTT 30 ms/m);
      assert.match(stdout, /^== gateway -> cloud RTT 300 ms/m);
      assert.match(stdout, /^served by\s+requests/m);
      assert.match(stdout, /devices ready/);
      assert.match(stdout, /^\$ kubectl get rnnt\nNAME\s+DEVICES\s+ENTRY\s+READY\s+AGE\nimdb-sentiment\s+3\/3\s+http:\/\/imdb-sentiment--end-node\.default\.svc:8080\s+True\s/m);
      const kubeconfig = /^kubeconfig (\S+)$/m.exec(stdout)?.[1];
      assert.ok(kubeconfig && existsSync(kubeconfig), 'the kubeconfig it tells exists');
      const entry = /^entry (http:\/\/\S+)/m.exec(stdout)?.[1];
      const page = /^page (http:\/\/\S+\/ui)/m.exec(stdout)?.[1];
      assert.equal(page, `${entry}/ui`);
      // Left running: the entry answers, and its page shows the demo's requests.
      const r = await fetch(`${entry}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [1, 2, 3] }) });
      assert.equal(r.status, 200);
      assert.match((await fetch(page as string)).headers.get('content-type') ?? '', /^text\/html/);
      const data = (await (await fetch(`${page}/data`)).json()) as LiveData;
      assert.equal(data.device, 'end-node');
      assert.ok(data.points.length >= 121, `${data.points.length} points`);
      assert.ok((data.counts['end-node'] ?? 0) > 0 && (data.counts.gateway ?? 0) > 0, JSON.stringify(data.counts));
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr.slice(-3000));
  });
});
