import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sampleInput } from '../backends/input.js';
import { fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { send } from '../http/request.js';
import { rawExchange } from '../testing/raw-http.js';
import { staleSocket } from '../testing/sockets.js';
import { RuntimeClient } from './client.js';
import { HEADERS, type RuntimeModelInfo } from './protocol.js';
import { startRuntimeServer, type RuntimeServer } from './server.js';

after(removeFixtures);

const MAX_STEPS = 50;

interface Reply {
  status: number;
  headers: Headers;
  json: { error?: { code: string; message: string }; outputs?: number[] } | undefined;
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(`${url}/v1/infer`, { method: 'POST', body, headers });
  const text = await res.text();
  let json: Reply['json'];
  try {
    json = JSON.parse(text) as Reply['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json };
}

const postJson = (url: string, body: unknown): Promise<Reply> => post(url, JSON.stringify(body), { 'content-type': 'application/json' });

function floats(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe('runtime server on a floats model (tiny2x24, 16 features)', () => {
  let server: RuntimeServer;
  let client: RuntimeClient;
  const row = (v = 0.5): number[] => Array.from({ length: 16 }, (_, k) => v * Math.cos(k));

  before(async () => {
    const { onnx } = await fixtureModel('tiny2x24');
    server = await startRuntimeServer({
      model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: MAX_STEPS, bodyLimitBytes: 64 * 1024, defaultMetrics: false,
    });
    await server.ready;
    client = new RuntimeClient({ baseUrl: server.url });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  test('health, readiness and the model description', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal(await client.ready(), true);
    const info: RuntimeModelInfo = await client.model();
    assert.deepEqual(info, {
      name: 'tiny2x24', format: 'onnx', inputKind: 'floats', featureSize: 16, outputSize: 4, backend: 'onnx-cpu', maxSteps: MAX_STEPS,
      // Off by default: one request per run, on the event loop (no worker thread), as before batching.
      serving: { maxBatch: 1, maxDelayMs: 0, concurrency: 1, mixedLengths: true, workers: 0 },
    });
  });

  test('JSON and binary requests give the same outputs, with timings in body and headers', async () => {
    const input = sampleInput({ inputKind: 'floats', featureSize: 16 }, 7);
    const rows = Array.from({ length: 7 }, (_, t) => Array.from(input.data.subarray(t * 16, (t + 1) * 16)));
    const reply = await postJson(server.url, { inputs: rows });
    assert.equal(reply.status, 200);
    assert.equal(reply.json?.outputs?.length, 4);
    for (const h of [HEADERS.computeMs, HEADERS.queueMs, HEADERS.remoteMs]) assert.ok(Number(reply.headers.get(h)) >= 0, h);
    assert.deepEqual([reply.headers.get(HEADERS.batchSize), reply.headers.get(HEADERS.batchSteps)], ['1', '7']);
    const binary = await client.infer(input, { requestId: 'r-1' });
    assert.deepEqual(Array.from(binary.outputs), reply.json?.outputs?.map((v) => Math.fround(v)));
    assert.ok(binary.computeMs > 0 && binary.remoteMs >= binary.computeMs && binary.roundTripMs >= binary.remoteMs);
    const viaJson = await client.infer(input, { encoding: 'json' });
    assert.deepEqual(viaJson.outputs, binary.outputs);
  });

  test('bad requests get the documented status and code, and the server stays up', async () => {
    const cases: [string, () => Promise<Reply>, number, string][] = [
      ['malformed JSON', () => post(server.url, '{"inputs": [[1,2', { 'content-type': 'application/json' }), 400, 'INVALID_INPUT'],
      ['wrong content type', () => post(server.url, 'hello', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['no content type', () => post(server.url, new Uint8Array(4), {}), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['not an object', () => postJson(server.url, [1, 2]), 400, 'INVALID_INPUT'],
      ['tokens to a floats model', () => postJson(server.url, { tokens: [1, 2] }), 400, 'INVALID_INPUT'],
      ['wrong feature size', () => postJson(server.url, { inputs: [row().slice(1)] }), 400, 'INVALID_INPUT'],
      ['null value (JSON has no NaN)', () => postJson(server.url, { inputs: [[...row().slice(1), null]] }), 400, 'INVALID_INPUT'],
      ['string value', () => postJson(server.url, { inputs: [[...row().slice(1), 'NaN']] }), 400, 'INVALID_INPUT'],
      ['overflowing number literal', () => post(server.url, `{"inputs": [[${row().slice(1).join(',')},1e999]]}`, { 'content-type': 'application/json' }), 400, 'INVALID_INPUT'],
      ['empty sequence', () => postJson(server.url, { inputs: [] }), 400, 'INVALID_INPUT'],
      ['more than maxSteps', () => postJson(server.url, { inputs: Array.from({ length: MAX_STEPS + 1 }, () => row()) }), 413, 'INPUT_TOO_LONG'],
      ['huge body', () => postJson(server.url, { inputs: Array.from({ length: 2000 }, () => row()) }), 413, 'PAYLOAD_TOO_LARGE'],
      ['binary NaN', () => post(server.url, floats([...row().slice(1), NaN]), { 'content-type': 'application/octet-stream', 'crime-shape': '1,16' }), 400, 'INVALID_INPUT'],
      ['binary Infinity', () => post(server.url, floats([-Infinity, ...row().slice(1)]), { 'content-type': 'application/octet-stream', 'crime-shape': '1,16' }), 400, 'INVALID_INPUT'],
      ['binary without shape', () => post(server.url, floats(row()), { 'content-type': 'application/octet-stream' }), 400, 'INVALID_INPUT'],
      ['binary length mismatch', () => post(server.url, floats(row()), { 'content-type': 'application/octet-stream', 'crime-shape': '2,16' }), 400, 'INVALID_INPUT'],
      ['binary wrong feature size', () => post(server.url, floats(row()), { 'content-type': 'application/octet-stream', 'crime-shape': '2,8' }), 400, 'INVALID_INPUT'],
      ['binary empty', () => post(server.url, new Uint8Array(0), { 'content-type': 'application/octet-stream', 'crime-shape': '0,16' }), 400, 'INVALID_INPUT'],
      ['binary too long', () => post(server.url, floats(Array.from({ length: 16 * 51 }, () => 0)), { 'content-type': 'application/octet-stream', 'crime-shape': '51,16' }), 413, 'INPUT_TOO_LONG'],
      ['binary huge body', () => post(server.url, new Uint8Array(200 * 1024), { 'content-type': 'application/octet-stream', 'crime-shape': '3200,16' }), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [name, send, status, code] of cases) {
      const reply = await send();
      assert.equal(reply.status, status, name);
      assert.equal(reply.json?.error?.code, code, name);
      assert.equal(typeof reply.json?.error?.message, 'string', name);
    }
    const notFound = await fetch(`${server.url}/v1/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(((await notFound.json()) as Reply['json'])?.error?.code, 'NOT_FOUND');
    assert.equal((await postJson(server.url, { inputs: [row()] })).status, 200);
  });

  test('parser errors, wrong methods and charsets get coded JSON errors too', async () => {
    const wrongMethod = await fetch(`${server.url}/v1/infer`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.equal(((await wrongMethod.json()) as Reply['json'])?.error?.code, 'METHOD_NOT_ALLOWED');
    const postHealth = await fetch(`${server.url}/healthz`, { method: 'POST' });
    assert.equal(postHealth.status, 405);
    assert.equal(postHealth.headers.get('allow'), 'GET, HEAD');
    const utf16 = await post(server.url, Buffer.from(JSON.stringify({ inputs: [row()] }), 'utf16le'), { 'content-type': 'application/json; charset=utf-16' });
    assert.equal(utf16.status, 415);
    assert.equal(utf16.json?.error?.code, 'UNSUPPORTED_MEDIA_TYPE');
    const cases: Array<[string, string, number, string]> = [
      ['malformed request line', 'GARBAGE\r\n\r\n', 400, 'INVALID_INPUT'],
      ['headers too large', `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['unsupported Expect', 'POST /v1/infer HTTP/1.1\r\nhost: x\r\nexpect: magic\r\ncontent-length: 0\r\n\r\n', 417, 'EXPECTATION_FAILED'],
    ];
    for (const [what, request, status, code] of cases) {
      const reply = await rawExchange(server.url, request);
      assert.equal(reply.status, status, what);
      assert.match(reply.headers['content-type'] ?? '', /^application\/json/, what);
      assert.equal((JSON.parse(reply.body) as { error: { code: string } }).error.code, code, what);
    }
    assert.equal((await postJson(server.url, { inputs: [row()] })).status, 200);
  });

  test('client errors are typed CrimeErrors', async () => {
    await assert.rejects(client.infer({ kind: 'floats', data: new Float32Array(16 * 51), steps: 51 }), { code: 'INPUT_TOO_LONG' });
    const gone = new RuntimeClient({ baseUrl: 'http://127.0.0.1:1' });
    await assert.rejects(gone.infer(sampleInput({ inputKind: 'floats', featureSize: 16 }, 1)), { code: 'UPSTREAM_FAILED' });
    assert.equal(await gone.ready(), false);
    gone.close();
  });

  test('metrics count requests by outcome', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /crime_runtime_requests_total\{outcome="ok",encoding="binary"\} \d+/);
    assert.match(text, /crime_runtime_requests_total\{outcome="INVALID_INPUT",encoding="json"\} \d+/);
    assert.match(text, /crime_runtime_requests_total\{outcome="PAYLOAD_TOO_LARGE",encoding="binary"\} 1/);
    assert.match(text, /crime_runtime_requests_total\{outcome="UNSUPPORTED_MEDIA_TYPE",encoding="json"\} 3/);
    assert.match(text, /crime_runtime_model_info\{model="tiny2x24",format="onnx",backend="onnx-cpu",input_kind="floats"\} 1/);
    assert.match(text, /crime_runtime_ready 1/);
    assert.match(text, /crime_runtime_queue_depth 0/);
  });
});

describe('runtime server on a tokens model (imdb1x128, tfjs)', () => {
  let server: RuntimeServer;
  let client: RuntimeClient;

  before(async () => {
    const { tfjs } = await fixtureModel('imdb1x128');
    server = await startRuntimeServer({ model: { location: tfjs, backend: 'tfjs-wasm' }, maxSteps: MAX_STEPS, defaultMetrics: false });
    await server.ready;
    client = new RuntimeClient({ baseUrl: server.url });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  test('tokens as JSON and as binary int32', async () => {
    const info = await client.model();
    assert.equal(info.inputKind, 'tokens');
    assert.equal(info.vocabSize, 1000);
    const json = await postJson(server.url, { tokens: [5, 17, 999, 0] });
    assert.equal(json.status, 200);
    const binary = await client.infer({ kind: 'tokens', data: Int32Array.of(5, 17, 999, 0), steps: 4 });
    assert.deepEqual(Array.from(binary.outputs), json.json?.outputs?.map((v) => Math.fround(v)));
  });

  test('bad tokens are refused', async () => {
    for (const tokens of [[1, 1000], [-1], [1.5], ['3'], []]) {
      const reply = await postJson(server.url, { tokens });
      assert.equal(reply.status, 400, JSON.stringify(tokens));
      assert.equal(reply.json?.error?.code, 'INVALID_INPUT');
    }
    // 2^32 + 5 and 1e300 would wrap to valid ids in an Int32Array (5 and 0); -2^31 is an int32 but no id.
    for (const id of [2 ** 32 + 5, 1e300, -(2 ** 31)]) {
      const reply = await postJson(server.url, { tokens: [id] });
      assert.equal(reply.status, 400, String(id));
      assert.match(reply.json?.error?.message ?? '', /token 0 \(.*\) is outside \[0, 1000\)/);
    }
    for (const ids of [[1000], [-1], [-(2 ** 31)], [2 ** 31 - 1]]) {
      const reply = await post(server.url, new Uint8Array(Int32Array.from(ids).buffer), { 'content-type': 'application/octet-stream', 'crime-shape': '1', 'crime-dtype': 'int32' });
      assert.equal(reply.status, 400, `binary ${ids[0]}`);
      assert.equal(reply.json?.error?.code, 'INVALID_INPUT');
    }
    assert.equal((await postJson(server.url, { inputs: [[1]] })).json?.error?.code, 'INVALID_INPUT');
  });
});

test('close() lets an in-flight inference finish, then stops accepting', async () => {
  const { onnx } = await fixtureModel('cove2x300');
  const server = await startRuntimeServer({ model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: 2000, defaultMetrics: false });
  await server.ready;
  const client = new RuntimeClient({ baseUrl: server.url });
  try {
    const inflight = client.infer(sampleInput({ inputKind: 'floats', featureSize: 300 }, 2000));
    for (let k = 0; k < 1000 && server.queue.active === 0; k++) await new Promise((r) => setTimeout(r, 1));
    const closing = server.close();
    const result = await inflight;
    assert.equal(result.outputs.length, 3);
    await closing;
    assert.equal(await client.ready(), false);
  } finally {
    client.close();
    await server.close();
  }
});

describe('runtime server on a Unix socket', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crime-runtime-sock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const start = async (extra: { socket: string; port?: number }): Promise<RuntimeServer> => {
    const { onnx } = await fixtureModel('tiny2x24');
    return startRuntimeServer({ model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: MAX_STEPS, defaultMetrics: false, ...extra });
  };

  test('the socket alone: no TCP listener, mode 0660, the whole API through RuntimeClient, gone on close', async () => {
    const socket = join(dir, 'runtime.sock');
    const server = await start({ socket });
    const client = new RuntimeClient({ baseUrl: `unix:${socket}` });
    try {
      assert.equal(server.url, `unix:${socket}`);
      assert.equal(server.port, 0);
      assert.deepEqual(server.addresses, [`unix:${socket}`]);
      assert.equal(statSync(socket).mode & 0o777, 0o660);
      await server.ready;
      assert.equal(await client.ready(), true);
      assert.equal((await client.model()).name, 'tiny2x24');
      const input = sampleInput({ inputKind: 'floats', featureSize: 16 }, 5);
      const binary = await client.infer(input, { requestId: 'over-the-socket' });
      assert.equal(binary.outputs.length, 4);
      assert.deepEqual((await client.infer(input, { encoding: 'json' })).outputs, binary.outputs);
      // Every other path answers over the socket too, and Node's parser errors are coded as on TCP.
      const agent = new Agent();
      const get = async (path: string): Promise<number> =>
        (await send({ agent, method: 'GET', url: new URL(path, 'http://localhost'), socketPath: socket, headers: {}, timeoutMs: 5000, peer: 'runtime' })).status;
      assert.deepEqual([await get('/healthz'), await get('/readyz'), await get('/metrics'), await get('/v1/nope')], [200, 200, 200, 404]);
      agent.destroy();
      const garbage = await rawExchange(`unix:${socket}`, 'GARBAGE\r\n\r\n');
      assert.equal(garbage.status, 400);
      assert.equal((JSON.parse(garbage.body) as { error: { code: string } }).error.code, 'INVALID_INPUT');
    } finally {
      client.close();
      await server.close();
    }
    assert.equal(existsSync(socket), false, 'close() removes the socket file');
    const gone = new RuntimeClient({ baseUrl: `unix:${socket}` });
    await assert.rejects(gone.infer(sampleInput({ inputKind: 'floats', featureSize: 16 }, 1)), { code: 'UPSTREAM_FAILED' });
    gone.close();
  });

  test('a stale socket file (its runtime was killed) is replaced; a live one is refused', async () => {
    const socket = join(dir, 'stale.sock');
    staleSocket(socket);
    const server = await start({ socket });
    try {
      await assert.rejects(start({ socket }), { code: 'CONFLICT', message: /another process listens on/ });
      await server.ready;
      const client = new RuntimeClient({ baseUrl: `unix:${socket}` });
      assert.equal(await client.ready(), true, 'the first runtime still answers');
      client.close();
    } finally {
      await server.close();
    }
  });

  test('with --port too, the socket and TCP serve the same runtime', async () => {
    const socket = join(dir, 'both.sock');
    const server = await start({ socket, port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(server.addresses, [`unix:${socket}`, server.url]);
      await server.ready;
      const viaSocket = new RuntimeClient({ baseUrl: `unix://${socket}` });
      const viaTcp = new RuntimeClient({ baseUrl: server.url });
      const input = sampleInput({ inputKind: 'floats', featureSize: 16 }, 3);
      assert.deepEqual((await viaSocket.infer(input)).outputs, (await viaTcp.infer(input)).outputs);
      viaSocket.close();
      viaTcp.close();
    } finally {
      await server.close();
    }
    assert.equal(existsSync(socket), false);
  });
});
