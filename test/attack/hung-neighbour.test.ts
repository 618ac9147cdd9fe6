/**
 * #8.4: a hung or very slow device two hops from the entry must cost its direct caller a fallback
 * and nobody anything more. Real processes at 20 requests/s, a third of them long enough for the
 * cloud: first the cloud's mapper is frozen (SIGSTOP), then its link gets a 5 s RTT. Before
 * deadlines travelled, the end node gave up on the healthy gateway just as the gateway gave up on
 * the cloud, marked it down, piled long inputs onto itself and overflowed (15-20 % failed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runLoad, type LoadReport } from '../../load/load.js';
import { infer, metric, sleep, startThreeTier, tokens, until, type ThreeTier } from './three-tier.js';

const REQUEST_TIMEOUT_MS = 3000;
const RATE = 20;
const COUNT = 240;

describe('#8.4 a hung neighbour two hops away', { timeout: 300_000 }, () => {
  let t: ThreeTier;

  before(async () => {
    t = await startThreeTier({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
    await cloudInUse();
  });
  after(async () => {
    await t?.close();
  });

  /** Waits until long inputs reach the cloud (a fresh start, or a recovery). */
  async function cloudInUse(): Promise<void> {
    await until('long inputs reach the cloud', async () => (await infer(t.local.entryUrl, tokens(800))).body.servedBy === 'cloud', 30_000);
  }

  /**
   * Runs the load with `fault` applied from 2 s to 10 s, watching whether the end node ever takes
   * the (healthy) gateway out of service.
   */
  async function underFault(fault: { start(): void; stop(): void }): Promise<{ report: LoadReport; gatewayDownSeen: number; why: string }> {
    const end = t.device('end-node').mapperUrl;
    let gatewayDownSeen = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        if ((await metric(end, /crime_engine_neighbour_up\{neighbour="gateway"\}/)) === 0) gatewayDownSeen++;
        await sleep(200);
      }
    })();
    const load = runLoad({ url: t.local.entryUrl, lengths: { type: 'list', values: [3, 60, 800] }, rate: RATE, count: COUNT, seed: 17 });
    await sleep(2000);
    fault.start();
    try {
      await sleep(8000);
    } finally {
      fault.stop();
    }
    const report = await load;
    watching = false;
    await watch;
    return { report, gatewayDownSeen, why: await failuresTowardGateway(end) };
  }

  /** The end node's failed pings and offloads to the gateway: what took it out of service, if anything did. */
  async function failuresTowardGateway(end: string): Promise<string> {
    const text = await (await fetch(`${end}/metrics`)).text();
    const lines = text.split('\n').filter((l) => /^crime_mapper_(pings_total\{neighbour="gateway"|fallbacks_total\{from="gateway")/.test(l));
    return lines.join('; ');
  }

  function check(what: string, r: { report: LoadReport; gatewayDownSeen: number; why: string }): void {
    const { report } = r;
    const detail = `${what}: ${report.failed} failed ${JSON.stringify(report.failures)}, p99 ${Math.round(report.latencyMs.p99)} ms`;
    assert.ok(report.failed <= COUNT * 0.01, detail);
    assert.ok(report.latencyMs.p99 <= REQUEST_TIMEOUT_MS, detail);
    assert.equal(r.gatewayDownSeen, 0, `${what}: the end node took the healthy gateway out of service (${r.why})`);
    assert.ok((report.servedBy.gateway?.count ?? 0) > 0, `${what}: the gateway took the cloud's share`);
  }

  test('a frozen cloud mapper (SIGSTOP for 8 s)', async () => {
    const pid = t.device('cloud').mapperPid!;
    const r = await underFault({ start: () => process.kill(pid, 'SIGSTOP'), stop: () => process.kill(pid, 'SIGCONT') });
    check('frozen cloud', r);
  });

  test('a 5 s RTT to the cloud for 8 s', async () => {
    await cloudInUse();
    const r = await underFault({
      start: () => t.local.setLink('gateway', 'cloud', { rttMs: 5000 }),
      stop: () => t.local.setLink('gateway', 'cloud', { rttMs: 20 }),
    });
    check('5 s RTT', r);
  });
});
