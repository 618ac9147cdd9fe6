import { ERRORS, CrimeError, UsageError } from '../runtime/errors.js';
import { groupUsage, type CliIo, type Command } from './command.js';
import { commands } from './commands.js';

/** Exit code for invalid usage or invalid input files, so scripts can tell it from a failed run. */
const EXIT_USAGE = ERRORS.USAGE.exit;

/** The exit code for an error that ended a command: the registry's, or 2 for an unreadable input file. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CrimeError) return err.exitCode;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR'].includes(code))) return EXIT_USAGE;
  return 1;
}

/** One line for an error that ended a command: typed runtime failures keep their code. */
export function describeFailure(err: unknown): string {
  if (err instanceof CrimeError && err.exitCode !== EXIT_USAGE) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function isUsage(err: unknown): boolean {
  return err instanceof UsageError || String((err as NodeJS.ErrnoException | undefined)?.code).startsWith('ERR_PARSE_ARGS');
}

const text = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);

/**
 * Runs `prefix <name> args…` among `commands`: help, unknown names, groups, and the one mapping from
 * what a command throws to a message on stderr and an exit code.
 */
export async function dispatch(prefix: string, commands: readonly Command[], usage: string, argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(text(usage));
    return name === undefined ? EXIT_USAGE : 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`${prefix}: unknown command "${name}"\n\n${text(usage)}`);
    return EXIT_USAGE;
  }
  const path = `${prefix} ${cmd.name}`;
  if (cmd.subcommands) return dispatch(path, cmd.subcommands, cmd.usage, rest, io);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(text(cmd.usage));
    return 0;
  }
  try {
    if (!cmd.run) throw new Error(`${path} has nothing to run`);
    return await cmd.run(rest, io);
  } catch (err) {
    io.stderr.write(`${path}: ${describeFailure(err)}\n${isUsage(err) ? `\n${text(cmd.usage)}` : ''}`);
    return exitCodeOf(err);
  }
}

export function runCli(argv: string[], io: CliIo): Promise<number> {
  const top = `crime: collaborative RNN inference mapping (CRIME) on Kubernetes\n\n${groupUsage('crime', '', commands)}`;
  return dispatch('crime', commands, top, argv, io);
}
