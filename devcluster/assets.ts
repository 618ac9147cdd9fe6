/**
 * Where the control-plane binaries are. `KUBEBUILDER_ASSETS` (set by scripts/run-tests.mjs from
 * devcluster/setup, or by the user, as envtest does) wins; otherwise devcluster/setup is run,
 * which finds the cache or builds it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Binary = 'etcd' | 'kube-apiserver' | 'kube-scheduler' | 'kube-controller-manager' | 'kwok' | 'kubectl' | 'helm';

/** The repository root: the nearest folder above this file that holds package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (no package.json above devcluster)');
    dir = parent;
  }
  return dir;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binaries of `needed` that `dir` lacks. */
export function missingBinaries(dir: string, needed: readonly Binary[]): Binary[] {
  return needed.filter((name) => !isExecutable(join(dir, name)));
}

let resolved: string | undefined;

/**
 * The folder holding the binaries; throws, naming what is missing, if it lacks any of `needed`.
 * Runs devcluster/setup (once per process) when KUBEBUILDER_ASSETS is not set.
 */
export function assetsDir(needed: readonly Binary[]): string {
  const withHelm = needed.includes('helm');
  resolved ??= process.env['KUBEBUILDER_ASSETS'] || runSetup(withHelm);
  // A test file run on its own that needs helm after something that did not: setup provides it too.
  if (withHelm && !process.env['KUBEBUILDER_ASSETS'] && missingBinaries(resolved, ['helm']).length > 0) resolved = runSetup(true);
  const missing = missingBinaries(resolved, needed);
  if (missing.length > 0) {
    const setup = missing.includes('helm') ? 'devcluster/setup --with-helm' : 'devcluster/setup';
    throw new Error(`${resolved} lacks ${missing.join(', ')}: run ${setup} and set KUBEBUILDER_ASSETS to the folder it prints`);
  }
  return resolved;
}

function runSetup(withHelm: boolean): string {
  const script = join(repoRoot(), 'devcluster', 'setup');
  const result = spawnSync(script, withHelm ? ['--with-helm'] : [], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${String(result.status)})`);
  const last = result.stdout.trimEnd().split('\n').pop() ?? '';
  if (last === '') throw new Error(`${script} printed no folder`);
  return last;
}

export function binaryPath(dir: string, name: Binary): string {
  return join(dir, name);
}
