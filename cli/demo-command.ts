import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './command.js';
import { runDemoPhases } from './demo-phases.js';
import { intOption, numberOption } from './options.js';
import { bringUp } from './up-command.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/topologies/', import.meta.url));

const usage = `Usage: crime demo [--count N] [--rate R] [--cluster [--keep]]

The local demo, no cluster needed: brings up examples/topologies/three-tier.yaml (an IMDB-like
LSTM on an emulated ARM end node, a gateway and a cloud node, real processes and emulated links),
sends a load of reviews of mixed lengths, then makes the gateway-to-cloud link 10x slower and
sends the same load again, printing where requests were served each time. Prints the entry's live
page (URL/ui) at the start. Stops everything at the end.

With --cluster (as root), the same through Kubernetes: a local cluster whose pods really run (no
Docker; crime cluster up --run-pods) and the operator, the example applied as an RnnTopology with
its model served by the pod runner, Ready awaited, the same loads sent to the entry pod and the
link changed through the pod runner, then kubectl get rnnt. Prints the kubeconfig, the entry URL
and its live page. The first run builds the control plane from Go modules (about 10 minutes).

Options:
  --count N   requests per phase (default 300)
  --rate R    requests per second (default 20)
  --cluster   through Kubernetes (needs root)
  --keep      with --cluster: leave everything running after the tables; Ctrl-C stops it
`;

async function runLocalDemo(io: CliIo, o: { count: number; rate: number }): Promise<number> {
  io.stdout.write('Starting examples/topologies/three-tier.yaml locally (end node, gateway, cloud)...\n');
  const up = await bringUp(`${EXAMPLES}three-tier.yaml`, `${EXAMPLES}three-tier.local.yaml`, undefined, (line) => io.stderr.write(`${line}\n`));
  try {
    io.stdout.write(`entry ${up.entryUrl} (logs in ${up.logDir})\npage ${up.pageUrl} (open it to watch the requests live)\n`);
    await new Promise((r) => setTimeout(r, 1500)); // first pings between neighbours
    await runDemoPhases(
      io,
      {
        entryUrl: up.entryUrl,
        async setCloudLinkRtt(rttMs) {
          const control = await fetch(`${up.controlUrl}/links/gateway/cloud`, { method: 'PUT', body: JSON.stringify({ rttMs }) });
          if (!control.ok) throw new Error(`could not change the link: HTTP ${control.status}`);
        },
      },
      o,
    );
    io.stdout.write('\nTry it yourself: npx crime up examples/topologies/three-tier.yaml --local examples/topologies/three-tier.local.yaml\n');
    io.stdout.write('What CRIME saves against sending everything to one device, measured live beside the simulator (about 100 s):\n');
    io.stdout.write('  npx crime bench mapping --topology examples/topologies/three-tier.yaml --local examples/loads/intermediate.local.yaml --load examples/loads/intermediate.yaml\n');
    return 0;
  } finally {
    await up.close();
  }
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the three-tier demo (locally, or through Kubernetes with --cluster) and print the results',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { count: { type: 'string' }, rate: { type: 'string' }, cluster: { type: 'boolean' }, keep: { type: 'boolean' } },
      strict: true,
    });
    const count = intOption(values.count, 'count', 300, 1);
    const rate = numberOption(values.rate, 'rate', 20, 0.1);
    if (values.cluster) {
      const { runClusterDemo } = await import('./demo-cluster.js');
      return runClusterDemo(io, { count, rate, keep: values.keep === true });
    }
    if (values.keep) {
      const { UsageError } = await import('../runtime/errors.js');
      throw new UsageError('--keep goes with --cluster (crime up keeps a local topology running)');
    }
    return runLocalDemo(io, { count, rate });
  },
};
