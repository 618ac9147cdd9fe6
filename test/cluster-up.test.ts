/**
 * `crime cluster up` as a user runs it: a real process that prints the kubeconfig and kubectl
 * paths, a topology applied with that kubectl shows up in `kubectl get rnnt` Ready with its printer
 * columns, and SIGTERM stops everything. With --operator in the same process; without it (as
 * docs/operator.md tells users), it stays up with stdin on /dev/null while `crime operator` runs
 * apart.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { waitFor } from '../devcluster/wait.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/** Resolves with the named lines' values once all were printed; rejects if the process exits first. */
function linesOf(child: ChildProcess, names: readonly string[], stderr: () => string): Promise<Record<string, string>> {
  return new Promise<Record<string, string>>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const found = Object.fromEntries(names.map((n) => [n, new RegExp(`^${n} (\\S+)$`, 'm').exec(out)?.[1]]));
      if (names.every((n) => found[n] !== undefined)) resolve(found as Record<string, string>);
    });
    child.once('exit', (code, signal) => reject(new Error(`${String(child.spawnargs.slice(1, 4).join(' '))} exited (${String(code ?? signal)}): ${stderr()}`)));
  });
}

/** SIGTERM, then the exit code (null when a signal ended it). */
async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** The example topology with a model URI nothing fetches (kwok runs no pods). */
function exampleTopology(dir: string): string {
  const doc = parseYaml(readFileSync(root('examples/topologies/three-tier.yaml'), 'utf8')) as { spec: { model: { uri: string } } };
  doc.spec.model.uri = 'http://models.invalid/imdb1x128.onnx';
  writeFileSync(join(dir, 'topology.yaml'), stringify(doc));
  return join(dir, 'topology.yaml');
}

const READY_ROW = /imdb-sentiment\s+3\/3\s+http:\/\/imdb-sentiment--end-node\.default\.svc:8080\s+True/;

test('crime cluster up --operator: kubeconfig, kubectl, a topology Ready in kubectl get rnnt, clean stop', async () => {
  const child = spawn(process.execPath, [root('dist/cli/main.js'), 'cluster', 'up', '--operator'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = mkdtempSync(join(tmpdir(), 'crime-cluster-up-'));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const lines = await linesOf(child, ['kubeconfig', 'kubectl'], () => stderr);
    const kubectl = (...args: string[]): string => execFileSync(lines.kubectl as string, ['--kubeconfig', lines.kubeconfig as string, ...args], { encoding: 'utf8' });
    assert.match(kubectl('get', 'nodes', '-L', 'kubernetes.io/arch'), /edge-0 .*arm64[\s\S]*gpu-0/);
    kubectl('apply', '-f', exampleTopology(dir));
    const row = await waitFor(async () => {
      const table = kubectl('get', 'rnnt');
      return READY_ROW.test(table) ? table : undefined;
    }, { what: 'kubectl get rnnt to show the topology Ready', timeoutMs: 60_000 });
    assert.match(row, /NAME\s+DEVICES\s+ENTRY\s+READY\s+AGE/);
    assert.match(kubectl('explain', 'rnntopology.spec.devices.placement'), /nodeName/);
  } finally {
    const code = await stop(child);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
});

test('crime cluster up without --operator stays up with stdin on /dev/null; crime operator started apart reconciles', async () => {
  let stderr = '';
  const cluster = spawn(process.execPath, [root('dist/cli/main.js'), 'cluster', 'up'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cluster.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const dir = mkdtempSync(join(tmpdir(), 'crime-cluster-up-'));
  let operator: ChildProcess | undefined;
  let operatorCode: number | null = null;
  try {
    const lines = await linesOf(cluster, ['kubeconfig', 'kubectl'], () => stderr);
    const kubectl = (...args: string[]): string => execFileSync(lines.kubectl as string, ['--kubeconfig', lines.kubeconfig as string, ...args], { encoding: 'utf8' });
    // Once it has printed its lines the command has nothing left to do but wait: before the fix
    // it ended there (exit 13, an unsettled top-level await) and took the cluster with it.
    operator = spawn(process.execPath, [root('dist/cli/main.js'), 'operator', '--kubeconfig', lines.kubeconfig as string, '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    operator.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await linesOf(operator, ['metrics'], () => stderr);
    kubectl('apply', '-f', exampleTopology(dir));
    await waitFor(async () => (READY_ROW.test(kubectl('get', 'rnnt')) ? true : undefined), { what: 'kubectl get rnnt to show the topology Ready', timeoutMs: 60_000 });
    assert.equal(cluster.exitCode, null, 'crime cluster up is still running');
  } finally {
    if (operator) operatorCode = await stop(operator);
    const code = await stop(cluster);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
  assert.equal(operatorCode, 0, stderr);
});
