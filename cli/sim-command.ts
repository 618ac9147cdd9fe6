import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command.js';
import { readInputFile, required } from './options.js';
import { progressBar } from './progress.js';

const USAGE = `Usage: crime sim --scenario FILE [--json] [--plot FILE.svg]

Runs the trace-driven simulator: every policy (crime, oracle, static-threshold and
only-<device> for every device the entry can reach) on the same request trace, and
compares them in the shape of the CRIME slides.

Options:
  --scenario FILE   scenario YAML (see docs/scenarios.md and examples/scenarios/)
  --json            print exactly one JSON object on stdout instead of the table
  --plot FILE.svg   write an SVG: latency over time per policy and CRIME's mapping of
                    input lengths to devices (for a sweep: mean cost vs RTT)
  -h, --help        show this help

Exit codes: 0 success, 2 invalid usage or invalid scenario, 1 anything else.`;

export const simCommand: Command = {
  name: 'sim',
  summary: 'run the trace-driven simulator on a scenario file',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { scenario: { type: 'string' }, json: { type: 'boolean', default: false }, plot: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    const file = required(values.scenario, 'scenario FILE');
    const [{ parseScenario }, { runScenario, runSweep }, report, plot] = await Promise.all([
      import('../sim/scenario.js'),
      import('../sim/run.js'),
      import('../sim/report.js'),
      import('../sim/plot.js'),
    ]);
    const scenario = await readInputFile(file, 'scenario', parseScenario);
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
