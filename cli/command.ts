import type { Writable } from 'node:stream';

/** Where a subcommand writes; injected so tests can capture output without spawning. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

/**
 * A `crime` subcommand: parses its own arguments and returns the exit code, or throws; cli.ts turns
 * what it throws into a message and an exit code. A command with `subcommands` is a group
 * (`crime bench decide`, `crime model fetch`) dispatched the same way.
 */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run?(args: string[], io: CliIo): Promise<number>;
  subcommands?: readonly Command[];
}

function listing(title: string, commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [title, ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)].join('\n');
}

/** The usage of a group: its own text, then its subcommands. */
export function groupUsage(prefix: string, intro: string, subcommands: readonly Command[]): string {
  const head = `Usage: ${prefix} <command> [options]\n\n${intro ? `${intro}\n\n` : ''}`;
  return `${head}${listing('Commands:', subcommands)}\n\nRun \`${prefix} <command> --help\` for its options.\n`;
}
