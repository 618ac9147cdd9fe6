import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { capture } from './testing.js';

const SCENARIO = `
name: cli-test
requests: 300
arrival: { type: poisson, ratePerSec: 5 }
lengths: { type: list, values: [3, 10, 40, 150] }
payload: { stepBytes: 1200 }
devices:
  - { name: end, entry: true, perStepMs: 3, fixedMs: 2, offloadTo: [cloud] }
  - { name: cloud, perStepMs: 0.03, fixedMs: 1.5 }
links:
  - { from: end, to: cloud, rttMs: 30, bandwidthMbps: 50 }
`;

async function scenarioFile(text = SCENARIO): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crime-sim-'));
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, text);
  return file;
}

test('--json prints exactly one JSON object with the documented shape', async () => {
  const { code, stdout, stderr } = await capture(['sim', '--scenario', await scenarioFile(), '--json']);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(out.scenario, 'cli-test');
  assert.equal(typeof out.crimeVsOraclePct, 'number');
  assert.equal(typeof out.crimeVsHindsightPct, 'number');
  const policies = out.policies as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(policies), ['crime', 'oracle', 'hindsight', 'static-threshold', 'only-end', 'only-cloud']);
  for (const p of Object.values(policies)) {
    for (const key of ['meanMs', 'p50Ms', 'p95Ms', 'p99Ms', 'energyJ', 'served', 'failed', 'utilisation', 'pings']) assert.ok(key in p, key);
  }
  const only = policies['only-end'] as { utilisation: Record<string, number> };
  // This trace draws 58 steps on average: 5 requests/s of 3·58 + 2 ms keep the end node alone busy
  // about 95% of the time; the cloud does nothing.
  assert.ok(only.utilisation.end! > 0.85 && only.utilisation.end! < 1.05, JSON.stringify(only.utilisation));
  assert.equal(only.utilisation.cloud, 0);
});

test('the table mirrors the slides: reductions vs each device and the increase vs oracle', async () => {
  const { code, stdout } = await capture(['sim', '--scenario', await scenarioFile()]);
  assert.equal(code, 0);
  assert.match(stdout, /^cli-test: 300 requests, objective latency/);
  assert.match(stdout, /CRIME reduction of mean latency vs single-device policies: end -?\d+\.\d\d%, cloud -?\d+\.\d\d%/);
  assert.match(stdout, /CRIME increase vs oracle \(greedy, perfect current information; not a bound\): -?\d+\.\d{3}%/);
  assert.match(stdout, /CRIME increase vs hindsight .*: -?\d+\.\d{3}%/);
  assert.match(stdout, /static thresholds \(tuned on the first 10%\): 1-\d+ steps -> end/);
});

test('--plot writes an SVG', async () => {
  const file = await scenarioFile();
  const svg = `${file}.svg`;
  const { code, stdout } = await capture(['sim', '--scenario', file, '--plot', svg]);
  assert.equal(code, 0);
  assert.match(stdout, /plot written to/);
  const text = await readFile(svg, 'utf8');
  assert.match(text, /^<\?xml/);
  assert.match(text, /<svg[^>]+width="900"/);
  assert.match(text, /<polyline/);
  assert.match(text, /CRIME mapping/);
});

test('an invalid scenario exits 2 with one line naming the field', async () => {
  const file = await scenarioFile(SCENARIO.replace('to: cloud, rttMs', 'to: clouds, rttMs'));
  const { code, stdout, stderr } = await capture(['sim', '--scenario', file]);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.equal(stderr, `crime sim: invalid scenario ${file}: links[0].to: unknown device "clouds"\n`);
});

test('usage errors exit 2 and say what is wrong', async () => {
  const missing = await capture(['sim']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--scenario FILE is required/);
  const unknown = await capture(['sim', '--scenario', 'x.yaml', '--fast']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--fast'/);
  const absent = await capture(['sim', '--scenario', '/nonexistent/s.yaml']);
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /cannot read scenario \/nonexistent\/s.yaml: ENOENT/);
  const command = await capture(['simulate']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "simulate"/);
});

test('help explains every option', async () => {
  const top = await capture(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /sim\s+run the trace-driven simulator/);
  const sim = await capture(['sim', '--help']);
  assert.equal(sim.code, 0);
  for (const opt of ['--scenario', '--json', '--plot', '--help']) assert.ok(sim.stdout.includes(opt), opt);
});

test('the installed bin runs as a process, with a clean exit code and no stack trace', async () => {
  const bin = fileURLToPath(new URL('./main.js', import.meta.url));
  const bad = await scenarioFile('name: [oops');
  const r = spawnSync(process.execPath, [bin, 'sim', '--scenario', bad], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not valid YAML at line 1/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

test('--topology --local --load simulates what crime up runs: the model timed for a device it does not emulate', async () => {
  // three-tier.local.yaml emulates the end node and the gateway; the cloud runs at this machine's speed.
  const { code, stdout, stderr } = await capture([
    'sim', '--topology', `${EXAMPLES}topologies/three-tier.yaml`, '--local', `${EXAMPLES}topologies/three-tier.local.yaml`, '--load', `${EXAMPLES}loads/link-slowdown.yaml`, '--json',
  ]);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout) as { scenario: string; requests: number; policies: Record<string, { failed: number }> };
  assert.equal(out.scenario, 'imdb-sentiment/link-slowdown');
  assert.equal(out.requests, 240);
  assert.deepEqual(Object.keys(out.policies), ['crime', 'oracle', 'hindsight', 'static-threshold', 'only-end-node', 'only-gateway', 'only-cloud']);
  assert.equal(out.policies.crime?.failed, 0);
});

test('--topology refuses a load that does not fit it, naming the file and the field, and bad combinations', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-sim-'));
  await writeFile(join(dir, 'load.yaml'), 'name: x\nrequests: 5\narrival: { type: poisson, ratePerSec: 1 }\nlengths: { type: list, values: [3] }\nevents:\n  - { atSec: 1, link: end-node->cloud, rttMs: 5 }\n');
  const bad = await capture(['sim', '--topology', `${EXAMPLES}topologies/three-tier.yaml`, '--load', join(dir, 'load.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid load \S+load\.yaml: events\[0\]\.link: unknown link end-node->cloud/);
  assert.equal((await capture(['sim', '--topology', `${EXAMPLES}topologies/three-tier.yaml`])).code, 2);
  assert.equal((await capture(['sim', '--scenario', join(dir, 'load.yaml'), '--topology', `${EXAMPLES}topologies/three-tier.yaml`])).code, 2);
  assert.equal((await capture(['sim', '--scenario', join(dir, 'load.yaml'), '--load', join(dir, 'load.yaml')])).code, 2);
});
