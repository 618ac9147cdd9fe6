/**
 * One container as a process, the way a container runtime would start it but without an image:
 * inside the pod's network namespace (`ip netns exec`, which also gives it a mount namespace of its
 * own), with the pod's volumes bind-mounted at their mount paths and the termination-message file
 * at its path, the container's environment, and its output appended to a log file. The process runs
 * as the runner's user: securityContext is not emulated. The image is this repository: `crime` on
 * the PATH is a shim that runs the built CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { BindMount } from './volumes.js';

export interface LaunchSpec {
  /** network namespace of the pod */
  ns: string;
  mounts: readonly BindMount[];
  /** the container's command and args, $(VAR) already expanded */
  argv: readonly string[];
  env: Record<string, string>;
  logFile: string;
  workingDir?: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * Mount order: a mount whose target hides another mount's source (an emptyDir on /tmp while the
 * pod's files live under /tmp) goes after it; otherwise parents before children.
 */
export function mountOrder(mounts: readonly BindMount[]): BindMount[] {
  const hides = (m: BindMount): boolean => mounts.some((o) => o !== m && under(o.source, m.target));
  return [...mounts].sort((a, b) => Number(hides(a)) - Number(hides(b)) || a.target.length - b.target.length);
}

/** The shell prologue that sets up the container's filesystem view, then execs its command. */
export function prologue(spec: Pick<LaunchSpec, 'mounts' | 'workingDir'>): string {
  const lines = ['set -e'];
  for (const m of mountOrder(spec.mounts)) {
    const s = quote(m.source);
    const t = quote(m.target);
    lines.push(`if [ -d ${s} ]; then mkdir -p ${t}; else mkdir -p "$(dirname ${t})"; [ -e ${t} ] || : > ${t}; fi`);
    lines.push(`mount --bind ${s} ${t}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${t}`);
  }
  if (spec.workingDir) lines.push(`cd ${quote(spec.workingDir)}`);
  lines.push('exec "$@"');
  return lines.join('\n');
}

function launch(spec: LaunchSpec, stdio: 'log' | 'ignore'): ChildProcess {
  const fd = stdio === 'log' ? openSync(spec.logFile, 'a') : undefined;
  try {
    return spawn('ip', ['netns', 'exec', spec.ns, 'sh', '-c', prologue(spec), 'container', ...spec.argv], {
      detached: true,
      env: spec.env,
      stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface Exit {
  exitCode: number;
  signal: string | undefined;
  at: Date;
}

export class ContainerProcess {
  readonly startedAt = new Date();
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(spec: LaunchSpec) {
    this.child = launch(spec, 'log');
    this.exited = new Promise((resolve) => {
      this.child.once('error', () => resolve({ exitCode: 127, signal: undefined, at: new Date() }));
      this.child.once('exit', (code, signal) => resolve({ exitCode: code ?? 128 + 9, signal: signal ?? undefined, at: new Date() }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      // already gone
    }
  }

  /** SIGTERM to the whole process group, SIGKILL after the grace period. */
  async stop(graceMs: number): Promise<void> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.signal('SIGKILL');
  }

  kill(): void {
    this.signal('SIGKILL');
  }
}

/** Runs a command in the container's view (an exec probe); resolves its exit code, 1 on timeout. */
export function execIn(spec: Omit<LaunchSpec, 'logFile'>, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = launch({ ...spec, logFile: '' }, 'ignore');
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      resolve(1);
    }, timeoutMs);
    child.once('error', () => resolve(127));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}
