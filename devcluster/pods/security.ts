/**
 * What a container's process is, from its image and its pod's and its own securityContext, by the
 * rules kubelet and containerd apply: the user and groups (runAsUser, runAsGroup, fsGroup,
 * supplementalGroups, else the image's USER), runAsNonRoot checked before anything starts, the
 * capabilities (containerd's default set, then `drop` and `add`), no_new_privs for
 * allowPrivilegeEscalation: false, a read-only root for readOnlyRootFilesystem, and the command,
 * environment and working directory (the pod's, else the image's). Pure but for reading the image.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { imageUser, primaryGroup, type ImageBundle } from './image.js';

/** The kubelet's CreateContainerConfigError: the container cannot be made as specified. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/** Linux capability numbers (linux/capability.h). */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14, IPC_OWNER: 15,
  SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23,
  SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31,
  MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39,
  CHECKPOINT_RESTORE: 40,
};

/** containerd's (and Docker's) default capabilities of a container. */
export const DEFAULT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'] as const;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ContainerIdentity {
  uid: number;
  gid: number;
  groups: number[];
  /** kept capabilities, bit N = capability N */
  caps: bigint;
  noNewPrivs: boolean;
  readOnlyRoot: boolean;
}

function capabilityNumber(name: string): number {
  const n = CAPABILITIES[name.toUpperCase().replace(/^CAP_/, '')];
  if (n === undefined) throw new ContainerConfigError(`unknown capability "${name}"`);
  return n;
}

/** The capability set: the defaults (all when privileged), less `drop`, plus `add` ("ALL" in either). */
export function capabilitySet(c: V1Container): bigint {
  const all = Object.values(CAPABILITIES).reduce((m, n) => m | (1n << BigInt(n)), 0n);
  if (c.securityContext?.privileged) return all;
  const add = c.securityContext?.capabilities?.add ?? [];
  const drop = c.securityContext?.capabilities?.drop ?? [];
  let set = DEFAULT_CAPABILITIES.reduce((m, name) => m | (1n << BigInt(capabilityNumber(name))), 0n);
  if (drop.some((d) => d.toUpperCase() === 'ALL')) set = 0n;
  for (const a of add) set = a.toUpperCase() === 'ALL' ? all : set | (1n << BigInt(capabilityNumber(a)));
  for (const d of drop) if (d.toUpperCase() !== 'ALL') set &= ~(1n << BigInt(capabilityNumber(d)));
  return set;
}

/** The process's user, groups, capabilities and restrictions; throws ContainerConfigError as the kubelet would refuse. */
export function identityOf(image: ImageBundle, pod: V1Pod, c: V1Container): ContainerIdentity {
  const podCtx = pod.spec?.securityContext ?? {};
  const ctx = c.securityContext ?? {};
  const runAsUser = ctx.runAsUser ?? podCtx.runAsUser;
  const runAsGroup = ctx.runAsGroup ?? podCtx.runAsGroup;
  const fromImage = imageUser(image.rootfs, image.config.User);
  let uid: number;
  let gid: number;
  if (runAsUser !== undefined) {
    uid = runAsUser;
    gid = runAsGroup ?? primaryGroup(image.rootfs, uid);
  } else {
    if (fromImage.uid === undefined || fromImage.gid === undefined) throw new ContainerConfigError(`unable to find user ${fromImage.name} in the image`);
    uid = fromImage.uid;
    gid = runAsGroup ?? fromImage.gid;
  }
  if (ctx.runAsNonRoot ?? podCtx.runAsNonRoot) {
    if (runAsUser === undefined && !/^\d+(:|$)/.test(fromImage.name)) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${fromImage.name}), cannot verify user is non-root`);
    if (uid === 0) throw new ContainerConfigError('container has runAsNonRoot and image will run as root');
  }
  const groups = [...new Set([...(podCtx.supplementalGroups ?? []), ...(podCtx.fsGroup !== undefined ? [podCtx.fsGroup] : [])])];
  const caps = capabilitySet(c);
  const escalation = ctx.allowPrivilegeEscalation ?? true;
  if (!escalation && (ctx.privileged || (caps & (1n << BigInt(CAPABILITIES['SYS_ADMIN'] as number))) !== 0n)) {
    throw new ContainerConfigError('cannot set allowPrivilegeEscalation to false and privileged or CAP_SYS_ADMIN to true');
  }
  return { uid, gid, groups, caps, noNewPrivs: !escalation, readOnlyRoot: ctx.readOnlyRootFilesystem === true };
}

/** The command line: `command` replaces the image's ENTRYPOINT (and drops its CMD); `args` replaces CMD. */
export function argvOf(image: ImageBundle, c: V1Container): string[] {
  const entry = c.command ?? image.config.Entrypoint ?? [];
  const cmd = c.args ?? (c.command ? [] : (image.config.Cmd ?? []));
  const argv = [...entry, ...cmd];
  if (argv.length === 0) throw new ContainerConfigError('no command specified: neither the container nor the image has one');
  return argv;
}

/** The image's environment under the container's own, with PATH and HOME as the runtime fills them in. */
export function baseEnvOf(image: ImageBundle): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of image.config.Env ?? []) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  env['PATH'] ??= DEFAULT_PATH;
  return env;
}

export function workingDirOf(image: ImageBundle, c: V1Container): string {
  return c.workingDir || image.config.WorkingDir || '/';
}
