/**
 * What the container image holds, without a container engine: the package `npm pack` makes,
 * installed into an empty folder by scripts/install-package.sh, the very script the Dockerfile runs
 * (production dependencies from the lockfile, out of npm's cache here). The installed `crime` then
 * answers --help, fetches the example model from the kind model server (examples/kind/), and
 * serves it as a runtime.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/** Starts a process and resolves with it once a line of its stdout matches. */
function startUntil(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }, line: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const match = line.exec(out);
      if (match) resolve({ child, match });
    });
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${String(code)}) before printing ${String(line)}:\n${out}\n${err}`)));
  });
}

describe('the npm package as the image installs it', () => {
  let dir: string;
  let prefix: string;
  let tarball: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  const crime = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync('crime', args, { env, cwd: dir, encoding: 'utf8', timeout: 60_000 });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crime-package-'));
    prefix = join(dir, 'opt', 'crime');
    // The build already ran (run-tests needs dist/): no prepare script again.
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root('.'), encoding: 'utf8', timeout: 120_000 });
    assert.equal(packed.status, 0, packed.stderr);
    tarball = join(dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]?.filename ?? '');
    // As a container would run it: HOME in a scratch folder, the installed CLI first on PATH.
    env = { ...process.env, HOME: join(dir, 'home'), PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` };
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries what the image needs and no tests', () => {
    const listing = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').map((f) => f.replace(/^package\//, ''));
    for (const needed of ['dist/cli/main.js', 'dist/operator/manager.js', 'dist/runtime/mapper/server.js', 'crds/crime.dev_rnntopologies.yaml',
      'charts/crime-operator/Chart.yaml', 'charts/crime-operator/values.schema.json', 'charts/crime-operator/files/rbac-rules.yaml',
      'charts/crime-operator/files/crds/crime.dev_rnntopologies.yaml', 'examples/models/imdb1x128.onnx', 'examples/topologies/three-tier-kind.yaml']) {
      assert.ok(listing.includes(needed), `the package lacks ${needed}`);
    }
    const tests = listing.filter((f) => /\.test\.js(\.map)?$/.test(f) || f.startsWith('dist/test/') || /\/(testing|fixtures)(\/|\.js)/.test(f));
    assert.deepEqual(tests, [], 'tests and their fixtures stay out of the package');
  });

  it('installs with the Dockerfile\'s script: production dependencies from the lockfile, onnxruntime for this platform only, crime on PATH', () => {
    const installed = spawnSync(root('scripts/install-package.sh'), [tarball, root('package-lock.json'), prefix], {
      encoding: 'utf8',
      timeout: 240_000,
      // Everything is in npm's cache since `npm ci`: the test makes no network request.
      env: { ...process.env, CRIME_NPM_FLAGS: '--offline', ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
    assert.match(installed.stdout, /installed crime-k8s@\d+\.\d+\.\d+ in .* for linux\/(amd64|arm64)/);
    assert.ok(!existsSync(join(prefix, 'node_modules', 'typescript')), 'no devDependencies');
    const ort = join(prefix, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    assert.deepEqual(readdirSync(ort), ['linux']);
    assert.deepEqual(readdirSync(join(ort, 'linux')), [process.arch === 'arm64' ? 'arm64' : 'x64']);
    assert.equal(spawnSync('find', [join(prefix, 'node_modules'), '-name', '*.map'], { encoding: 'utf8' }).stdout, '', 'no source maps of dependencies');
  });

  it('the installed crime answers --help, as do its operator, runtime and mapper', () => {
    const help = crime('--help');
    assert.equal(help.status, 0, help.stderr);
    for (const command of ['operator', 'runtime', 'mapper', 'model']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const operator = crime('operator', '--help');
    assert.equal(operator.status, 0, operator.stderr);
    assert.match(operator.stdout, /--image IMAGE/);
    assert.match(operator.stdout, /--leader-elect/);
    for (const command of ['runtime', 'mapper']) assert.equal(crime(command, '--help').status, 0, command);
  });

  it('fetches the example model from the kind model server and serves it', async () => {
    // The model server's own script, from its manifest, with the installed package's models.
    const server = parseAllDocuments(readFileSync(root('examples/kind/model-server.yaml'), 'utf8'))[0]?.toJS() as {
      spec: { template: { spec: { containers: Array<{ command: string[] }> } } };
    };
    const [node, ...nodeArgs] = server.spec.template.spec.containers[0]?.command ?? [];
    assert.equal(node, 'node');
    const models = await startUntil(process.execPath, nodeArgs, { env: { ...env, MODELS_DIR: join(prefix, 'examples', 'models'), PORT: '0', HOST: '127.0.0.1' }, cwd: dir }, /on port (\d+)/);
    children.push(models.child);
    const topology = parseYaml(readFileSync(root('examples/topologies/three-tier-kind.yaml'), 'utf8')) as { spec: { model: { uri: string; sha256: string } } };
    const file = new URL(topology.spec.model.uri).pathname;

    const out = join(dir, 'models', 'model.onnx');
    const fetched = crime('model', 'fetch', '--uri', `http://127.0.0.1:${models.match[1] ?? ''}${file}`, '--sha256', topology.spec.model.sha256, '--out', out, '--termination-log', '');
    assert.equal(fetched.status, 0, fetched.stderr);

    const runtime = await startUntil('crime', ['runtime', '--model', out, '--port', '0', '--log-level', 'warn'], { env, cwd: dir }, /^listening (http:\S+)$/m);
    children.push(runtime.child);
    const url = runtime.match[1] ?? '';
    const model = (await (await fetch(`${url}/v1/model`)).json()) as { backend: string };
    assert.equal(model.backend, 'onnx-cpu');
    const answer = await fetch(`${url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [12, 7, 85, 3, 41] }) });
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.equal(((await answer.json()) as { outputs: number[] }).outputs.length, 2);
  });

  it('the Dockerfile installs with that script and runs as UID 65532 with crime on PATH, in both images', () => {
    const dockerfile = readFileSync(root('Dockerfile'), 'utf8');
    assert.equal((dockerfile.match(/RUN .*install-package \/pkg\/crime-k8s-\*\.tgz \/pkg\/package-lock\.json \/opt\/crime/g) ?? []).length, 2, 'the CPU and GPU images install alike');
    assert.match(dockerfile, /COPY scripts\/install-package\.sh/);
    assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=cuda12 install-package/);
    assert.equal((dockerfile.match(/^USER 65532:65532$/gm) ?? []).length, 2);
    assert.equal((dockerfile.match(/^ENV PATH=\/opt\/crime\/bin:/gm) ?? []).length, 2);
    assert.equal((dockerfile.match(/HOME=\/tmp/g) ?? []).length, 2, 'HOME on the emptyDir the pods mount, the root filesystem being read-only');
  });
});
