import type { Command } from './cli.js';
import { simCommand } from './sim-command.js';

/** Every `crime` subcommand. Command modules import their heavy dependencies lazily inside run(). */
export const commands: readonly Command[] = [simCommand];
