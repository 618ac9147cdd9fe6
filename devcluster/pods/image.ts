/**
 * An unpacked image, as the pod runner's nodes hold it (`scripts/build-image.sh --bundle` writes
 * one): `rootfs/`, the root filesystem every container of the image starts from, and
 * `config.json`, the image's OCI configuration (user, environment, entrypoint, command, working
 * directory). Paths inside the root are resolved the way a container runtime resolves them: a
 * symlink's target is taken inside the root, never on the host.
 */
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
}

export interface ImageBundle {
  dir: string;
  rootfs: string;
  /** the name it was built as (e.g. localhost/crime:dev), and the image ID */
  name: string;
  id: string;
  config: ImageConfig;
}

/** Reads a bundle; a clear error naming what is missing. */
export function loadImageBundle(dir: string): ImageBundle {
  const read = (file: string): string => {
    try {
      return readFileSync(join(dir, file), 'utf8').trim();
    } catch {
      throw new Error(`${dir} is not an unpacked image: it has no ${file} (make one with scripts/build-image.sh --bundle)`);
    }
  };
  const name = read('name');
  const id = read('image-id');
  let parsed: { config?: ImageConfig };
  try {
    parsed = JSON.parse(read('config.json')) as { config?: ImageConfig };
  } catch (err) {
    throw new Error(`${join(dir, 'config.json')}: ${(err as Error).message}`);
  }
  const rootfs = join(dir, 'rootfs');
  if (!statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir} is not an unpacked image: it has no rootfs/`);
  return { dir, rootfs, name, id, config: parsed.config ?? {} };
}

/** An image reference as the container runtime compares it: registry and tag made explicit. */
export function normalizeImage(ref: string): string {
  let name = ref.split('@')[0] as string;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!hasRegistry) name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  if (!/:[^/]+$/.test(name)) name += ':latest';
  return name;
}

export function imageMatches(bundle: ImageBundle, ref: string): boolean {
  return normalizeImage(ref) === normalizeImage(bundle.name);
}

/**
 * `path` (absolute, inside the container) with every symlink resolved inside `rootfs`; the result
 * is the path inside the container. Components that do not exist are kept as they are (they are
 * created at mount time).
 */
export function resolveInRoot(rootfs: string, path: string): string {
  let done: string[] = [];
  let todo = path.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const inside = `/${[...done, part].join('/')}`;
    const st = lstatSync(join(rootfs, inside), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      if (++links > 40) throw new Error(`${path}: too many symbolic links in the image`);
      const target = readlinkSync(join(rootfs, inside));
      todo = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...todo];
      if (target.startsWith('/')) done = [];
      continue;
    }
    done.push(part);
  }
  return posix.join('/', ...done);
}

interface Account {
  name: string;
  id: number;
  gid?: number;
  home?: string;
}

function accounts(rootfs: string, file: 'passwd' | 'group'): Account[] {
  let text = '';
  try {
    text = readFileSync(join(rootfs, resolveInRoot(rootfs, `/etc/${file}`)), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', id: Number(f[2]), ...(file === 'passwd' ? { gid: Number(f[3]), home: f[5] ?? '/' } : {}) };
  });
}

/**
 * The image's USER as numbers: `uid[:gid]` or names looked up in the image's /etc/passwd and
 * /etc/group; the group defaults to the user's passwd entry, else 0. Undefined fields when a name
 * cannot be resolved (the caller reports it).
 */
export function imageUser(rootfs: string, user: string | undefined): { uid?: number; gid?: number; name: string } {
  const spec = user && user !== '' ? user : '0';
  const [u = '0', g] = spec.split(':');
  const passwd = accounts(rootfs, 'passwd');
  const uid = /^\d+$/.test(u) ? Number(u) : passwd.find((a) => a.name === u)?.id;
  let gid: number | undefined;
  if (g !== undefined) gid = /^\d+$/.test(g) ? Number(g) : accounts(rootfs, 'group').find((a) => a.name === g)?.id;
  else gid = passwd.find((a) => a.id === uid)?.gid ?? 0;
  return { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), name: spec };
}

/** The primary group of `uid` in the image's /etc/passwd, 0 when it has none (containerd's rule). */
export function primaryGroup(rootfs: string, uid: number): number {
  return accounts(rootfs, 'passwd').find((a) => a.id === uid)?.gid ?? 0;
}

/** The home folder of `uid` in the image's /etc/passwd, "/" when it has none: HOME when neither image nor pod sets it. */
export function homeOf(rootfs: string, uid: number): string {
  return accounts(rootfs, 'passwd').find((a) => a.id === uid)?.home || '/';
}
