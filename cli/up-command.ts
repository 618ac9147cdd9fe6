import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import type { CliIo, Command } from './command.js';
import { announceUntilSignal, readInputFile } from './options.js';

const usage = `Usage: crime up TOPOLOGY.yaml [--local SETTINGS.yaml] [--work-dir DIR]

Runs an RnnTopology (the file you would kubectl apply) as local processes on loopback, no
cluster needed: per device a runtime and a mapper, and a user-space link emulator between
neighbours. Prints, once every device is ready:
  entry http://127.0.0.1:PORT      the client-facing mapper (open in local mode)
  page http://127.0.0.1:PORT/ui    its live page: where requests run, learned costs and links
  control http://127.0.0.1:PORT    change links (PUT /links/FROM/TO {"rttMs", "bandwidthMbps"}),
                                   kill or restart devices (POST /devices/NAME/kill|start),
                                   switch the mapping policy (PUT /policy {"policy": "local"}),
                                   play a load file's events (POST /events {"events": [...]})
Ctrl-C or SIGTERM stops every process it started.

Options:
  --local FILE     local settings: link RTT/bandwidth per offload pair, emulated device speeds
                   (see examples/topologies/three-tier.local.yaml)
  --work-dir DIR   where configs, the generated token and process logs go (default: a temp dir)
`;

export interface UpHandle {
  entryUrl: string;
  /** the entry mapper's live page (every mapper has one at its URL + /ui) */
  pageUrl: string;
  controlUrl: string;
  logDir: string;
  close(): Promise<void>;
}

/** Starts a topology locally; shared by `crime up` and `crime demo`. */
export async function bringUp(file: string, localFile: string | undefined, workDir: string | undefined, progress: (line: string) => void): Promise<UpHandle> {
  const [{ parseTopology }, { parseLocalSettings }, { LocalTopology }, { startControlServer }] = await Promise.all([
    import('../runtime/topology/topology.js'),
    import('../local/settings.js'),
    import('../local/launcher.js'),
    import('../local/control.js'),
  ]);
  const topology = await readInputFile(file, 'topology', parseTopology);
  const settings = localFile === undefined ? { links: [], devices: [] } : await readInputFile(localFile, 'local settings', (text) => parseLocalSettings(text, topology));
  const dir = workDir ?? (await mkdtemp(join(tmpdir(), `crime-up-${topology.name}-`)));
  const local = await LocalTopology.start({ topology, baseDir: dirname(file), settings, workDir: dir, onProgress: progress });
  const control = await startControlServer(local);
  return {
    entryUrl: local.entryUrl,
    pageUrl: `${local.entryUrl}/ui`,
    controlUrl: control.url,
    logDir: join(dir, 'logs'),
    async close() {
      await control.close();
      await local.close();
    },
  };
}

export const upCommand: Command = {
  name: 'up',
  summary: 'run an RnnTopology as local processes (no cluster)',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { local: { type: 'string' }, 'work-dir': { type: 'string' } }, strict: true, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('give exactly one topology file');
    const up = await bringUp(positionals[0] as string, values.local, values['work-dir'], (line) => io.stderr.write(`${line}\n`));
    await announceUntilSignal(io.stdout, `entry ${up.entryUrl}\npage ${up.pageUrl}\ncontrol ${up.controlUrl}\nlogs ${up.logDir}\n`);
    io.stderr.write('stopping\n');
    await up.close();
    return 0;
  },
};
