import type { Stats } from 'node:fs';
import type { MapperConfig, MapperConfigFile } from './config.js';

/** What the running mapper was configured from, as far as deciding on a reload goes. */
export interface RunningConfig {
  config: MapperConfig;
  /** the file carried a valid checksum */
  sealed: boolean;
}

/**
 * Why a new, valid configuration file must still not replace the running one, or undefined if it
 * may. Fail closed: a file that was sealed stays sealed (an unsealed one may be a half-written
 * copy), and a reload never turns authentication off (only a restart can).
 */
export function refuseReload(running: RunningConfig, next: MapperConfigFile): string | undefined {
  if (running.sealed && !next.sealed) {
    return 'the running configuration carries a checksum and the new file has none, so it may be incomplete';
  }
  if (!running.config.auth.disabled && next.config.auth.disabled) {
    return 'a reload cannot turn authentication off; restart the mapper to do that';
  }
  return undefined;
}

/** Fields that only take effect on a restart and differ between two configurations. */
export function restartOnlyChanges(running: MapperConfig, next: MapperConfig): string[] {
  const fixed: string[] = (['device', 'runtimeUrl'] as const).filter((k) => next[k] !== running[k]);
  if (next.listen.port !== running.listen.port || next.listen.host !== running.listen.host) fixed.push('listen');
  return fixed;
}

/**
 * Whether a polled file changed. The inode counts: Kubernetes updates a mounted ConfigMap by
 * swapping the `..data` symlink to a new directory, which gives the file a new inode.
 */
export function fileChanged(cur: Stats, prev: Stats): boolean {
  return cur.mtimeMs !== prev.mtimeMs || cur.ctimeMs !== prev.ctimeMs || cur.size !== prev.size || cur.ino !== prev.ino || cur.dev !== prev.dev;
}
