/**
 * #8.3 and memory: slow and large request bodies against a real `crime runtime` and `crime mapper`
 * (an entry open to clients). Before, a request took an in-flight slot before its body was read and
 * nothing shorter than Node's 300 s cut a slow body: slow connections held every slot and normal
 * clients got 503 for as long as the attack lasted, and bodies were bounded one by one only.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { startCrime, stopChild } from '../../local/child.js';
import { runLoad } from '../../load/load.js';
import { fixtureModel, removeFixtures } from '../../runtime/testing/fixtures.js';
import { infer, sleep, until } from './three-tier.js';

const LIMITS = {
  maxBodyBytes: 1_000_000,
  maxBodyBytesInFlight: 2_000_000,
  maxInFlight: 16,
  maxConnectionsPerClient: 60,
  headersTimeoutMs: 1500,
  bodyTimeoutMs: 1500,
  idleTimeoutMs: 10_000,
};

interface Watched {
  socket: Socket;
  /** what came back before the server closed: the status line and body */
  answer: string;
  closed: boolean;
}

/** A raw connection from `localAddress` that records what it is answered and when it is closed. */
function open(url: string, localAddress: string): Watched {
  const { port } = new URL(url);
  const w: Watched = { socket: connect({ host: '127.0.0.1', port: Number(port), localAddress }), answer: '', closed: false };
  w.socket.on('data', (c: Buffer) => (w.answer += c.toString('utf8')));
  w.socket.on('error', () => undefined);
  w.socket.on('close', () => (w.closed = true));
  return w;
}

const row = (t: number): number[] => Array.from({ length: 16 }, (_, k) => Math.round(Math.sin(t + k) * 1e6) / 1e6);

describe('#8.3 slow and large clients at a real entry', { timeout: 180_000 }, () => {
  let dir: string;
  let runtime: ChildProcess | undefined;
  let mapper: ChildProcess | undefined;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crime-slow-'));
    const { onnx } = await fixtureModel('tiny2x24');
    const rt = await startCrime(['runtime', '--model', onnx, '--port', '0', '--max-steps', '2000'], join(dir, 'runtime.log'));
    runtime = rt.child;
    await writeFile(join(dir, 'token'), 'slow-clients-test-token-0123');
    await writeFile(join(dir, 'mapper.yaml'), stringify({
      device: 'entry',
      listen: { port: 0 },
      runtime: { url: rt.url },
      auth: { tokenFile: join(dir, 'token'), clients: false },
      limits: LIMITS,
    }));
    const m = await startCrime(['mapper', '--config', join(dir, 'mapper.yaml')], join(dir, 'mapper.log'));
    mapper = m.child;
    url = m.url;
  });
  after(async () => {
    if (mapper) await stopChild(mapper);
    if (runtime) await stopChild(runtime);
    if (dir && !process.env.CRIME_KEEP_LOGS) await rm(dir, { recursive: true, force: true });
    await removeFixtures();
  });

  test('slow bodies and slow headers are cut at their deadlines and never starve normal clients', async () => {
    // The attacker comes from another loopback address than the normal clients: one byte every 500 ms.
    const slowBodies = Array.from({ length: 100 }, () => open(url, '127.0.0.2'));
    const slowHeaders = Array.from({ length: 5 }, () => open(url, '127.0.0.3'));
    for (const w of slowBodies) w.socket.write('POST /v1/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    for (const w of slowHeaders) w.socket.write('POST /v1/infer HTTP/1.1\r\nhost: x\r\n');
    const drip = setInterval(() => {
      for (const w of slowBodies) if (!w.closed) w.socket.write(' ');
      for (const w of slowHeaders) if (!w.closed) w.socket.write('x');
    }, 500);
    try {
      await sleep(300);
      const report = await runLoad({ url, lengths: { type: 'list', values: [5, 50] }, rate: 10, count: 60, seed: 3 });
      assert.ok(report.ok >= 0.99 * report.requests, `${report.ok} of ${report.requests} normal requests succeeded: ${JSON.stringify(report.failures)}`);
      await until('every slow connection is closed', () => [...slowBodies, ...slowHeaders].every((w) => w.closed), 15_000);
    } finally {
      clearInterval(drip);
      for (const w of [...slowBodies, ...slowHeaders]) w.socket.destroy();
    }
    // Beyond maxConnectionsPerClient the address's connections were closed unanswered; the others
    // were answered 408 with the coded error once their body's deadline passed.
    const timedOut = slowBodies.filter((w) => w.answer.startsWith('HTTP/1.1 408'));
    const cut = slowBodies.filter((w) => w.answer === '');
    assert.equal(timedOut.length, LIMITS.maxConnectionsPerClient);
    assert.equal(cut.length, slowBodies.length - LIMITS.maxConnectionsPerClient);
    for (const w of timedOut) assert.match(w.answer, /"code":"REQUEST_TIMEOUT"/);
    for (const w of slowHeaders) assert.match(w.answer, /^HTTP\/1\.1 408 [^]*"code":"REQUEST_TIMEOUT"/);
  });

  test('bodies arriving together are bounded in total: the rest get 503 with Retry-After', async () => {
    const body = JSON.stringify({ inputs: Array.from({ length: 5000 }, (_, t) => row(t)) });
    assert.ok(body.length > 600_000 && body.length < LIMITS.maxBodyBytes, String(body.length));
    const half = Math.floor(body.length / 2);
    const clients = Array.from({ length: 12 }, () => open(url, '127.0.0.1'));
    for (const w of clients) w.socket.write(`POST /v1/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, half)}`);
    // Twelve half bodies are more than the 2 MB all bodies may take at once.
    await sleep(500);
    for (const w of clients) w.socket.write(body.slice(half));
    await until('every big request is answered', () => clients.every((w) => /\r\n\r\n\{"error"/.test(w.answer)), 20_000);
    for (const w of clients) w.socket.destroy();
    const codes = clients.map((w) => /"code":"(\w+)"/.exec(w.answer)?.[1]);
    const overloaded = clients.filter((w) => w.answer.startsWith('HTTP/1.1 503'));
    assert.ok(overloaded.length >= 12 - Math.floor(LIMITS.maxBodyBytesInFlight / half), JSON.stringify(codes));
    for (const w of overloaded) {
      assert.match(w.answer, /"code":"OVERLOADED"/);
      assert.match(w.answer, /\r\nretry-after: 1\r\n/i);
    }
    // The ones that fit were read and decoded: 5000 steps are more than the model's 2000.
    assert.ok(codes.every((c) => c === 'OVERLOADED' || c === 'INPUT_TOO_LONG'), JSON.stringify(codes));
    assert.ok(codes.includes('INPUT_TOO_LONG'), JSON.stringify(codes));
    assert.equal((await infer(url, JSON.stringify({ inputs: [row(0), row(1)] }))).status, 200);
  });
});
