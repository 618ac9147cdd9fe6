import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from './testing.js';
import type { PageBenchReport } from '../bench/hop-page.js';

test('bench decide --json reports every candidate count, the baseline and the update costs', async () => {
  const { code, stdout, stderr } = await capture(['bench', 'decide', '--json', '--decisions', '2000', '--candidates', '2,4']);
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout) as {
    decisions: number;
    baseline: { medianNs: number };
    decide: Array<{ candidates: number; medianNs: number; p99Ns: number; medianVsBaseline: number }>;
    update: Record<string, { medianNs: number }>;
  };
  assert.equal(r.decisions, 2000);
  assert.deepEqual(
    r.decide.map((d) => d.candidates),
    [2, 4],
  );
  for (const d of r.decide) assert.ok(d.medianNs > 0 && d.p99Ns >= d.medianNs && d.medianVsBaseline > 0);
  assert.deepEqual(Object.keys(r.update), ['compute', 'offload', 'advertise']);
});

test('bench hop --json measures direct, forwarded and mapper paths over TCP and a Unix socket with real processes', { timeout: 180_000 }, async () => {
  const { code, stdout, stderr } = await capture(['bench', 'hop', '--json', '--model', 'tiny2x24', '--steps', '5,10', '--count', '10', '--rate', '200']);
  assert.equal(code, 0, stderr);
  type Q = { p50Ms: number; p99Ms: number };
  const r = JSON.parse(stdout) as {
    model: string;
    transports: string[];
    target: { steps: number; maxRatio: number; description: string };
    rows: Array<{
      transport: string; encoding: string; steps: number; direct: Q; forward: Q; mapper: Q;
      addedP50Ms: number; addedP99Ms: number; forwardAddedP50Ms: number; forwardAddedP99Ms: number; mappingP50Ms: number; ratioP50: number | null; ratioP99: number | null;
    }>;
  };
  assert.equal(r.model, 'tiny2x24');
  assert.deepEqual(r.transports, ['tcp', 'unix']);
  assert.deepEqual([r.target.steps, r.target.maxRatio], [10, 1.2]);
  assert.deepEqual(
    r.rows.map((x) => [x.encoding, x.steps, x.transport]),
    [
      ['json', 5, 'tcp'], ['json', 5, 'unix'], ['json', 10, 'tcp'], ['json', 10, 'unix'],
      ['binary', 5, 'tcp'], ['binary', 5, 'unix'], ['binary', 10, 'tcp'], ['binary', 10, 'unix'],
    ],
  );
  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;
  for (const row of r.rows) {
    for (const q of [row.direct, row.forward, row.mapper]) assert.ok(q.p50Ms > 0 && q.p99Ms >= q.p50Ms);
    assert.ok(close(row.addedP50Ms, row.mapper.p50Ms - row.direct.p50Ms));
    assert.ok(close(row.forwardAddedP50Ms, row.forward.p50Ms - row.direct.p50Ms));
    assert.ok(close(row.mappingP50Ms, row.mapper.p50Ms - row.forward.p50Ms));
    // A ratio when the forwarder added something; null (NaN in JSON) when noise made it nothing.
    if (row.forwardAddedP50Ms > 0) assert.ok(Math.abs((row.ratioP50 ?? NaN) - row.addedP50Ms / row.forwardAddedP50Ms) < 0.01);
    else assert.equal(row.ratioP50, null);
  }
  const table = await capture(['bench', 'hop', '--model', 'tiny2x24', '--steps', '10', '--transports', 'unix', '--count', '10', '--rate', '200']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^unix\s+json\s+10\s/m);
  assert.doesNotMatch(table.stdout, /^tcp\s/m);
  assert.match(table.stdout, /Target: at n = 10, the mapper adds at most 1\.2x what the null forwarder adds on the same transport/);
  assert.equal((await capture(['bench', 'hop', '--transports', 'udp'])).code, 2);
});

