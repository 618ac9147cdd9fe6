/**
 * `crime cluster up --operator` as a user runs it: a real process that prints the kubeconfig and
 * kubectl paths, a topology applied with that kubectl shows up in `kubectl get rnnt` Ready with its
 * printer columns, and SIGTERM stops everything.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { waitFor } from '../devcluster/wait.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

test('crime cluster up --operator: kubeconfig, kubectl, a topology Ready in kubectl get rnnt, clean stop', async () => {
  const child = spawn(process.execPath, [root('dist/cli/main.js'), 'cluster', 'up', '--operator'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = mkdtempSync(join(tmpdir(), 'crime-cluster-up-'));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const lines = await new Promise<Record<string, string>>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const kubeconfig = /^kubeconfig (\/\S+)$/m.exec(out)?.[1];
        const kubectl = /^kubectl (\/\S+)$/m.exec(out)?.[1];
        if (kubeconfig && kubectl) resolve({ kubeconfig, kubectl });
      });
      child.once('exit', (code) => reject(new Error(`crime cluster up exited (${String(code)}): ${stderr}`)));
    });
    const kubectl = (...args: string[]): string => execFileSync(lines.kubectl as string, ['--kubeconfig', lines.kubeconfig as string, ...args], { encoding: 'utf8' });
    assert.match(kubectl('get', 'nodes', '-L', 'kubernetes.io/arch'), /edge-0 .*arm64[\s\S]*gpu-0/);
    const doc = parseYaml(readFileSync(root('examples/topologies/three-tier.yaml'), 'utf8')) as { spec: { model: { uri: string } } };
    doc.spec.model.uri = 'http://models.invalid/imdb1x128.onnx';
    writeFileSync(join(dir, 'topology.yaml'), stringify(doc));
    kubectl('apply', '-f', join(dir, 'topology.yaml'));
    const row = await waitFor(async () => {
      const table = kubectl('get', 'rnnt');
      return /imdb-sentiment\s+3\/3\s+http:\/\/imdb-sentiment-end-node\.default\.svc:8080\s+True/.test(table) ? table : undefined;
    }, { what: 'kubectl get rnnt to show the topology Ready', timeoutMs: 60_000 });
    assert.match(row, /NAME\s+DEVICES\s+ENTRY\s+READY\s+AGE/);
    assert.match(kubectl('explain', 'rnntopology.spec.devices.placement'), /nodeName/);
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
});
