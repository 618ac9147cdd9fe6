import { benchCommand } from './bench-command.js';
import type { Command } from './command.js';
import { clusterCommand } from './cluster-command.js';
import { demoCommand } from './demo-command.js';
import { loadCommand } from './load-command.js';
import { mapperCommand } from './mapper-command.js';
import { modelCommand } from './model-command.js';
import { operatorCommand } from './operator-command.js';
import { probeCommand } from './probe-command.js';
import { runtimeCommand } from './runtime-command.js';
import { simCommand } from './sim-command.js';
import { upCommand } from './up-command.js';

/** Every `crime` subcommand. Command modules import their heavy dependencies lazily inside run(). */
export const commands: readonly Command[] = [demoCommand, upCommand, loadCommand, simCommand, runtimeCommand, mapperCommand, operatorCommand, clusterCommand, modelCommand, probeCommand, benchCommand];
