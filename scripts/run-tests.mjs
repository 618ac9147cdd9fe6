#!/usr/bin/env node
// Runs every compiled test file under dist/ with node:test. Arguments filter test files by substring,
// e.g. `node scripts/run-tests.mjs engine/` runs only the engine's tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

let files;
try {
  files = walk(root).sort();
} catch {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
if (filters.length > 0) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
// Tests that start a control plane, or run helm, get the binaries from devcluster/setup, run once here
// (it reuses KUBEBUILDER_ASSETS or its cache, else builds them from Go modules; with --with-helm also
// helm) and passed on as KUBEBUILDER_ASSETS. So `npm test`, and CI with it, builds helm too.
const env = { ...process.env };
const sources = files.map((f) => readFileSync(f, 'utf8'));
const needsHelm = sources.some((text) => text.includes('devcluster/helm.js'));
if (needsHelm || sources.some((text) => text.includes('controlplane.js'))) {
  const setup = new URL('../devcluster/setup', import.meta.url).pathname;
  const found = spawnSync(setup, needsHelm ? ['--with-helm'] : [], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (found.status !== 0) {
    console.error(`${setup} failed (exit ${found.status}): the control-plane tests cannot run`);
    process.exit(found.status ?? 1);
  }
  env.KUBEBUILDER_ASSETS = found.stdout.trimEnd().split('\n').pop();
}
// Tests that drive a browser get Chromium from scripts/setup-chromium (installed from the
// distribution when it is missing and we are root, as in CI), passed on as CRIME_CHROMIUM.
if (sources.some((text) => text.includes('browser/chromium.js'))) {
  const setup = new URL('./setup-chromium', import.meta.url).pathname;
  const found = spawnSync(setup, [], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (found.status !== 0) {
    console.error(`${setup} failed (exit ${found.status}): the browser tests cannot run`);
    process.exit(found.status ?? 1);
  }
  const path = found.stdout.trimEnd().split('\n').pop();
  if (path) env.CRIME_CHROMIUM = path;
}
// Tests that run pods from the crime image (they need root) get it built from this checkout once per
// run (scripts/build-image.sh: cached layers, so an unchanged checkout costs seconds; it installs
// buildah and mmdebstrap with apt-get when missing) and unpacked, passed on as CRIME_IMAGE_BUNDLE.
if (process.getuid?.() === 0 && !env.CRIME_IMAGE_BUNDLE && sources.some((text) => text.includes('devcluster/image-build.js'))) {
  const build = new URL('../scripts/build-image.sh', import.meta.url).pathname;
  const started = Date.now();
  const built = spawnSync(build, ['--bundle', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status !== 0) {
    console.error(`${build} failed (exit ${built.status}): the tests that run pods from the image cannot run`);
    process.exit(built.status ?? 1);
  }
  env.CRIME_IMAGE_BUNDLE = built.stdout.trimEnd().split('\n').pop();
  console.log(`# image: ${env.CRIME_IMAGE_BUNDLE} (built or found in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
