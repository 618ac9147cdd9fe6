/**
 * One container as a process, the way a container runtime starts it: inside the pod's network
 * namespace (`ip netns exec`, which also gives it a mount namespace of its own), with the pod's
 * volumes bind-mounted at their mount paths and the termination-message file at its path, the
 * container's environment, and its output appended to a log file.
 *
 * From an image (`image` given): the image's root filesystem under a writable layer of its own
 * (overlayfs, the layer a tmpfs that goes with the container), /proc, /sys and a minimal /dev, the
 * volumes and the pod's hosts, hostname and resolv.conf mounted in, the root made read-only when
 * asked, then crime-enter (enter.c) pivots into it and becomes the container's user with its
 * capabilities. Without an image, the process runs on the host's filesystem as the runner's user
 * (securityContext not emulated): `crime` on the PATH is a shim that runs this checkout's CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { ContainerIdentity } from './security.js';
import type { BindMount } from './volumes.js';

/** How a container runs from an image: every path inside the container already resolved in its root. */
export interface ImageLaunch {
  rootfs: string;
  /** a host folder where the container's writable layer is mounted (in its own mount namespace only) */
  scratch: string;
  identity: ContainerIdentity;
  cwd: string;
  /** the crime-enter binary */
  helper: string;
  /** where a failure to start is described (exit code 128) */
  errorFile: string;
}

export interface LaunchSpec {
  /** network namespace of the pod */
  ns: string;
  mounts: readonly BindMount[];
  /** the container's command and args, $(VAR) already expanded */
  argv: readonly string[];
  env: Record<string, string>;
  logFile: string;
  workingDir?: string;
  image?: ImageLaunch;
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

/** Device nodes every container gets (as runc's defaults), bound from the host's. */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/**
 * The shell prologue of a container from an image: its root (image + writable layer), kernel file
 * systems, volumes, a read-only root if asked, then crime-enter with the container's identity.
 * Mount targets are paths inside the container, already resolved in the image's root.
 */
export function imagePrologue(spec: Pick<LaunchSpec, 'mounts'> & { image: ImageLaunch }): string {
  const { image } = spec;
  const q = quote;
  const r = (inside: string): string => `"$R"${q(inside)}`;
  const lines = [
    'set -e',
    `fail() { printf '%s' "$*" > ${q(image.errorFile)}; echo "container setup: $*" >&2; exit 128; }`,
    'mount --make-rprivate / || fail "make the mount namespace private"',
    `S=${q(image.scratch)}`,
    'mount -t tmpfs -o mode=0755 crime-layer "$S" || fail "mount the writable layer"',
    'mkdir "$S/upper" "$S/work" "$S/root"',
    `mount -t overlay overlay -o lowerdir=${q(image.rootfs)},upperdir="$S/upper",workdir="$S/work" "$S/root" || fail "mount the image"`,
    'R="$S/root"',
    'mkdir -p "$R/proc" "$R/sys" "$R/dev"',
    'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
    'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"',
    'mount -t tmpfs -o nosuid,mode=0755 dev "$R/dev"',
    `for d in ${DEVICES.join(' ')}; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done`,
    'mkdir "$R/dev/shm" "$R/dev/pts"',
    'mount -t tmpfs -o nosuid,nodev,noexec,mode=1777 shm "$R/dev/shm"',
    'ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
  ];
  for (const m of mountOrder(spec.mounts)) {
    const s = q(m.source);
    const t = r(m.target);
    lines.push(`if [ -d ${s} ]; then mkdir -p ${t}; else mkdir -p "$(dirname ${t})"; [ -e ${t} ] || : > ${t}; fi || fail ${q(`create the mount point ${m.target}`)}`);
    lines.push(`mount --bind ${s} ${t} || fail ${q(`mount ${m.target}`)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${t}`);
  }
  lines.push(`[ -d ${r(image.cwd)} ] || mkdir -p ${r(image.cwd)} || fail ${q(`create the working directory ${image.cwd}`)}`);
  if (image.identity.readOnlyRoot) lines.push('mount -o remount,bind,ro "$R" || fail "make the root read-only"');
  lines.push(`exec ${enterArgs(image, ['--root', '"$R"']).join(' ')} -- "$@"`);
  return lines.join('\n');
}

/** crime-enter's options for the container's identity (quoted for the shell, or raw for spawn). */
function enterArgs(image: ImageLaunch, where: string[], raw = false): string[] {
  const q = raw ? (s: string): string => s : quote;
  const id = image.identity;
  return [
    q(image.helper), ...where, '--cwd', q(image.cwd), '--uid', String(id.uid), '--gid', String(id.gid),
    ...(id.groups.length > 0 ? ['--groups', id.groups.join(',')] : []),
    '--caps', `0x${id.caps.toString(16)}`, ...(id.noNewPrivs ? ['--no-new-privs'] : []), '--error-file', q(image.errorFile),
  ];
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
  const script = spec.image ? imagePrologue({ mounts: spec.mounts, image: spec.image }) : prologue(spec);
  try {
    return spawn('ip', ['netns', 'exec', spec.ns, 'sh', '-c', script, 'container', ...spec.argv], {
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

/**
 * Runs a command in the container's view (an exec probe); resolves its exit code, 1 on timeout.
 * From an image, inside the running container itself (`pid`): its namespaces, root and identity.
 */
export function execIn(spec: Omit<LaunchSpec, 'logFile'>, timeoutMs: number, pid?: number): Promise<number> {
  return new Promise((resolve) => {
    if (spec.image && pid === undefined) {
      resolve(1);
      return;
    }
    const child = spec.image
      ? spawn(spec.image.helper, [...enterArgs({ ...spec.image, errorFile: '/dev/null' }, ['--join', String(pid)], true).slice(1), '--', ...spec.argv], { detached: true, env: spec.env, stdio: 'ignore' })
      : launch({ ...spec, logFile: '' }, 'ignore');
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
