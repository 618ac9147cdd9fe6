import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { capture } from './testing.js';
import { parseScenario } from '../sim/scenario.js';

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
  for (const opt of ['--scenario', '--json', '--plot', '--generate', '--sweep', '--seed', '--from', '--seeds', '--objective', '--family', '--out', '--help']) assert.ok(sim.stdout.includes(opt), opt);
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

test('--generate prints one scenario file, or writes N to --out; each parses', async () => {
  const one = await capture(['sim', '--generate', '1', '--seed', '3', '--objective', 'energy']);
  assert.equal(one.code, 0, one.stderr);
  const s = parseScenario(one.stdout);
  assert.equal(s.name, 'gen-energy-nominal-3-0');
  assert.equal(s.objective, 'energy');
  const dir = await mkdtemp(join(tmpdir(), 'crime-gen-'));
  const many = await capture(['sim', '--generate', '3', '--from', '4', '--seed', '3', '--family', 'adversity', '--out', dir]);
  assert.equal(many.code, 0, many.stderr);
  const files = many.stdout.trim().split('\n');
  assert.deepEqual(files, [4, 5, 6].map((i) => join(dir, `gen-latency-adversity-3-${i}.yaml`)));
  for (const f of files) assert.equal(parseScenario(await readFile(f, 'utf8')).objective, 'latency');
  const noOut = await capture(['sim', '--generate', '2']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--generate N with N > 1 needs --out DIR/);
  const both = await capture(['sim', '--generate', '1', '--scenario', 'x.yaml']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /one of --scenario, --topology, --generate and --sweep/);
  const bad = await capture(['sim', '--generate', '1', '--family', 'calm']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--family must be one of nominal, adversity/);
});

test('--sweep prints the distribution, and writes the worst scenario as a file that replays its run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-sweep-'));
  const { code, stdout, stderr } = await capture(['sim', '--sweep', '2', '--seed', '5', '--objective', 'latency', '--family', 'nominal', '--seeds', '1,2', '--json', '--out', dir]);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout) as {
    summaries: Array<{ objective: string; family: string; runs: number; worstPct: number; worst: { name: string; traceSeed: number } }>;
    runs: Array<{ name: string; traceSeed: number; vsOraclePct: number }>;
    files: string[];
  };
  assert.equal(out.runs.length, 4);
  const [summary] = out.summaries;
  assert.deepEqual([summary!.objective, summary!.family, summary!.runs], ['latency', 'nominal', 4]);
  const file = join(dir, `${summary!.worst.name}@${summary!.worst.traceSeed}.yaml`);
  assert.ok(out.files.includes(file));
  const replay = await capture(['sim', '--scenario', file, '--json']);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal((JSON.parse(replay.stdout) as { crimeVsOraclePct: number }).crimeVsOraclePct, summary!.worstPct);
  const table = await capture(['sim', '--sweep', '1', '--seed', '5', '--objective', 'latency', '--family', 'nominal', '--out', dir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /median %\s+p90 %\s+worst %/);
  assert.match(table.stdout, /latency\s+nominal\s+all\s+1\s/);
  assert.match(table.stdout, /replay with crime sim --scenario FILE/);
});
