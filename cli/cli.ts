import type { Writable } from 'node:stream';

/** Where a subcommand writes; injected so tests can capture output without spawning. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

/** A subcommand: parses its own arguments and returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** true for commands with subcommands of their own, which answer --help themselves */
  ownHelp?: boolean;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit code for invalid usage or invalid input files, so scripts can tell it from a failed run. */
export const EXIT_USAGE = 2;

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'crime: collaborative RNN inference mapping (CRIME) on Kubernetes',
    '',
    'Usage: crime <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `crime <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { commands } = await import('./commands.js');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp(commands));
    return name === undefined ? EXIT_USAGE : 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`crime: unknown command "${name}"\n\n${topHelp(commands)}`);
    return EXIT_USAGE;
  }
  if (!cmd.ownHelp && (rest.includes('--help') || rest.includes('-h'))) {
    io.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : `${cmd.usage}\n`);
    return 0;
  }
  return cmd.run(rest, io);
}
