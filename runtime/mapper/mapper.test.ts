import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { rawExchange } from '../testing/raw-http.js';
import { startRuntimeServer, type RuntimeServer } from '../server/server.js';
import { LinkEmulator } from '../../local/link-emulator.js';
import { startMapperServer, type MapperServer } from './server.js';
import type { MapperInferResponse } from './protocol.js';

after(removeFixtures);

const TOKEN = 'test-token-0123456789abcdef';
const MAX_STEPS = 400;
const FEATURES = 16; // tiny2x24

interface Reply {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string } } & Partial<MapperInferResponse>;
}

async function call(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Reply['body'];
  try {
    body = JSON.parse(text) as Reply['body'];
  } catch {
    body = {};
  }
  return { status: res.status, headers: res.headers, body };
}

const rows = (n: number, v = 0.25): number[][] => Array.from({ length: n }, (_, t) => Array.from({ length: FEATURES }, (_, k) => v * Math.sin(t + k)));
const postJson = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  call(`${url}/v1/infer`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/**
 * Two devices in one process: an "edge" whose runtime behaves like a slow device (0.5 ms per step)
 * and a "cloud" at full speed. Real runtimes with a real generated model, real mappers, real HTTP.
 */
describe('mapper: edge and cloud on loopback', () => {
  let dir: string;
  let edgeRuntime: RuntimeServer;
  let cloudRuntime: RuntimeServer;
  let edge: MapperServer;
  let cloud: MapperServer;
  let edgeConfig: Record<string, unknown>;
  let link: LinkEmulator;

  before(async () => {
    const { onnx } = await fixtureModel('tiny2x24');
    dir = await mkdtemp(join(tmpdir(), 'crime-mapper-'));
    await writeFile(join(dir, 'token'), TOKEN);
    const runtime = (emulate?: { perStepMs: number; fixedMs: number }) =>
      startRuntimeServer({ model: { location: onnx }, maxSteps: MAX_STEPS, defaultMetrics: false, maxQueue: 64, ...(emulate ? { emulate } : {}) });
    edgeRuntime = await runtime({ perStepMs: 0.5, fixedMs: 0.5 });
    cloudRuntime = await runtime();
    await Promise.all([edgeRuntime.ready, cloudRuntime.ready]);
    const cloudConfig = { device: 'cloud', listen: { port: 0 }, runtime: { url: cloudRuntime.url }, auth: { tokenFile: join(dir, 'token') } };
    await writeFile(join(dir, 'cloud.yaml'), stringify(cloudConfig));
    cloud = await startMapperServer({ configFile: join(dir, 'cloud.yaml'), defaultMetrics: false });
    await cloud.ready;
    // A 10 ms link between them, so the choice does not hinge on loopback jitter.
    link = await LinkEmulator.start({ target: { host: '127.0.0.1', port: cloud.port }, rttMs: 10, bandwidthMbps: Infinity });
    edgeConfig = {
      device: 'edge',
      listen: { port: 0 },
      runtime: { url: edgeRuntime.url },
      neighbours: [{ name: 'cloud', url: link.url }],
      mapping: { pingIdleSeconds: 1, requestTimeoutMs: 2000 },
      auth: { tokenFile: join(dir, 'token'), clients: false },
      limits: { maxBodyBytes: 200_000, maxBodyBytesInFlight: 400_000, maxInFlight: 8 },
    };
    await writeFile(join(dir, 'edge.yaml'), stringify(edgeConfig));
    edge = await startMapperServer({ configFile: join(dir, 'edge.yaml'), defaultMetrics: false, configPollMs: 100 });
    await edge.ready;
    // The first pings tell the edge about the cloud.
    for (let i = 0; i < 50 && !edge.state().pipeline?.engine.snapshot().neighbours[0]?.advertised; i++) await new Promise((r) => setTimeout(r, 50));
  });

  after(async () => {
    await edge?.close();
    await cloud?.close();
    await link?.close();
    await edgeRuntime?.close();
    await cloudRuntime?.close();
  });

  test('short inputs are served locally, long ones by the cloud, with the path and timings', async () => {
    const short = await postJson(edge.url, { inputs: rows(2) });
    assert.equal(short.status, 200, JSON.stringify(short.body));
    assert.equal(short.body.servedBy, 'edge');
    assert.deepEqual(short.body.path, ['edge']);
    assert.equal(short.body.outputs?.length, 4);
    const long = await postJson(edge.url, { inputs: rows(300) });
    assert.equal(long.status, 200, JSON.stringify(long.body));
    assert.equal(long.body.servedBy, 'cloud');
    assert.deepEqual(long.body.path, ['edge', 'cloud']);
    const t = long.body.timings!;
    assert.ok(t.totalMs >= t.computeMs && t.networkMs >= 0 && t.queueMs >= 0, JSON.stringify(t));
    assert.match(long.headers.get('crime-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(Number(long.headers.get('crime-remote-ms')) > 0);
    // Clients do not get the advertisement; peers do.
    assert.equal(long.headers.get('crime-advert'), null);
  });

  test('a binary request works like a JSON one and keeps the caller\'s request id', async () => {
    const data = Float32Array.from(rows(3).flat());
    const r = await call(`${edge.url}/v1/infer`, {
      method: 'POST',
      body: new Uint8Array(data.buffer),
      headers: { 'content-type': 'application/octet-stream', 'crime-shape': `3,${FEATURES}`, 'crime-request-id': 'abc-123' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('crime-request-id'), 'abc-123');
  });

  test('bad input gets the documented status and code, and the mapper stays up', async () => {
    const bin = (values: number[], shape: string): Promise<Reply> =>
      call(`${edge.url}/v1/infer`, {
        method: 'POST',
        body: new Uint8Array(Float32Array.from(values).buffer),
        headers: { 'content-type': 'application/octet-stream', 'crime-shape': shape },
      });
    const cases: Array<[string, Promise<Reply>, number, string]> = [
      ['malformed JSON', call(`${edge.url}/v1/infer`, { method: 'POST', body: '{"inputs": [[1,', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_INPUT'],
      ['wrong content type', call(`${edge.url}/v1/infer`, { method: 'POST', body: 'inputs', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['wrong feature size', postJson(edge.url, { inputs: [[1, 2, 3]] }), 400, 'INVALID_INPUT'],
      ['null in JSON', postJson(edge.url, { inputs: [[null, ...rows(1)[0]!.slice(1)]] }), 400, 'INVALID_INPUT'],
      ['NaN in binary', bin([Number.NaN, ...rows(1)[0]!.slice(1)], `1,${FEATURES}`), 400, 'INVALID_INPUT'],
      ['Infinity in binary', bin([Infinity, ...rows(1)[0]!.slice(1)], `1,${FEATURES}`), 400, 'INVALID_INPUT'],
      ['empty sequence', postJson(edge.url, { inputs: [] }), 400, 'INVALID_INPUT'],
      ['no inputs field', postJson(edge.url, { tokens: [1, 2] }), 400, 'INVALID_INPUT'],
      ['more than maxSteps', postJson(edge.url, { inputs: rows(MAX_STEPS + 1) }), 413, 'INPUT_TOO_LONG'],
      ['huge body', call(`${edge.url}/v1/infer`, { method: 'POST', body: 'x'.repeat(300_000), headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE'],
      ['shape and body disagree', bin(rows(2).flat(), `3,${FEATURES}`), 400, 'INVALID_INPUT'],
      ['unknown path', call(`${edge.url}/v2/infer`, { method: 'POST' }), 404, 'NOT_FOUND'],
      ['wrong method', call(`${edge.url}/v1/infer`, {}), 405, 'METHOD_NOT_ALLOWED'],
      ['UTF-16 JSON', call(`${edge.url}/v1/infer`, { method: 'POST', body: Buffer.from(JSON.stringify({ inputs: rows(1) }), 'utf16le'), headers: { 'content-type': 'application/json; charset=utf-16' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [what, reply, status, code] of cases) {
      const r = await reply;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.code, code, what);
      assert.ok((r.body.error?.message ?? '').length > 0, what);
    }
    assert.equal((await call(`${edge.url}/v1/infer`, {})).headers.get('allow'), 'POST');
    assert.equal((await call(`${edge.url}/healthz`, { method: 'DELETE' })).headers.get('allow'), 'GET, HEAD');
    const garbage = await rawExchange(edge.url, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(garbage.status, 400);
    assert.equal((JSON.parse(garbage.body) as { error: { code: string } }).error.code, 'INVALID_INPUT');
    assert.equal((await call(`${edge.url}/healthz`, {})).status, 200);
    assert.equal((await postJson(edge.url, { inputs: rows(2) })).status, 200);
  });

  test('requests between mappers need the shared token', async () => {
    const peer = { 'crime-origin': 'peer' };
    const none = await postJson(cloud.url, { inputs: rows(2) }, peer);
    assert.equal(none.status, 401);
    assert.equal(none.body.error?.code, 'UNAUTHORIZED');
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const wrong = await postJson(cloud.url, { inputs: rows(2) }, { ...peer, authorization: 'Bearer not-the-token-at-all' });
    assert.equal(wrong.status, 401);
    assert.equal((await call(`${cloud.url}/v1/ping`, {})).status, 401);
    const ok = await postJson(cloud.url, { inputs: rows(2) }, { ...peer, authorization: `Bearer ${TOKEN}`, 'crime-path': 'edge' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.path, ['cloud']);
    const advert = JSON.parse(ok.headers.get('crime-advert') ?? 'null') as { local: { slope: number } } | null;
    assert.ok(advert && advert.local.slope >= 0, 'peers get the advertisement');
    const ping = await call(`${cloud.url}/v1/ping`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ping.status, 200);
    // The cloud is no entry: without the token nothing gets through, whatever the headers claim.
    for (const origin of [undefined, 'client', 'peer']) {
      const r = await postJson(cloud.url, { inputs: rows(2) }, origin === undefined ? {} : { 'crime-origin': origin });
      assert.equal(r.status, 401, `crime-origin ${origin}`);
    }
    assert.equal((await call(`${cloud.url}/v1/model`, {})).status, 401);
    assert.equal((await call(`${cloud.url}/v1/ping`, { method: 'POST', body: 'x', headers: { 'crime-origin': 'client' } })).status, 401);
    // The edge is the entry, open to clients; a caller claiming to be a peer must still prove it.
    assert.equal((await postJson(edge.url, { inputs: rows(2) })).status, 200);
    assert.equal((await postJson(edge.url, { inputs: rows(2) }, peer)).status, 401);
    assert.equal((await call(`${edge.url}/v1/ping`, {})).status, 401);
  });

  test('a peer never sends a request back along its path', async () => {
    const r = await postJson(edge.url, { inputs: rows(300) }, { 'crime-origin': 'peer', authorization: `Bearer ${TOKEN}`, 'crime-path': 'cloud' });
    assert.equal(r.status, 200);
    assert.equal(r.body.servedBy, 'edge');
  });

  test('the learned models and counters are on /metrics', async () => {
    const text = await (await fetch(`${edge.url}/metrics`)).text();
    assert.match(text, /crime_mapper_requests_total\{origin="client",decision="local",outcome="ok"\} \d+/);
    assert.match(text, /crime_mapper_requests_total\{origin="client",decision="cloud",outcome="ok"\} \d+/);
    assert.match(text, /crime_engine_compute_ms_per_step 0\.(4|5)\d*\n/);
    assert.match(text, /crime_engine_link_rtt_ms\{neighbour="cloud"\} \d/);
    assert.match(text, /crime_engine_neighbour_up\{neighbour="cloud"\} 1/);
    assert.match(text, /crime_mapper_stage_seconds_count\{stage="decide"\} \d+/);
    assert.match(text, /crime_mapper_rejected_total\{code="INVALID_INPUT"\} \d+/);
  });

  test('too many requests at once get 503 with Retry-After, and all others are answered', async () => {
    const replies = await Promise.all(Array.from({ length: 14 }, () => postJson(edge.url, { inputs: rows(40) })));
    const overloaded = replies.filter((r) => r.status === 503);
    assert.ok(overloaded.length > 0, 'some requests beyond maxInFlight are refused');
    for (const r of overloaded) {
      assert.equal(r.body.error?.code, 'OVERLOADED');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.equal(replies.filter((r) => r.status === 200).length + overloaded.length, 14);
  });

  test('a configuration change is picked up without a restart; a broken one is refused', async () => {
    await writeFile(join(dir, 'edge.yaml'), stringify({ ...edgeConfig, neighbours: [] }));
    for (let i = 0; i < 60 && edge.state().pipeline?.engine.neighbourNames.length !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(edge.state().pipeline?.engine.neighbourNames, []);
    assert.equal((await postJson(edge.url, { inputs: rows(300) })).body.servedBy, 'edge');
    await writeFile(join(dir, 'edge.yaml'), 'device: [broken');
    assert.equal(await edge.reload(), false);
    assert.deepEqual(edge.state().pipeline?.engine.neighbourNames, []);
    // The entry can be closed to clients without the token too.
    await writeFile(join(dir, 'edge.yaml'), stringify({ ...edgeConfig, auth: { tokenFile: join(dir, 'token'), clients: true } }));
    assert.equal(await edge.reload(), true);
    const closed = await postJson(edge.url, { inputs: rows(2) });
    assert.equal(closed.status, 401);
    assert.match(closed.body.error?.message ?? '', /this mapper needs the topology's bearer token/);
    assert.equal((await postJson(edge.url, { inputs: rows(2) }, { authorization: `Bearer ${TOKEN}` })).status, 200);
    await writeFile(join(dir, 'edge.yaml'), stringify(edgeConfig));
    assert.equal(await edge.reload(), true);
    assert.deepEqual(edge.state().pipeline?.engine.neighbourNames, ['cloud']);
    assert.equal((await postJson(edge.url, { inputs: rows(2) })).status, 200);
  });

  test('the mapping policy switches by a configuration reload: local, device:cloud, threshold, crime', async () => {
    // The file watcher applies each change (polling every 100 ms here), as it would on a cluster.
    const withPolicy = async (policy: string, extra: Record<string, unknown> = {}): Promise<void> => {
      await writeFile(join(dir, 'edge.yaml'), stringify({ ...edgeConfig, mapping: { ...(edgeConfig['mapping'] as object), policy }, ...extra }));
      for (let i = 0; i < 100 && edge.state().pipeline?.router.policy !== policy; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(edge.state().pipeline?.router.policy, policy);
    };
    const servedBy = async (n: number): Promise<string | undefined> => {
      const r = await postJson(edge.url, { inputs: rows(n) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.servedBy;
    };
    await withPolicy('local');
    assert.equal(await servedBy(300), 'edge');
    await withPolicy('device:cloud', { via: 'cloud' });
    assert.equal(await servedBy(2), 'cloud');
    await withPolicy('threshold');
    // The thresholds are fixed once the new engine has pinged the cloud twice; until then it decides as CRIME.
    for (let i = 0; i < 100 && edge.state().pipeline!.engine.staticThresholds('latency') === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await servedBy(2), 'edge');
    assert.equal(await servedBy(300), 'cloud');
    const fixed = edge.state().pipeline!.router.thresholds('latency');
    assert.deepEqual(fixed?.map((r) => r.target), ['local', 'cloud']);
    assert.equal(fixed?.[0]?.fromSteps, 1);
    assert.equal(fixed?.[1]?.toSteps, MAX_STEPS);
    // A fixed policy stops pinging once it routes (pingIdleSeconds is 1 here).
    const pings = (text: string): number => [...text.matchAll(/crime_mapper_pings_total\{neighbour="cloud",outcome="ok"\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    const before = pings(await (await fetch(`${edge.url}/metrics`)).text());
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(pings(await (await fetch(`${edge.url}/metrics`)).text()), before);
    await withPolicy('crime');
    // A reload starts a fresh engine: CRIME offloads once its pings have told it about the cloud.
    for (let i = 0; i < 100 && !edge.state().pipeline!.engine.snapshot().neighbours[0]?.advertised; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await servedBy(300), 'cloud');
    assert.equal(edge.state().pipeline?.learning, true);
  });

  test('a dead neighbour: the request falls back to local, nothing fails', async () => {
    const knowsCloud = (): boolean => edge.state().pipeline?.engine.snapshot().neighbours[0]?.advertised === true;
    for (let i = 0; i < 100 && !knowsCloud(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(knowsCloud(), 'the edge has heard from the cloud');
    await cloud.close();
    // Until the edge has marked the cloud down (a request that found it gone, or a ping with
    // pingIdleSeconds 1), every request is still answered, by the edge itself. On a loaded machine
    // the first long request may not even try the cloud, so no single request is sure to.
    let text = '';
    for (let i = 0; i < 40 && !/crime_engine_neighbour_up\{neighbour="cloud"\} 0/.test(text); i++) {
      const r = await postJson(edge.url, { inputs: rows(300) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.servedBy, 'edge');
      text = await (await fetch(`${edge.url}/metrics`)).text();
      if (!/crime_engine_neighbour_up\{neighbour="cloud"\} 0/.test(text)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /crime_engine_neighbour_up\{neighbour="cloud"\} 0/);
    // The request found the cloud gone, unless a ping found it first (a slow close leaves time for one).
    assert.match(text, /crime_mapper_fallbacks_total\{from="cloud",code="UPSTREAM_FAILED"\} 1|crime_mapper_pings_total\{neighbour="cloud",outcome="(UPSTREAM_FAILED|TIMEOUT|NOT_READY)"\} [1-9]/);
  });

  test('device:<name> with that device down: every request is tried there, served locally, and each fallback counted', async () => {
    // Runs after the cloud was closed above. A fixed policy does not adapt: it tries its pinned
    // device even though the engine knows it is down, and falls back only because it failed.
    const fallbacks = async (): Promise<number> => {
      const m = /crime_mapper_fallbacks_total\{from="cloud",code="UPSTREAM_FAILED"\} (\d+)/.exec(await (await fetch(`${edge.url}/metrics`)).text());
      return Number(m?.[1] ?? 0);
    };
    await writeFile(join(dir, 'edge.yaml'), stringify({ ...edgeConfig, mapping: { ...(edgeConfig['mapping'] as object), policy: 'device:cloud' }, via: 'cloud' }));
    for (let i = 0; i < 100 && edge.state().pipeline?.router.policy !== 'device:cloud'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(edge.state().pipeline?.router.policy, 'device:cloud');
    const before = await fallbacks();
    for (const n of [2, 300, 5]) {
      const r = await postJson(edge.url, { inputs: rows(n) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.servedBy, 'edge');
    }
    assert.equal((await fallbacks()) - before, 3);
  });
});

/** The pod's layout: the runtime on a Unix socket only, its mapper reaching it through `unix:/path`. */
describe('mapper with its runtime on a Unix socket', () => {
  let dir: string;
  let socket: string;
  let onnx: string;
  let runtime: RuntimeServer;
  let mapper: MapperServer;
  const startRuntime = (): Promise<RuntimeServer> => startRuntimeServer({ model: { location: onnx }, maxSteps: MAX_STEPS, defaultMetrics: false, socket });

  before(async () => {
    onnx = (await fixtureModel('tiny2x24')).onnx as string;
    dir = await mkdtemp(join(tmpdir(), 'crime-mapper-sock-'));
    socket = join(dir, 'runtime.sock');
    runtime = await startRuntime();
    await runtime.ready;
    assert.equal(runtime.port, 0, 'no TCP listener');
    await writeFile(join(dir, 'mapper.yaml'), stringify({ device: 'pod', listen: { port: 0 }, runtime: { url: `unix:${socket}` }, auth: { disabled: true } }));
    mapper = await startMapperServer({ configFile: join(dir, 'mapper.yaml'), defaultMetrics: false });
    await mapper.ready;
  });
  after(async () => {
    await mapper?.close();
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('requests are served end to end through the socket, JSON and binary', async () => {
    const json = await postJson(mapper.url, { inputs: rows(6) });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    assert.equal(json.body.servedBy, 'pod');
    assert.equal(json.body.outputs?.length, 4);
    const data = Float32Array.from(rows(6).flat());
    const binary = await call(`${mapper.url}/v1/infer`, {
      method: 'POST', body: new Uint8Array(data.buffer), headers: { 'content-type': 'application/octet-stream', 'crime-shape': `6,${FEATURES}` },
    });
    assert.equal(binary.status, 200, JSON.stringify(binary.body));
    assert.deepEqual(binary.body.outputs, json.body.outputs);
    const model = (await (await fetch(`${mapper.url}/v1/model`)).json()) as { name: string; device: string };
    assert.deepEqual([model.name, model.device], ['tiny2x24', 'pod']);
  });

  test('a runtime gone from its socket makes the mapper not ready; back on the same socket, ready again', async () => {
    await runtime.close();
    const down = await postJson(mapper.url, { inputs: rows(2) });
    assert.equal(down.status, 502, JSON.stringify(down.body));
    for (let i = 0; i < 60 && (await fetch(`${mapper.url}/readyz`)).status !== 503; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${mapper.url}/readyz`)).status, 503);
    runtime = await startRuntime();
    await runtime.ready;
    for (let i = 0; i < 60 && (await fetch(`${mapper.url}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${mapper.url}/readyz`)).status, 200);
    assert.equal((await postJson(mapper.url, { inputs: rows(2) })).status, 200);
  });
});
