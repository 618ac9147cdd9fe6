/**
 * A mapper closed while it is still starting (waiting for its runtime, calibrating) stops for good:
 * its start-up is aborted, nothing it would have started afterwards (ping and health intervals,
 * self-calibration) is left running to hold the process after SIGTERM. The runtime is the real one,
 * behind a gate on loopback that holds calibration inferences until the test lets them through.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startRuntimeServer, type RuntimeServer } from '../server/server.js';
import { fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { startMapperServer } from './server.js';

after(removeFixtures);

/** Forwards everything to `target`; POST /v1/infer waits until `open()` (each held one is reported). */
class Gate {
  private waiting: Array<() => void> = [];
  private isOpen = false;
  private onHeld: (() => void) | undefined;
  readonly server: Server;

  constructor(private readonly target: URL) {
    this.server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/v1/infer' && !this.isOpen) {
        this.waiting.push(() => this.forward(req, res));
        this.onHeld?.();
        return;
      }
      this.forward(req, res);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once an inference is being held. */
  held(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((resolve) => (this.onHeld = resolve));
  }

  open(): void {
    this.isOpen = true;
    for (const go of this.waiting.splice(0)) go();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const out = request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

let dir: string;
let runtime: RuntimeServer;

before(async () => {
  const { onnx } = await fixtureModel('tiny2x24');
  dir = await mkdtemp(join(tmpdir(), 'crime-mapper-abort-'));
  runtime = await startRuntimeServer({ model: { location: onnx }, maxSteps: 400, defaultMetrics: false });
  await runtime.ready;
});

after(async () => {
  await runtime?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a mapper closed during calibration aborts its start-up and leaves no timers behind', async () => {
  const gate = new Gate(new URL(runtime.url));
  const config = { device: 'edge', listen: { host: '127.0.0.1', port: 0 }, runtime: { url: await gate.listen() }, auth: { disabled: true } };
  await writeFile(join(dir, 'edge.yaml'), stringify(config));
  const before = timers();
  const mapper = await startMapperServer({ configFile: join(dir, 'edge.yaml'), defaultMetrics: false });
  const outcome = mapper.ready.then(() => 'ready', (err: unknown) => (err as Error).message);
  await gate.held();
  // A client in the middle of a request keeps the mapper draining (as a real one would): the
  // calibration may go on meanwhile, and what it starts when it ends must not outlive close().
  const client = connect(mapper.port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  client.write('GET /healthz HTTP/1.1\r\nhost: mapper\r\n');
  const closing = mapper.close();
  gate.open();
  const result = await outcome;
  client.end('\r\n');
  await closing;
  client.destroy();
  await gate.close();
  assert.match(result, /closed during start-up/);
  assert.equal(mapper.state().pipeline, undefined, 'a closed mapper never becomes ready');
  assert.equal(timers(), before, `timers left running: ${process.getActiveResourcesInfo().join(', ')}`);
});

test('a mapper closed while waiting for its runtime stops waiting', async () => {
  // Nothing listens there: the mapper polls, as it does for a runtime that is still starting.
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const config = { device: 'edge', listen: { host: '127.0.0.1', port: 0 }, runtime: { url: `http://127.0.0.1:${closedPort}` }, auth: { disabled: true } };
  await writeFile(join(dir, 'waiting.yaml'), stringify(config));
  const before = timers();
  const mapper = await startMapperServer({ configFile: join(dir, 'waiting.yaml'), defaultMetrics: false });
  const outcome = mapper.ready.then(() => 'ready', (err: unknown) => (err as Error).message);
  await mapper.close();
  assert.match(await outcome, /closed during start-up/);
  assert.equal(timers(), before, `timers left running: ${process.getActiveResourcesInfo().join(', ')}`);
});
