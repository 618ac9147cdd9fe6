/**
 * `crime operator` must not load @kubernetes/client-node (its package index alone costs about
 * 80 MB of resident memory): the operator process runs with a module hook that refuses the package,
 * and must start all the same. A user whose kubeconfig needs an exec plugin is the exception: then,
 * and only then, client-node is loaded (which the hook, refusing it, makes visible).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === '@kubernetes/client-node' || specifier.startsWith('@kubernetes/client-node/')) throw new Error('client-node was loaded');
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

/** Runs `crime operator` until it serves its metrics (then SIGTERM), or until it exits. */
function runOperator(kubeconfig: string): Promise<{ started: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, CLI, 'operator', '--kubeconfig', kubeconfig, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let started = false;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (!started && /^metrics http/m.test(c.toString())) {
        started = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ started, code, stderr });
    });
  });
}

describe('the operator process and @kubernetes/client-node', () => {
  let dir: string;
  const kubeconfig = (user: string): string => `current-context: x
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crime-operator-imports-'));
    writeFileSync(join(dir, 'token.yaml'), kubeconfig('{token: t}'));
    writeFileSync(join(dir, 'exec.yaml'), kubeconfig('{exec: {apiVersion: client.authentication.k8s.io/v1, command: "true"}}'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, serves its metrics and stops without loading it', async () => {
    const run = await runOperator(join(dir, 'token.yaml'));
    assert.equal(run.stderr.match(/client-node was loaded/)?.[0], undefined, run.stderr);
    assert.ok(run.started, run.stderr);
    assert.equal(run.code, 0);
  });

  it('loads it for a user that authenticates with an exec plugin', async () => {
    const run = await runOperator(join(dir, 'exec.yaml'));
    assert.equal(run.started, false);
    assert.match(run.stderr, /client-node was loaded/);
  });
});
