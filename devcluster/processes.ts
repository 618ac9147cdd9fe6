/**
 * Child processes of the test control plane, each in its own process group, with output to a log
 * file. Nothing is left behind:
 * - stop() sends SIGTERM to the whole group, then SIGKILL after a grace period;
 * - when this process exits, or gets SIGINT/SIGTERM/SIGHUP that nothing else handles, every live
 *   group is killed;
 * - a watchdog (a tiny shell loop in a group of its own) kills the groups and removes the work
 *   folder if this process dies without running its handlers (SIGKILL, crash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  /** Short name used in messages, e.g. "kube-apiserver". */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Registry the process joins so it is killed with the others; the default one if omitted. */
  registry?: ProcessRegistry;
}

/** Process groups that must die with this process. */
export class ProcessRegistry {
  private readonly groups = new Set<number>();
  private watchdog: ChildProcess | undefined;
  private readonly groupsFile: string | undefined;
  private readonly workDir: string | undefined;
  private closed = false;

  /**
   * @param watch when given, a watchdog kills the registered groups and removes `workDir` if this
   * process disappears. `groupsFile` is where the live group ids are written for it.
   */
  constructor(watch?: { groupsFile: string; workDir: string }) {
    this.groupsFile = watch?.groupsFile;
    this.workDir = watch?.workDir;
    installExitHandlers();
    allRegistries.add(this);
    if (watch !== undefined) this.startWatchdog();
  }

  add(pgid: number): void {
    this.groups.add(pgid);
    this.persist();
  }

  delete(pgid: number): void {
    this.groups.delete(pgid);
    this.persist();
  }

  /** Kills every registered group at once; safe to call from an exit handler. */
  killAllSync(): void {
    for (const pgid of this.groups) killGroup(pgid, 'SIGKILL');
    this.groups.clear();
    this.persist();
  }

  /** Ends the watchdog; call after every process was stopped and the work folder removed. */
  close(): void {
    this.killAllSync();
    // Exit events of what was just killed arrive later, when the folder may be gone.
    this.closed = true;
    if (this.watchdog?.pid !== undefined) killGroup(this.watchdog.pid, 'SIGKILL');
    this.watchdog = undefined;
    allRegistries.delete(this);
    if (defaultRegistry === this) defaultRegistry = undefined;
  }

  /** What the exit and signal handlers do: kill everything and remove the work folder at once. */
  abort(): void {
    this.close();
    if (this.workDir !== undefined && process.env['CRIME_CLUSTER_KEEP'] !== '1') rmSync(this.workDir, { recursive: true, force: true });
  }

  private persist(): void {
    if (this.groupsFile !== undefined && !this.closed) writeFileSync(this.groupsFile, [...this.groups].join('\n') + '\n');
  }

  private startWatchdog(): void {
    if (this.groupsFile === undefined || this.workDir === undefined) return;
    this.persist();
    const script = [
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
      'for g in $(cat "$2" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done',
      'rm -rf -- "$3"',
    ].join('\n');
    const child = spawn('bash', ['-c', script, 'crime-cluster-watchdog', String(process.pid), this.groupsFile, this.workDir], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    this.watchdog = child;
  }
}

const allRegistries = new Set<ProcessRegistry>();
let defaultRegistry: ProcessRegistry | undefined;
let handlersInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function killEverything(): void {
  for (const registry of allRegistries) registry.abort();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // A command that handles the signal itself (crime cluster up: until-signal.ts) stops its
      // processes in order, or ignores it (SIGHUP when detached); the exit handler still kills
      // whatever is left. A second signal while it drains finds no other handler and ends it all.
      if (process.listenerCount(signal) > 1) return;
      process.off(signal, onSignal);
      killEverything();
      // Die of the same signal, as if no handler had been installed.
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function registryOrDefault(registry: ProcessRegistry | undefined): ProcessRegistry {
  if (registry !== undefined) return registry;
  defaultRegistry ??= new ProcessRegistry();
  return defaultRegistry;
}

/** A started child process, in its own process group. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process exits, whoever ended it. */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly child: ChildProcess;

  private constructor(name: string, child: ChildProcess, logFile: string, registry: ProcessRegistry) {
    if (child.pid === undefined) throw new Error(`${name}: spawn gave no pid`);
    this.name = name;
    this.pid = child.pid;
    this.logFile = logFile;
    this.child = child;
    registry.add(this.pid);
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        // The group may still hold children of the process: kill them too.
        killGroup(this.pid, 'SIGKILL');
        registry.delete(this.pid);
        resolve(this.exitInfo);
      });
    });
  }

  static start(options: ManagedProcessOptions): ManagedProcess {
    const registry = registryOrDefault(options.registry);
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      // spawn() reports ENOENT and the like as an 'error' event, and leaves pid undefined.
      child.once('error', () => undefined);
      if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
      child.unref();
      return new ManagedProcess(options.name, child, options.logFile, registry);
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Asks the process group to end, then kills it after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    // Unreferenced while running (so a forgotten process never holds the test process open), but
    // awaited here: hold the event loop until it has exited.
    this.child.ref();
    killGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `lines` lines of the log, for error messages. */
  logTail(lines = 20): string {
    try {
      const text = readFileSync(this.logFile, 'utf8').trimEnd().split('\n');
      return text.slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Throws with the log tail if the process has exited. */
  assertRunning(): void {
    if (this.exitInfo === undefined) return;
    const { code, signal } = this.exitInfo;
    throw new Error(`${this.name} exited (code ${String(code)}, signal ${String(signal)}); last log lines:\n${this.logTail()}`);
  }
}