test('bench hop --page --json: a mapper without its page and one with it open, latency and CPU per request', { timeout: 180_000 }, async () => {
  const { code, stdout, stderr } = await capture(['bench', 'hop', '--page', '--json', '--model', 'tiny2x24', '--steps', '10', '--count', '20', '--rate', '100']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as PageBenchReport;
  assert.deepEqual(report.rows.map((r) => [r.transport, r.encoding, r.steps]), [['unix', 'json', 10], ['unix', 'binary', 10]]);
  for (const row of report.rows) {
    assert.ok(row.noPage.p50Ms > 0 && row.withPage.p50Ms > 0 && row.direct.p50Ms > 0, JSON.stringify(row));
    assert.ok(Math.abs(row.shareP50 - (row.withPage.p50Ms - row.noPage.p50Ms) / row.noPage.p50Ms) < 0.001);
    assert.ok((row.cpuMsNoPage ?? 0) > 0 && (row.cpuMsWithPage ?? 0) > 0, 'CPU time of both mappers');
  }
  assert.ok(report.stream.messages >= 1, 'the page\'s stream was read');
});

test('bench throughput --json --plot: both runtimes at each rate, the rate at the budget, the ratio, an SVG', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-throughput-test-'));
  try {
    const plot = join(dir, 'throughput.svg');
    const { code, stdout, stderr } = await capture([
      'bench', 'throughput', '--json', '--plot', plot, '--preset', 'tiny2x24', '--length', '20', '--rates', '20,40', '--window-ms', '300',
      '--max-batch', '4', '--budget-ms', '5000', '--also', '1/0/2', '--low-load', '12',
    ]);
    assert.equal(code, 0, stderr);
    type Config = { serving: { maxBatch: number }; effective: { maxBatch: number; workers: number }; rpsAtBudget: number; censored: boolean; lowLoad: { sent: number; failed: number; meanBatch: number }; windows: Array<{ offeredRps: number; p50Ms: number; p99Ms: number; meanBatch: number }> };
    const r = JSON.parse(stdout) as { budgetMs: number; baseline: Config; batched: Config; ratio: number; others: Array<Config & { ratio: number }>; load: { cores: number }; gemm: Array<{ batch: number }> };
    assert.equal(r.budgetMs, 5000);
    assert.deepEqual([r.baseline.serving.maxBatch, r.baseline.effective], [1, { maxBatch: 1, workers: 0 }]);
    assert.deepEqual([r.batched.serving.maxBatch, r.batched.effective], [4, { maxBatch: 4, workers: 1 }]);
    // --also 1/0/2: batch 1 in two worker threads, measured the same way.
    assert.deepEqual(r.others.map((o) => [o.serving, o.effective]), [[{ maxBatch: 1, maxDelayMs: 0, concurrency: 2 }, { maxBatch: 1, workers: 2 }]]);
    for (const c of [r.baseline, r.batched, ...r.others]) {
      assert.deepEqual(c.windows.map((w) => w.offeredRps), [20, 40]);
      for (const w of c.windows) assert.ok(w.p50Ms > 0 && w.p99Ms >= w.p50Ms && w.meanBatch >= 1);
      // A budget of 5 s is not crossed by a tiny model: the rate is the last one tried, a lower bound.
      assert.deepEqual([c.rpsAtBudget, c.censored], [40, true]);
      // Low load: one request at a time, so each runs alone, batching or not (no companion waited for).
      assert.deepEqual([c.lowLoad.sent, c.lowLoad.failed, c.lowLoad.meanBatch], [12, 0, 1]);
    }
    assert.equal(r.ratio, 1);
    assert.ok(r.load.cores >= 1);
    assert.deepEqual(r.gemm.map((g) => g.batch), [1, 2, 4]);
    assert.match(await readFile(plot, 'utf8'), /^<\?xml[\s\S]*latency against offered load[\s\S]*<\/svg>\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const same = await capture(['bench', 'throughput', '--max-batch', '1']);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /is the baseline: nothing to compare/);
  assert.match((await capture(['bench', 'throughput', '--max-batch=0'])).stderr, /--max-batch must be an integer ≥ 1 and ≤ 1024/);
  assert.match((await capture(['bench', 'throughput', '--also', '16/0'])).stderr, /--also takes MAXBATCH\/MAXDELAYMS\/CONCURRENCY, got "16\/0"/);
});

test('bench usage errors exit 2', async () => {
  assert.equal((await capture(['bench'])).code, 2);
  const unknown = await capture(['bench', 'nothing']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /crime bench: unknown command "nothing"/);
  const bad = await capture(['bench', 'decide', '--decisions', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--decisions must be an integer ≥ 1000/);
  const help = await capture(['bench', 'decide', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--candidates/);
  assert.match((await capture(['bench', '--help'])).stdout, /decide\s+per-request decision overhead/);
});
