import type { Command } from './cli.js';

/** Every `crime` subcommand. Command modules import their heavy dependencies lazily inside run(). */
export const commands: readonly Command[] = [];
