import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command.js';
import { intOption, numberOption, required } from './options.js';
import { progressBar } from './progress.js';

const usage = `Usage: crime load --url URL [--lengths DIST] [--rate R] [--count N] [--json]

Sends JSON inference requests to a mapper entry, like clients would, and prints where they were
served and how long they took (latency percentiles, per-device counts, failures).

Options:
  --url URL        the entry mapper (what crime up prints after "entry")
  --lengths DIST   input lengths: lognormal:median=60,sigma=0.9,max=1000 | uniform:1-200 |
                   list:5,50,500 (default lognormal:median=20,sigma=0.8)
  --rate R         requests per second, Poisson arrivals (default 20; 0: one after another)
  --count N        requests to send (default 200)
  --token T        bearer token, for an entry that requires one
  --seed N         random seed for lengths and inputs (default 1)
  --json           print one JSON object (the report without per-request results)
`;

export const loadCommand: Command = {
  name: 'load',
  summary: 'drive traffic into a mapper entry and report the results',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        lengths: { type: 'string' },
        rate: { type: 'string' },
        count: { type: 'string' },
        token: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const url = required(values.url, 'url');
    const count = intOption(values.count, 'count', 200, 1);
    const rate = numberOption(values.rate, 'rate', 20, 0);
    const seed = intOption(values.seed, 'seed', 1, 0);
    const [{ runLoad, describeEntry, formatLoadReport }, { parseLengthSpec }] = await Promise.all([import('../load/load.js'), import('../stats/lengths.js')]);
    const model = await describeEntry(url);
    const lengths = parseLengthSpec(values.lengths ?? `lognormal:median=20,sigma=0.8,max=${model.maxSteps}`, model.maxSteps, '--lengths');
    const bar = progressBar(io.stderr);
    const report = await runLoad({
      url,
      lengths,
      rate,
      count,
      seed,
      ...(values.token ? { headers: { authorization: `Bearer ${values.token}` } } : {}),
      onResult: (_r, done) => bar.update(done / count, `${done}/${count}`),
    });
    bar.done();
    const { results: _results, ...summary } = report;
    io.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatLoadReport(report));
    return 0;
  },
};
