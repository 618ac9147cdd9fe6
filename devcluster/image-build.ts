/**
 * The `crime` image, built from this checkout's Dockerfile and unpacked for the pod runner, once
 * per test run: scripts/run-tests.mjs runs scripts/build-image.sh and passes the bundle's folder as
 * CRIME_IMAGE_BUNDLE; a test file run on its own builds it here (the layers are cached, so an
 * unchanged checkout costs seconds).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './assets.js';

let bundle: string | undefined;

export function imageBundleDir(): string {
  bundle ??= process.env['CRIME_IMAGE_BUNDLE'] || build();
  return bundle;
}

function build(): string {
  const script = join(repoRoot(), 'scripts', 'build-image.sh');
  const result = spawnSync(script, ['--bundle', '--quiet'], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${String(result.status)})`);
  const last = result.stdout.trimEnd().split('\n').pop() ?? '';
  if (last === '') throw new Error(`${script} printed no bundle folder`);
  return last;
}
