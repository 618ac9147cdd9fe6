import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { fixtureModel, removeFixtures } from '../../testing/fixtures.js';
import { startRuntimeServer, type RuntimeServer } from '../../server/server.js';
import { startMapperServer, type MapperServer } from '../server.js';
import type { LiveData } from './browser/live-data.js';

after(removeFixtures);

const TOKEN = 'ui-test-token-0123456789abcdef';
const FEATURES = 16; // tiny2x24

/** Opens /ui/events and resolves with the response once its headers are in (the stream stays open). */
function openStream(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    httpRequest(`${url}/ui/events`, (res) => resolve(res)).on('error', reject).end();
  });
}

/** The first `data:` message of a stream. */
function firstMessage(res: IncomingMessage): Promise<LiveData> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      const m = /^data: (.*)$/m.exec(text);
      if (m) resolve(JSON.parse(m[1] as string) as LiveData);
    });
  });
}

describe('mapper: the live page\'s routes', () => {
  let dir: string;
  let runtime: RuntimeServer;
  let mapper: MapperServer;

  before(async () => {
    const { onnx } = await fixtureModel('tiny2x24');
    dir = await mkdtemp(join(tmpdir(), 'crime-ui-routes-'));
    await writeFile(join(dir, 'token'), TOKEN);
    runtime = await startRuntimeServer({ model: { location: onnx }, maxSteps: 200, defaultMetrics: false });
    await runtime.ready;
    const config = { device: 'edge', listen: { port: 0 }, runtime: { url: runtime.url }, auth: { tokenFile: join(dir, 'token'), clients: false } };
    await writeFile(join(dir, 'edge.yaml'), stringify(config));
    mapper = await startMapperServer({ configFile: join(dir, 'edge.yaml'), defaultMetrics: false });
    await mapper.ready;
  });

  after(async () => {
    await mapper?.close();
    await runtime?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the page, its style and scripts: open, from this origin only, never cached', async () => {
    const page = await fetch(`${mapper.url}/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*script-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'no other origin in the page');
    for (const path of ['/ui/main.js', '/ui/charts.js', '/ui/svg.js', '/ui/live-data.js', '/ui/page.css', '/ui/icon.svg']) {
      const r = await fetch(`${mapper.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.doesNotMatch(await r.text(), /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${path} loads nothing from elsewhere`);
    }
    const post = await fetch(`${mapper.url}/ui/data`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  test('/ui/data: the requests served, newer ones by cursor, and nothing secret', async () => {
    for (const n of [2, 5, 9]) {
      const r = await fetch(`${mapper.url}/v1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: Array.from({ length: n }, () => new Array(FEATURES).fill(0.1)) }),
      });
      assert.equal(r.status, 200);
    }
    await new Promise((r) => setTimeout(r, 50)); // recorded once the answers are out
    const text = await (await fetch(`${mapper.url}/ui/data`)).text();
    assert.ok(!text.includes(TOKEN) && !text.includes(runtime.url) && !text.includes(dir), 'no token, no address, no path');
    const data = JSON.parse(text) as LiveData;
    assert.equal(data.device, 'edge');
    assert.equal(data.objective, 'latency');
    assert.deepEqual(data.points.map((p) => [p[1], data.devices[p[2]], p[3]]), [[2, 'edge', 0], [5, 'edge', 0], [9, 'edge', 0]]);
    assert.equal(data.counts.edge, 3);
    assert.ok(data.curves && data.curves.candidates[0]?.target === 'edge');
    assert.ok(data.samples.length >= 1);
    const newer = (await (await fetch(`${mapper.url}/ui/data?points=${data.next.points - 1}&samples=${data.next.samples}`)).json()) as LiveData;
    assert.deepEqual(newer.points.map((p) => p[1]), [9]);
    assert.deepEqual(newer.samples, []);
    const bad = await fetch(`${mapper.url}/ui/data?points=-1`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^points: /);
  });

  test('a mapper started without its page (crime mapper --no-ui) has no /ui', async () => {
    const bare = await startMapperServer({ configFile: join(dir, 'edge.yaml'), defaultMetrics: false, livePage: false });
    try {
      await bare.ready;
      for (const path of ['/ui', '/ui/data', '/ui/events', '/ui/main.js']) assert.equal((await fetch(`${bare.url}${path}`)).status, 404, path);
    } finally {
      await bare.close();
    }
  });

  test('/ui/events: the same data as a stream; a bounded number of streams, all ended on close', async () => {
    const streams: IncomingMessage[] = [];
    for (let i = 0; i < 8; i++) streams.push(await openStream(mapper.url));
    assert.deepEqual(streams.map((s) => s.statusCode), new Array(8).fill(200));
    assert.match(streams[0]?.headers['content-type'] ?? '', /^text\/event-stream/);
    const first = await firstMessage(streams[0] as IncomingMessage);
    assert.equal(first.device, 'edge');
    const ninth = await fetch(`${mapper.url}/ui/events`);
    assert.equal(ninth.status, 503);
    assert.equal(((await ninth.json()) as { error: { code: string } }).error.code, 'OVERLOADED');
    streams.pop()?.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await openStream(mapper.url);
    assert.equal(again.statusCode, 200, 'a closed stream frees its place');
    streams.push(again);
    const ended = Promise.all(streams.map((s) => new Promise((r) => s.once('end', r).resume())));
    const closing = mapper.close();
    await ended;
    await closing;
  });
});
