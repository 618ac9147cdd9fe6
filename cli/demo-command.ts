import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command.js';
import { intOption, numberOption } from './options.js';
import { progressBar } from './progress.js';
import { bringUp } from './up-command.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/topologies/', import.meta.url));

const usage = `Usage: crime demo [--count N] [--rate R]

The local demo, no cluster needed: brings up examples/topologies/three-tier.yaml (an IMDB-like
LSTM on an emulated ARM end node, a gateway and a cloud node, real processes and emulated links),
sends a load of reviews of mixed lengths, then makes the gateway-to-cloud link 10x slower and
sends the same load again, printing where requests were served each time. Stops everything at
the end.

Options:
  --count N   requests per phase (default 300)
  --rate R    requests per second (default 20)
`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the local three-tier demo and print the results',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({ args, options: { count: { type: 'string' }, rate: { type: 'string' } }, strict: true });
    const count = intOption(values.count, 'count', 300, 1);
    const rate = numberOption(values.rate, 'rate', 20, 0.1);
    const [{ runLoad, formatLoadReport }, { parseLengthSpec }] = await Promise.all([import('../load/load.js'), import('../stats/lengths.js')]);
    io.stdout.write('Starting examples/topologies/three-tier.yaml locally (end node, gateway, cloud)...\n');
    const up = await bringUp(`${EXAMPLES}three-tier.yaml`, `${EXAMPLES}three-tier.local.yaml`, undefined, (line) => io.stderr.write(`${line}\n`));
    try {
      io.stdout.write(`entry ${up.entryUrl} (logs in ${up.logDir})\npage ${up.pageUrl} (open it to watch the requests live)\n`);
      await new Promise((r) => setTimeout(r, 1500)); // first pings between neighbours
      const lengths = parseLengthSpec('lognormal:median=60,sigma=1.1,max=1000', 1000);
      const phase = async (title: string): Promise<void> => {
        io.stdout.write(`\n== ${title}\n`);
        const bar = progressBar(io.stderr);
        const report = await runLoad({ url: up.entryUrl, lengths, rate, count, onResult: (_r, done) => bar.update(done / count, `${done}/${count}`) });
        bar.done();
        io.stdout.write(formatLoadReport(report));
      };
      await phase('gateway -> cloud RTT 30 ms: short reviews stay on the end node, long ones leave it');
      const control = await fetch(`${up.controlUrl}/links/gateway/cloud`, { method: 'PUT', body: JSON.stringify({ rttMs: 300 }) });
      if (!control.ok) throw new Error(`could not change the link: HTTP ${control.status}`);
      await phase('gateway -> cloud RTT 300 ms: the cloud is not worth it any more');
      io.stdout.write('\nTry it yourself: npx crime up examples/topologies/three-tier.yaml --local examples/topologies/three-tier.local.yaml\n');
      io.stdout.write('What CRIME saves against sending everything to one device, measured live beside the simulator (about 100 s):\n');
      io.stdout.write('  npx crime bench mapping --topology examples/topologies/three-tier.yaml --local examples/loads/intermediate.local.yaml --load examples/loads/intermediate.yaml\n');
      return 0;
    } finally {
      await up.close();
    }
  },
};
