import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from './testing.js';

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

test('bench hop --json measures direct, forwarded and mapper paths with real processes', { timeout: 120_000 }, async () => {
  const { code, stdout, stderr } = await capture(['bench', 'hop', '--json', '--model', 'tiny2x24', '--steps', '5', '--count', '10', '--rate', '100']);
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout) as { model: string; rows: Array<{ encoding: string; steps: number; direct: { p50Ms: number }; forward: { p50Ms: number }; mapper: { p50Ms: number }; addedP50Ms: number }> };
  assert.equal(r.model, 'tiny2x24');
  assert.deepEqual(
    r.rows.map((x) => [x.encoding, x.steps]),
    [
      ['json', 5],
      ['binary', 5],
    ],
  );
  for (const row of r.rows) {
    assert.ok(row.direct.p50Ms > 0 && row.forward.p50Ms > 0 && row.mapper.p50Ms > 0);
    assert.ok(Math.abs(row.addedP50Ms - (row.mapper.p50Ms - row.direct.p50Ms)) < 1e-6);
  }
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
