import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command.js';
import { readInputFile, required } from './options.js';
import { readTopologyRun } from './topology-run.js';
import { generateFiles, sweep } from './sim-generated.js';
import { UsageError } from '../runtime/errors.js';
import { progressBar } from './progress.js';

const USAGE = `Usage: crime sim --scenario FILE [--json] [--plot FILE.svg]
       crime sim --topology FILE [--local FILE] --load FILE [--overhead C,S,H] [--json] [--plot FILE.svg]
       crime sim --generate N [--seed S] [--from I] [--objective latency|energy] [--family nominal|adversity] [--out DIR]
       crime sim --sweep N [--seed S] [--from I] [--seeds LIST] [--objective latency|energy|both] [--family nominal|adversity|both] [--out DIR] [--json]

Runs the trace-driven simulator: every policy (crime, oracle, static-threshold and
only-<device> for every device the entry can reach) on the same request trace, and
compares them in the shape of the CRIME slides.

Options:
  --scenario FILE   scenario YAML (see docs/scenarios.md and examples/scenarios/)
  --topology FILE   instead of a scenario: simulate exactly what crime up TOPOLOGY --local SETTINGS
                    runs under a load file: the topology's devices, graph, objective, serving and
                    mapping settings, device speeds and links from the local settings (a device
                    they do not emulate is timed on this machine with the real model), the
                    model's payload on the wire, the load's trace and events
  --local FILE      the local settings crime up takes (examples/loads/*.local.yaml)
  --load FILE       a load file: requests, seed, arrival, lengths, events (examples/loads/)
  --overhead C,S,H  with --topology: what the live run adds, in ms: from the client to the entry,
                    to serving a request, to every hop between mappers (default 1,1,1.5; crime
                    bench mapping measures it on its runs and prints it)
  --json            print exactly one JSON object on stdout instead of the table
  --plot FILE.svg   write an SVG: latency over time per policy and CRIME's mapping of
                    input lengths to devices (for a sweep: mean cost vs RTT)
  --generate N      write N random but physically sensible scenario files (scenarios
                    I, I+1, ... of seed S; one is printed on stdout without --out)
  --sweep N         run N generated scenarios per objective and family (crime, oracle and
                    the single devices) and print the distribution of CRIME's distance from
                    the oracle and the best single device; the worst scenarios are written
                    to --out DIR (default a new temporary directory) as files that replay them
  --seed S          the generator's seed (default 1)
  --from I          the first scenario index (default 0)
  --seeds LIST      trace seeds each generated scenario is run with (default its own)
  --objective, --family   which scenarios to generate (sweep default: both of each)
  --out DIR         where generated files go
  -h, --help        show this help

Exit codes: 0 success, 2 invalid usage or invalid scenario, 1 anything else.`;

/** "CLIENT,SERVE,HOP" in ms, each ≥ 0. */
function overheadOption(value: string | undefined): { requestMs: number; serveMs: number; hopMs: number } | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) throw new UsageError(`--overhead must be CLIENT,SERVE,HOP in ms, each ≥ 0, got "${value}"`);
  const [requestMs, serveMs, hopMs] = parts as [number, number, number];
  return { requestMs, serveMs, hopMs };
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run the trace-driven simulator on a scenario file',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        scenario: { type: 'string' },
        topology: { type: 'string' },
        local: { type: 'string' },
        load: { type: 'string' },
        overhead: { type: 'string' },
        json: { type: 'boolean', default: false },
        plot: { type: 'string' },
        generate: { type: 'string' },
        sweep: { type: 'string' },
        seed: { type: 'string' },
        from: { type: 'string' },
        seeds: { type: 'string' },
        objective: { type: 'string' },
        family: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const modes = [values.scenario, values.topology, values.generate, values.sweep].filter((v) => v !== undefined).length;
    if (modes > 1) throw new UsageError('give one of --scenario, --topology, --generate and --sweep');
    if (values.topology === undefined && (values.local !== undefined || values.load !== undefined || values.overhead !== undefined)) throw new UsageError('--local, --load and --overhead go with --topology');
    if (values.generate !== undefined) return generateFiles(values.generate, values, io);
    if (values.sweep !== undefined) return sweep(values.sweep, values, io);
    if (values.scenario === undefined && values.topology === undefined) throw new UsageError('--scenario FILE is required (or --topology FILE --load FILE, --generate N, --sweep N)');
    const overhead = overheadOption(values.overhead);
    const [{ parseScenario }, { runScenario, runSweep }, report, plot, { scenarioFromTopology }] = await Promise.all([
      import('../sim/scenario.js'),
      import('../sim/run.js'),
      import('../sim/report.js'),
      import('../sim/plot.js'),
      import('../sim/topology-scenario.js'),
    ]);
    const scenario =
      values.topology === undefined
        ? await readInputFile(values.scenario as string, 'scenario', parseScenario)
        : scenarioFromTopology({ ...(await readTopologyRun({ topology: values.topology, local: values.local, load: required(values.load, 'load FILE') })).run, ...(overhead ? { overhead } : {}) });
    const bar = progressBar(io.stderr);
    const onProgress = (f: number, policy: string): void => bar.update(f, policy);
    let out: string;
    let svg: string;
    if (scenario.sweep) {
      const sweep = runSweep(scenario, { onProgress });
      const worst = Math.max(...sweep.points.map((p) => p.crimeVsOraclePct));
      out = values.json
        ? JSON.stringify({ scenario: scenario.name, sweep: { link: sweep.link, points: sweep.points }, crimeVsOraclePct: worst })
        : report.formatSweep(scenario.name, sweep.link, sweep.points);
      svg = values.plot ? plot.plotSweep(scenario.name, sweep.link, sweep.points) : '';
    } else {
      const run = runScenario(scenario, { onProgress });
      out = values.json ? JSON.stringify(run.result) : report.formatResult(run.result);
      svg = values.plot ? plot.plotRun(scenario, run.records) : '';
    }
    bar.done();
    io.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
    if (values.plot) {
      await writeFile(values.plot, svg);
      if (!values.json) io.stdout.write(`plot written to ${values.plot}\n`);
    }
    return 0;
  },
};
