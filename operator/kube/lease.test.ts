import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { manualTimers, settle } from '../../runtime/testing/manual-timers.js';
import type { SetTimer } from '../../runtime/timer.js';
import { ApiError } from './api-errors.js';
import { LeaderElector, leaseRequestTimeoutMs } from './lease.js';
import type { KubeRequest } from './rest.js';

type Lease = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec?: Record<string, unknown> };

/** The Lease API of an API server, in memory: 404, 409 on a create race or a stale resourceVersion. */
function leaseApi() {
  let lease: Lease | undefined;
  let rv = 0;
  const store = (body: Lease): Lease => (lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } });
  return {
    get lease(): Lease | undefined {
      return lease;
    },
    async handle(req: KubeRequest): Promise<unknown> {
      const body = req.body as Lease;
      if (req.method === 'GET') {
        if (!lease) throw new ApiError(404, { reason: 'NotFound' }, 'GET');
        return structuredClone(lease);
      }
      if (req.method === 'POST') {
        if (lease) throw new ApiError(409, { reason: 'AlreadyExists' }, 'POST');
        return store(body);
      }
      if (req.method === 'PUT') {
        if (body.metadata.resourceVersion !== lease?.metadata.resourceVersion) throw new ApiError(409, { reason: 'Conflict' }, 'PUT');
        return store(body);
      }
      throw new Error(`unexpected ${req.method}`);
    },
  };
}

/** One replica's client of the shared API: it can be made to fail, or to hang until its request is aborted. */
function client(api: ReturnType<typeof leaseApi>) {
  const c = {
    mode: 'ok' as 'ok' | 'fail' | 'hang',
    requests: 0,
    aborted: 0,
    async request<T>(req: KubeRequest): Promise<T> {
      c.requests++;
      if (c.mode === 'fail') throw new ApiError(500, { message: 'etcd unavailable' }, req.method);
      if (c.mode === 'hang') {
        return new Promise<T>((_, reject) =>
          req.signal?.addEventListener('abort', () => {
            c.aborted++;
            reject(req.signal?.reason as Error);
          }),
        );
      }
      return (await api.handle(req)) as T;
    },
  };
  return c;
}

/**
 * The process's clock and timers, mocked, moved 100 ms at a time: for a test that must also run
 * against an elector that took no injected timer (the one before d3ab7a8).
 */
function processClock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  return {
    now: (): number => Date.now(),
    async advance(ms: number): Promise<void> {
      for (let moved = 0; moved < ms; moved += 100) {
        t.mock.timers.tick(Math.min(100, ms - moved));
        await settle();
      }
    },
  };
}

type Clock = { now: () => number; setTimer?: SetTimer };

function replica(api: ReturnType<typeof leaseApi>, clock: Clock, identity: string) {
  const rest = client(api);
  const events: Array<[string, number]> = [];
  const elector = new LeaderElector({ rest, namespace: 'ns', name: 'crime-operator', identity, now: clock.now, ...(clock.setTimer ? { setTimer: clock.setTimer } : {}) });
  const start = (): void =>
    elector.run({
      onStarted: () => events.push(['started', clock.now()]),
      onStopped: () => events.push(['stopped', clock.now()]),
    });
  const at = (what: string): number | undefined => events.find(([e]) => e === what)?.[1];
  return { rest, elector, events, start, at };
}

describe('LeaderElector (fake Lease API, manual clock)', () => {
  it('the first candidate creates the Lease and leads; the other stands by while the holder renews', async () => {
    const api = leaseApi();
    const clock = manualTimers();
    const a = replica(api, clock, 'a');
    const b = replica(api, clock, 'b');
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(60_000);
    assert.deepEqual(a.events, [['started', 0]]);
    assert.deepEqual(b.events, []);
    assert.equal(api.lease?.spec?.holderIdentity, 'a');
    assert.equal(api.lease?.spec?.leaseDurationSeconds, 15);
    assert.ok(a.elector.isLeader && !b.elector.isLeader);
  });

  it('a renewal that hangs is abandoned at the renew deadline: the leader stops before the other can take over', async (t) => {
    const api = leaseApi();
    const clock = processClock(t);
    const a = replica(api, clock, 'a');
    const b = replica(api, clock, 'b');
    a.start();
    b.start();
    await clock.advance(4000);
    const lastRenew = 4000; // renewals at 0, 2000, 4000
    a.rest.mode = 'hang';
    await clock.advance(60_000);
    const stopped = a.at('stopped');
    const taken = b.at('started');
    assert.ok(stopped !== undefined, 'the leader whose requests hang stops leading');
    assert.ok(taken !== undefined, 'the other takes over');
    assert.ok(stopped <= lastRenew + 10_000, `stopped at ${stopped}, within the renew deadline of the last renewal`);
    assert.ok(stopped < taken, `no two leaders: a stopped at ${stopped}, b started at ${taken}`);
    assert.ok(taken - lastRenew <= 15_000 + 2 * 2000, `b waited one lease duration (and a retry) after the last renewal, not more: ${taken - lastRenew} ms`);
    assert.ok(a.rest.aborted >= 1, 'the hung request was abandoned');
    assert.equal(api.lease?.spec?.holderIdentity, 'b');
    assert.equal(api.lease?.spec?.leaseTransitions, 1);
  });

  it('a leader whose renewals fail retries every retry period, then stops at the deadline; one that recovers in time keeps leading', async () => {
    const api = leaseApi();
    const clock = manualTimers();
    const a = replica(api, clock, 'a');
    a.start();
    await clock.advance(1);
    a.rest.mode = 'fail';
    const before = a.rest.requests;
    await clock.advance(7000);
    assert.equal(a.events.length, 1, 'still leading within the deadline');
    assert.ok(a.rest.requests - before >= 3, 'retried each retry period');
    a.rest.mode = 'ok';
    await clock.advance(30_000);
    assert.deepEqual(a.events, [['started', 0]], 'recovered in time: never stopped');
    a.rest.mode = 'fail';
    await clock.advance(30_000);
    assert.equal(a.events.at(-1)?.[0], 'stopped');
    assert.equal(a.elector.isLeader, false);
  });

  it('stop() gives the Lease up: the other takes it at its next attempt, without waiting out the lease', async () => {
    const api = leaseApi();
    const clock = manualTimers();
    const a = replica(api, clock, 'a');
    const b = replica(api, clock, 'b');
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(5000);
    await a.elector.stop();
    assert.equal(api.lease?.spec?.holderIdentity, '');
    await clock.advance(2000);
    assert.ok((b.at('started') ?? Infinity) <= 7001);
    assert.deepEqual(a.events, [['started', 0]], 'stop() is not a loss of leadership');
  });

  it('two candidates creating the Lease at once: one wins, the other sees the conflict and stands by', async () => {
    const api = leaseApi();
    const clock = manualTimers();
    const a = replica(api, clock, 'a');
    const b = replica(api, clock, 'b');
    a.start();
    b.start();
    await clock.advance(10_000);
    assert.equal([a, b].filter((r) => r.elector.isLeader).length, 1);
  });

  it('refuses a renew deadline that is not shorter than the lease duration; the client timeout is half the deadline', () => {
    const api = leaseApi();
    assert.throws(() => new LeaderElector({ rest: client(api), namespace: 'ns', name: 'l', identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /renew deadline \(10000 ms\) must be shorter than the lease duration/);
    assert.equal(leaseRequestTimeoutMs(10_000), 5000);
    assert.equal(leaseRequestTimeoutMs(1000), 1000);
  });
});
