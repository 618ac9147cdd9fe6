/**
 * A pod's volumes as host folders, the way the kubelet lays them out: ConfigMap and Secret volumes
 * are written atomically (a timestamped folder, a `..data` symlink swapped by rename, and one
 * symlink per file through `..data`), so a reader never sees half an update and watches of the
 * mounted files behave as in a cluster; emptyDir is a fresh folder; a PersistentVolumeClaim is the
 * folder `<claims>/<namespace>/<claim>` of this machine. With the pod's fsGroup, every volume is
 * handed to that group as the kubelet does (SetVolumeOwnership), so a non-root container can read
 * its Secret and write its emptyDir.
 */
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1ConfigMap, V1KeyToPath, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';

export interface VolumeSources {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
}

/** A mount the container launcher binds: host folder or file → path in the container. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

type Files = Map<string, { content: Buffer; mode: number }>;

function projected(data: Record<string, Buffer>, items: V1KeyToPath[] | undefined, defaultMode: number, what: string): Files {
  const files: Files = new Map();
  if (!items || items.length === 0) {
    for (const [key, content] of Object.entries(data)) files.set(key, { content, mode: defaultMode });
    return files;
  }
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) throw new Error(`${what} has no key "${item.key}"`);
    files.set(item.path, { content, mode: item.mode ?? defaultMode });
  }
  return files;
}

/** Writes `files` into `dir` with the kubelet's atomic layout; returns false when nothing changed. */
export function writeAtomic(dir: string, files: Files): boolean {
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  const current = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  if (current !== undefined && sameFiles(join(dir, current), files)) return false;
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${Math.floor(Math.random() * 1e6)}`;
  for (const [path, f] of files) {
    const target = join(dir, stamp, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    chmodSync(target, f.mode);
  }
  mkdirSync(join(dir, stamp), { recursive: true });
  const tmp = join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(stamp, tmp);
  renameSync(tmp, dataLink);
  const top = new Set([...files.keys()].map((p) => p.split('/')[0] as string));
  for (const name of top) if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..')) {
      if (name !== '..data' && name !== stamp) rmSync(join(dir, name), { recursive: true, force: true });
    } else if (!top.has(name)) {
      unlinkSync(join(dir, name));
    }
  }
  return true;
}

function sameFiles(dir: string, files: Files): boolean {
  try {
    const count = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : 1), 0);
    if (count(dir) !== files.size) return false;
    for (const [path, f] of files) if (!readFileSync(join(dir, path)).equals(f.content)) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * The kubelet's SetVolumeOwnership: everything under `path` to group `gid`, readable by the group
 * (and writable unless the volume is read-only), folders setgid so new files keep the group.
 */
export function applyFsGroup(path: string, gid: number, readOnly: boolean): void {
  const st = lstatSync(path);
  lchownSync(path, -1, gid);
  if (st.isSymbolicLink()) return;
  let mask = readOnly ? 0o440 : 0o660;
  if (st.isDirectory()) {
    mask |= 0o2110;
    for (const name of readdirSync(path)) applyFsGroup(join(path, name), gid, readOnly);
  }
  chmodSync(path, (st.mode & 0o7777) | mask);
}

export class PodVolumes {
  private readonly dirs = new Map<string, string>();

  constructor(
    private readonly pod: V1Pod,
    private readonly root: string,
    private readonly claims: string,
    private readonly sources: VolumeSources,
  ) {}

  private get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }

  /** Creates every volume; throws (the pod waits, as with the kubelet's FailedMount) if a source is missing. */
  setUp(): void {
    const fsGroup = this.pod.spec?.securityContext?.fsGroup;
    for (const v of this.pod.spec?.volumes ?? []) {
      const dir = v.persistentVolumeClaim ? join(this.claims, this.namespace, v.persistentVolumeClaim.claimName) : join(this.root, v.name);
      mkdirSync(dir, { recursive: true });
      // An emptyDir is open to every user of the pod, as the kubelet makes it.
      if (v.emptyDir) chmodSync(dir, 0o777);
      if (fsGroup !== undefined && (v.emptyDir || v.persistentVolumeClaim)) applyFsGroup(dir, fsGroup, false);
      this.dirs.set(v.name, dir);
    }
    this.refresh();
  }

  /** Rewrites ConfigMap and Secret volumes whose source changed; returns the names that changed. */
  refresh(): string[] {
    const changed: string[] = [];
    for (const v of this.pod.spec?.volumes ?? []) {
      const files = this.filesOf(v);
      const dir = this.dirs.get(v.name) as string;
      if (!files || !writeAtomic(dir, files)) continue;
      const fsGroup = this.pod.spec?.securityContext?.fsGroup;
      if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, true);
      changed.push(v.name);
    }
    return changed;
  }

  private filesOf(v: V1Volume): Files | undefined {
    if (v.configMap) {
      const cm = this.sources.configMap(this.namespace, v.configMap.name ?? '');
      if (!cm) {
        if (v.configMap.optional) return new Map();
        throw new Error(`configmap "${v.configMap.name ?? ''}" not found`);
      }
      const data: Record<string, Buffer> = {};
      for (const [k, text] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(text);
      for (const [k, b64] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(b64, 'base64');
      return projected(data, v.configMap.items, v.configMap.defaultMode ?? 0o644, `configmap ${v.configMap.name ?? ''}`);
    }
    if (v.secret) {
      const secret = this.sources.secret(this.namespace, v.secret.secretName ?? '');
      if (!secret) {
        if (v.secret.optional) return new Map();
        throw new Error(`secret "${v.secret.secretName ?? ''}" not found`);
      }
      const data: Record<string, Buffer> = {};
      for (const [k, b64] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(b64, 'base64');
      return projected(data, v.secret.items, v.secret.defaultMode ?? 0o644, `secret ${v.secret.secretName ?? ''}`);
    }
    return undefined;
  }

  /** The bind mounts of a container's volumeMounts. */
  mounts(volumeMounts: ReadonlyArray<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>): BindMount[] {
    return volumeMounts.map((m) => {
      const dir = this.dirs.get(m.name);
      if (!dir) throw new Error(`volume "${m.name}" is not defined`);
      const readOnly = m.readOnly === true || this.pod.spec?.volumes?.find((v) => v.name === m.name)?.persistentVolumeClaim?.readOnly === true;
      return { source: m.subPath ? join(dir, m.subPath) : dir, target: m.mountPath, readOnly };
    });
  }

  tearDown(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
