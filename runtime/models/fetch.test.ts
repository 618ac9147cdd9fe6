import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  FetchError, fetchModel, inferFormat, parseByteSize, planFetch, terminationLogPath, terminationMessage, tfjsShardPaths,
} from './fetch.js';

const MODEL_PATH = fileURLToPath(new URL('../../../examples/models/imdb1x128.onnx', import.meta.url));
let model: Buffer;
let digest: string;
let server: Server;
let base: string;
let work: string;
let n = 0;

const shard = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
const modelJson = JSON.stringify({ format: 'layers-model', modelTopology: {}, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }] });
const evilJson = JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] });

before(async () => {
  model = await readFile(MODEL_PATH);
  digest = createHash('sha256').update(model).digest('hex');
  work = await mkdtemp(join(tmpdir(), 'crime-fetch-'));
  server = createServer((req, res) => {
    const send = (body: Buffer | string, type = 'application/octet-stream'): void => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (req.url) {
      case '/imdb1x128.onnx': return send(model);
      case '/tfjs/model.json': return send(modelJson, 'application/json');
      case '/tfjs/group1-shard1of1.bin': return send(shard);
      case '/evil/model.json': return send(evilJson, 'application/json');
      case '/chunked': {
        // No Content-Length: the bound must hold while streaming.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(16 * 1024, i));
        return void res.end();
      }
      case '/stall': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(1024));
        return; // and nothing more
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(work, { recursive: true, force: true });
});

/** A fresh empty folder for one case. */
async function folder(): Promise<string> {
  const dir = join(work, `case-${++n}`);
  await mkdir(dir);
  return dir;
}

async function rejectsWith(p: Promise<unknown>, message: RegExp): Promise<FetchError> {
  const err = await p.then(() => assert.fail(`expected a failure matching ${message}`), (e: unknown) => e);
  assert.ok(err instanceof FetchError, String(err));
  assert.match(err.message, message);
  assert.ok(!err.message.includes('\n'), 'one line');
  return err;
}

test('pure parts: formats, sizes, shard paths, the termination log', () => {
  assert.equal(inferFormat('https://h/m/model.json'), 'tfjs');
  assert.equal(inferFormat('https://h/m/model.json?v=1'), 'tfjs');
  assert.equal(inferFormat('/models/m.onnx'), 'onnx');
  assert.equal(parseByteSize('2Gi'), 2 * 2 ** 30);
  assert.equal(parseByteSize('512MiB'), 512 * 2 ** 20);
  assert.equal(parseByteSize('100M'), 1e8);
  assert.equal(parseByteSize('1234'), 1234);
  assert.throws(() => parseByteSize('2 GB please'), /whole number of bytes/);
  assert.deepEqual(tfjsShardPaths(modelJson, 'x'), ['group1-shard1of1.bin']);
  assert.deepEqual(tfjsShardPaths(JSON.stringify({ weightsManifest: [{ paths: ['w/a.bin', 'w/b.bin'] }, { paths: ['w/a.bin'] }] }), 'x'), ['w/a.bin', 'w/b.bin']);
  for (const bad of ['../x.bin', '/etc/passwd', 'https://evil/x.bin', 'a/./b', 'a\\b']) {
    assert.throws(() => tfjsShardPaths(JSON.stringify({ weightsManifest: [{ paths: [bad] }] }), 'x'), /does not stay beside model.json/, bad);
  }
  assert.throws(() => tfjsShardPaths('{"modelTopology":{}}', 'x'), /no weightsManifest/);
  assert.equal(terminationLogPath(undefined, () => true), '/dev/termination-log');
  assert.equal(terminationLogPath(undefined, () => false), undefined);
  assert.equal(terminationLogPath('/tmp/x', () => false), '/tmp/x');
  assert.equal(terminationLogPath('', () => true), undefined);
  assert.equal(Buffer.byteLength(terminationMessage('é'.repeat(5000))), 4096 - 4 + 3);
  assert.equal(terminationMessage('a\n  b'), 'a b');
  assert.throws(() => planFetch('pvc://models/m.onnx'), (e: unknown) => e instanceof FetchError && e.code === 'INVALID_INPUT' && /operator mounts/.test(e.message));
  assert.deepEqual(planFetch('m.onnx', '/srv'), { kind: 'local', path: '/srv/m.onnx' });
});

test('downloads over http, verifies the sha256 and leaves only the file', async () => {
  const dir = await folder();
  const out = join(dir, 'model.onnx');
  const result = await fetchModel({ uri: `${base}/imdb1x128.onnx`, out, sha256: digest });
  assert.deepEqual(result.files, [{ path: out, bytes: model.length, sha256: digest }]);
  assert.ok((await readFile(out)).equals(model));
  assert.deepEqual(await readdir(dir), ['model.onnx']);
});

test('a checksum mismatch names both digests, and keeps the old file as it was', async () => {
  const dir = await folder();
  const out = join(dir, 'model.onnx');
  await writeFile(out, 'previous');
  const wrong = 'ab'.repeat(32);
  await rejectsWith(fetchModel({ uri: `${base}/imdb1x128.onnx`, out, sha256: wrong }), new RegExp(`sha256 mismatch .*expected ${wrong}, got ${digest}`));
  assert.equal(await readFile(out, 'utf8'), 'previous');
  assert.deepEqual(await readdir(dir), ['model.onnx']);
});

test('HTTP 404 and a refused connection fail in one line, leaving nothing', async () => {
  const dir = await folder();
  const out = join(dir, 'model.onnx');
  await rejectsWith(fetchModel({ uri: `${base}/nope.onnx`, out }), /cannot fetch http:\/\/127\.0\.0\.1:\d+\/nope\.onnx: HTTP 404 Not Found/);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await rejectsWith(fetchModel({ uri: `http://127.0.0.1:${port}/m.onnx`, out }), /cannot fetch .*ECONNREFUSED/);
  assert.deepEqual(await readdir(dir), []);
});

test('more than --max-bytes is refused, declared or streamed; a stalled download times out', async () => {
  const dir = await folder();
  const out = join(dir, 'model.onnx');
  await rejectsWith(fetchModel({ uri: `${base}/imdb1x128.onnx`, out, maxBytes: 1000 }), /\(1017\.5 KiB\) is larger than the limit of 1000 bytes \(--max-bytes\)/);
  await rejectsWith(fetchModel({ uri: `${base}/chunked`, out, maxBytes: 100_000 }), /chunked is larger than the limit of 97\.66 KiB/);
  await rejectsWith(fetchModel({ uri: MODEL_PATH, out, maxBytes: 1000 }), /larger than the limit/);
  await rejectsWith(fetchModel({ uri: `${base}/stall`, out, timeoutMs: 300 }), /no data from .*\/stall for 0\.3 s \(--timeout\)/);
  assert.deepEqual(await readdir(dir), []);
});

test('copies a local path or file:// URI; refuses a missing file', async () => {
  const dir = await folder();
  const a = await fetchModel({ uri: MODEL_PATH, out: join(dir, 'a.onnx'), sha256: digest.toUpperCase() });
  assert.equal(a.files[0]?.sha256, digest);
  await fetchModel({ uri: pathToFileURL(MODEL_PATH).href, out: join(dir, 'sub', 'b.onnx') });
  assert.ok((await readFile(join(dir, 'a.onnx'))).equals(model));
  assert.ok((await readFile(join(dir, 'sub', 'b.onnx'))).equals(model));
  await rejectsWith(fetchModel({ uri: join(dir, 'none.onnx'), out: join(dir, 'c.onnx') }), /cannot read .*none\.onnx: ENOENT/);
  assert.deepEqual((await readdir(dir)).sort(), ['a.onnx', 'sub']);
});

test('tfjs: model.json and its weight shards, which must stay beside it', async () => {
  const dir = await folder();
  const out = join(dir, 'model.json');
  const result = await fetchModel({ uri: `${base}/tfjs/model.json`, out });
  assert.equal(result.format, 'tfjs');
  assert.deepEqual(result.files.map((f) => f.bytes), [Buffer.byteLength(modelJson), shard.length]);
  assert.ok((await readFile(join(dir, 'group1-shard1of1.bin'))).equals(shard));
  const evil = await folder();
  await rejectsWith(fetchModel({ uri: `${base}/evil/model.json`, out: join(evil, 'model.json') }), /does not stay beside model\.json/);
  assert.deepEqual(await readdir(evil), []);
});
