import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isGone } from './api-errors.js';
import { KubeRest } from './rest.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

describe('KubeRest.watch', () => {
  let server: Server;
  let rest: KubeRest;
  const routes = new Map<string, Route>();
  const seen: Array<{ path: string; auth: string | undefined; query: URLSearchParams }> = [];

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ path: url.pathname, auth: req.headers.authorization, query: url.searchParams });
      (routes.get(url.pathname) ?? ((_q, r) => r.writeHead(404).end()))(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    rest = new KubeRest({
      getCurrentCluster: () => ({ server: `http://127.0.0.1:${port}` }),
      applyToHTTPSOptions: async (o) => {
        o.headers = { ...o.headers, authorization: 'Bearer t' };
      },
    });
  });
  after(async () => {
    rest.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const collect = (path: string, query: Record<string, string> = {}) => {
    const events: Array<[string, unknown]> = [];
    let resolveDone!: (err: unknown) => void;
    const done = new Promise<unknown>((r) => (resolveDone = r));
    let calls = 0;
    const handle = rest.watch(path, query, (type, obj) => events.push([type, obj]), (err) => {
      calls++;
      resolveDone(err);
    });
    return { events, done, handle, calls: () => calls };
  };

  it('streams newline-delimited events, split anywhere across chunks; a server-side end is done(null)', async () => {
    routes.set('/stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = [
        JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', labels: { x: 'é' } } } }),
        JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } }),
        'not json',
        JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a' } } }),
      ].join('\n') + '\n';
      const bytes = Buffer.from(text);
      // Byte by byte in places, to split lines and a multi-byte character.
      let i = 0;
      const step = (): void => {
        if (i >= bytes.length) return void res.end();
        const n = i < 40 ? 1 : 17;
        res.write(bytes.subarray(i, i + n));
        i += n;
        setImmediate(step);
      };
      step();
    });
    const w = collect('/stream', { resourceVersion: '5', allowWatchBookmarks: 'true' });
    assert.equal(await w.done, null);
    assert.deepEqual(w.events.map(([t]) => t), ['ADDED', 'BOOKMARK', 'DELETED']);
    assert.deepEqual(w.events[0]?.[1], { metadata: { name: 'a', labels: { x: 'é' } } });
    const req = seen.find((s) => s.path === '/stream');
    assert.equal(req?.auth, 'Bearer t');
    assert.equal(req?.query.get('watch'), 'true');
    assert.equal(req?.query.get('resourceVersion'), '5');
    assert.equal(w.calls(), 1);
  });

  it('a refused watch is done(ApiError) with the status: 410 Gone is recognised', async () => {
    routes.set('/gone', (_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
    });
    const w = collect('/gone');
    const err = await w.done;
    assert.ok(isGone(err));
    assert.match((err as Error).message, /too old resource version/);
  });

  it('a connection cut in the middle of the stream is done(error)', async () => {
    routes.set('/cut', (req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'b' } } })}\n{"type":"MODI`);
      setTimeout(() => req.socket.destroy(), 20);
    });
    const w = collect('/cut');
    const err = await w.done;
    assert.ok(err instanceof Error);
    assert.equal(w.events.length, 1);
  });

  it('abort() ends the watch without calling done; no answer at all is done(error)', async () => {
    routes.set('/quiet', (_req, res) => {
      res.writeHead(200);
      res.write('\n');
    });
    const w = collect('/quiet');
    const handle = await w.handle;
    handle.abort();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.calls(), 0);

    const refused = new KubeRest({ getCurrentCluster: () => ({ server: 'http://127.0.0.1:1' }), applyToHTTPSOptions: async () => undefined });
    const events: unknown[] = [];
    const err = await new Promise<unknown>((resolve) => void refused.watch('/x', {}, (t) => events.push(t), resolve));
    assert.match(String((err as Error).message), /ECONNREFUSED/);
    refused.close();
  });

  it('list: items one at a time however the body is chunked, the metadata returned; a refusal is an ApiError', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ metadata: { name: `o${i}`, resourceVersion: String(i) }, data: { text: 'x'.repeat(i * 37) } }));
    routes.set('/list', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const bytes = Buffer.from(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '99', continue: 'next' }, items }));
      let i = 0;
      const step = (): void => {
        if (i >= bytes.length) return void res.end();
        res.write(bytes.subarray(i, i + 333));
        i += 333;
        setImmediate(step);
      };
      step();
    });
    const got: unknown[] = [];
    const meta = await rest.list('/list', { limit: '500' }, (item) => got.push(item));
    assert.deepEqual(got, items);
    assert.deepEqual(meta, { resourceVersion: '99', continue: 'next' });
    assert.equal(seen.find((s) => s.path === '/list')?.query.get('limit'), '500');

    routes.set('/forbidden', (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'no list for you' }));
    });
    await assert.rejects(rest.list('/forbidden', {}, () => undefined), (err: Error & { code?: number }) => err.code === 403 && /no list for you/.test(err.message));
  });
});
