/**
 * The crime-enter helper (enter.c), compiled with the machine's C compiler on first use and cached
 * under ~/.cache/crime-k8s/bin by the hash of its source, so a changed helper is rebuilt.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../assets.js';

const run = promisify(execFile);

export function cacheDir(): string {
  return process.env['CRIME_K8S_CACHE'] || join(homedir(), '.cache', 'crime-k8s');
}

let built: Promise<string> | undefined;

/** The path of the compiled helper; a clear error when there is no C compiler. */
export function enterHelper(): Promise<string> {
  built ??= (async () => {
    const source = join(repoRoot(), 'devcluster', 'pods', 'enter.c');
    const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
    const dir = join(cacheDir(), 'bin');
    const binary = join(dir, `crime-enter-${hash}`);
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    const tmp = `${binary}.${process.pid}`;
    try {
      await run(process.env['CC'] || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, source]);
    } catch (err) {
      throw new Error(`pods from an image need a C compiler (cc) for ${source}: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
    }
    renameSync(tmp, binary);
    return binary;
  })();
  return built;
}
