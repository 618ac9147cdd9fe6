import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { LinkEmulator } from './link-emulator.js';

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { server, port: addr.port };
}

async function timedPost(url: string, bytes: number): Promise<{ ms: number; echoed: number }> {
  const body = Buffer.alloc(bytes, 7);
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', body });
  const echoed = (await res.arrayBuffer()).byteLength;
  return { ms: performance.now() - t0, echoed };
}

test('adds the RTT to a round trip and serialises at the bandwidth', async (t) => {
  const { server, port } = await echoServer();
  const link = await LinkEmulator.start({ target: { host: '127.0.0.1', port }, rttMs: 60, bandwidthMbps: Infinity });
  t.after(async () => {
    await link.close();
    server.close();
  });
  await timedPost(link.url, 10); // connection set-up (one extra round trip) out of the way
  const small = await timedPost(link.url, 10);
  assert.equal(small.echoed, 10);
  assert.ok(small.ms >= 59 && small.ms < 200, `small round trip ${small.ms} ms`);

  // 250 kB each way at 10 Mbit/s: 200 ms per direction on top of the RTT.
  link.set({ bandwidthMbps: 10 });
  const large = await timedPost(link.url, 250_000);
  assert.equal(large.echoed, 250_000);
  assert.ok(large.ms >= 60 + 2 * 200 - 5 && large.ms < 60 + 2 * 200 + 250, `large round trip ${large.ms} ms`);
});

test('conditions change while connections stay open', async (t) => {
  const { server, port } = await echoServer();
  const link = await LinkEmulator.start({ target: { host: '127.0.0.1', port }, rttMs: 10, bandwidthMbps: Infinity });
  t.after(async () => {
    await link.close();
    server.close();
  });
  await timedPost(link.url, 10);
  const before = await timedPost(link.url, 10);
  link.set({ rttMs: 150 });
  assert.deepEqual(link.current, { rttMs: 150, bandwidthMbps: Infinity });
  const after = await timedPost(link.url, 10);
  assert.ok(before.ms < 100, `before ${before.ms}`);
  assert.ok(after.ms >= 149, `after ${after.ms}`);
});

test('a dead target resets the connection instead of hanging', async (t) => {
  const { server, port } = await echoServer();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const link = await LinkEmulator.start({ target: { host: '127.0.0.1', port }, rttMs: 20, bandwidthMbps: 100 });
  t.after(() => link.close());
  await assert.rejects(fetch(link.url, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5000) }), (err: Error) => {
    assert.notEqual(err.name, 'TimeoutError');
    return true;
  });
});
