import { benchCommand } from './bench-command.js';
import type { Command } from './cli.js';
import { modelCommand } from './model-command.js';
import { runtimeCommand } from './runtime-command.js';
import { simCommand } from './sim-command.js';

/** Every `crime` subcommand. Command modules import their heavy dependencies lazily inside run(). */
export const commands: readonly Command[] = [simCommand, runtimeCommand, modelCommand, benchCommand];
