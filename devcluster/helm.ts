/**
 * helm (built by `devcluster/setup --with-helm`) for the chart's tests: offline (lint, template) or
 * against a test control plane's kubeconfig. Each Helm gets its own config, cache and data folders,
 * so it never reads or writes the user's ~/.config/helm (repositories, plugins, registry logins).
 * Asynchronous, so an operator running in the same process keeps working while helm waits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetsDir, repoRoot } from './assets.js';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The repository's chart. */
export function chartDir(): string {
  return join(repoRoot(), 'charts', 'crime-operator');
}

export class Helm {
  readonly binary: string;
  private readonly home: string;

  /** `kubeconfig`: the cluster that install, upgrade and uninstall talk to; none for offline use. */
  constructor(private readonly kubeconfig?: string) {
    this.binary = join(assetsDir(['helm']), 'helm');
    this.home = mkdtempSync(join(tmpdir(), 'crime-helm-'));
  }

  /** Runs helm; resolves with its exit code and output whatever the code. */
  run(args: readonly string[], timeoutMs = 120_000): Promise<HelmResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.home,
      HELM_CONFIG_HOME: join(this.home, 'config'),
      HELM_CACHE_HOME: join(this.home, 'cache'),
      HELM_DATA_HOME: join(this.home, 'data'),
      // An explicit empty kubeconfig keeps offline commands away from ~/.kube/config.
      KUBECONFIG: this.kubeconfig ?? join(this.home, 'no-cluster'),
    };
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal === 'SIGKILL' ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
      });
    });
  }

  /** Runs helm and returns its stdout; throws with its stderr when it fails. */
  async ok(args: readonly string[], timeoutMs?: number): Promise<string> {
    const result = await this.run(args, timeoutMs);
    if (result.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result.stdout;
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
