import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serveDirectory, type StaticServer } from '../runtime/http/static-files.js';
import { capture } from './testing.js';

const MODELS = fileURLToPath(new URL('../../examples/models/', import.meta.url));
const MODEL_PATH = join(MODELS, 'imdb1x128.onnx');
let server: StaticServer;
let base: string;
let digest: string;
let work: string;

before(async () => {
  digest = createHash('sha256').update(await readFile(MODEL_PATH)).digest('hex');
  server = await serveDirectory(MODELS);
  base = server.url;
  work = await mkdtemp(join(tmpdir(), 'crime-model-cli-'));
});

after(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const folder = (): Promise<string> => mkdtemp(join(work, 'case-'));

test('crime model fetch: exit codes, one-line reasons, the termination log', async () => {
  const dir = await folder();
  const log = join(dir, 'termination-log');
  const out = join(dir, 'model.onnx');
  const ok = await capture(['model', 'fetch', '--uri', `${base}/imdb1x128.onnx`, '--sha256', digest, '--out', out, '--termination-log', log]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^fetched .* to ${out}: 1017\\.5 KiB, sha256 ${digest}\\n$`));
  await assert.rejects(readFile(log), /ENOENT/, 'nothing is written on success');

  const wrong = '0'.repeat(64);
  const mismatch = await capture(['model', 'fetch', '--uri', `${base}/imdb1x128.onnx`, '--sha256', wrong, '--out', join(dir, 'x.onnx'), '--termination-log', log]);
  assert.equal(mismatch.code, 1);
  assert.equal(mismatch.stderr.trim().split('\n').length, 1);
  const reason = await readFile(log, 'utf8');
  assert.match(reason, new RegExp(`^sha256 mismatch for .*: expected ${wrong}, got ${digest}$`));
  assert.equal(mismatch.stderr, `crime model fetch: MODEL_LOAD_FAILED: ${reason}\n`);

  const missing = await capture(['model', 'fetch', '--uri', `${base}/gone.onnx`, '--out', join(dir, 'y.onnx'), '--termination-log', log]);
  assert.equal(missing.code, 1);
  assert.match(await readFile(log, 'utf8'), /HTTP 404/);

  const pvc = await capture(['model', 'fetch', '--uri', 'pvc://crime-models/imdb1x128.onnx', '--out', out, '--termination-log', log]);
  assert.equal(pvc.code, 2);
  assert.match(pvc.stderr, /is not fetched: a pvc:\/\/ model is read from the claim "crime-models", which the operator mounts/);
  assert.equal((await capture(['model', 'fetch', '--out', out, '--termination-log', ''])).code, 2);
  assert.equal((await capture(['model', 'fetch', '--uri', MODEL_PATH, '--out', out, '--sha256', 'xyz', '--termination-log', ''])).code, 2);
  assert.equal((await capture(['model', 'fetch', '--uri', MODEL_PATH, '--out', out, '--max-bytes', 'lots', '--termination-log', ''])).code, 2);
  assert.deepEqual((await readdir(dir)).sort(), ['model.onnx', 'termination-log']);
});
