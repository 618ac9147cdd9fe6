import { parseArgs } from 'node:util';
import { EXIT_USAGE, type Command } from './cli.js';
import { choice, describeFailure, UsageError, waitForSignal } from './options.js';

const usage = `Usage: crime mapper --config FILE [--log-level L]

Runs the mapper sidecar of one device: every request enters here, the mapping engine picks local
or a neighbour per input, failed offloads fall back, and the models learn from every reply and
from pings. Serves POST /v1/infer, GET|POST /v1/ping, GET /v1/model, /healthz, /readyz, /metrics.
Prints "listening http://HOST:PORT" once its runtime answered and calibration is done. The
configuration file is reloaded when it changes; SIGTERM or SIGINT drains and exits.

Options:
  --config FILE   mapper configuration, YAML or JSON (see docs/mapper.md)
  --log-level L   error | warn | info | debug (default info); JSON logs go to stderr
`;

export const mapperCommand: Command = {
  name: 'mapper',
  summary: 'run the mapper sidecar of one device',
  usage,
  async run(args, io) {
    let values;
    let level: 'error' | 'warn' | 'info' | 'debug';
    try {
      ({ values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' } }, strict: true }));
      if (values.config === undefined) throw new UsageError('--config is required');
      level = choice(values['log-level'], 'log-level', ['error', 'warn', 'info', 'debug'] as const, 'info');
    } catch (err) {
      io.stderr.write(`crime mapper: ${(err as Error).message}\n\n${usage}`);
      return EXIT_USAGE;
    }
    const [{ createLogger }, { startMapperServer }, { InvalidInputError }] = await Promise.all([
      import('../runtime/log.js'),
      import('../runtime/mapper/server.js'),
      import('../runtime/validate.js'),
    ]);
    let server;
    try {
      server = await startMapperServer({ configFile: values.config, logger: createLogger({ service: 'mapper', stream: io.stderr, level }) });
      await server.ready;
    } catch (err) {
      const invalid = err instanceof InvalidInputError;
      io.stderr.write(`crime mapper: ${invalid ? `invalid configuration ${values.config}: ` : ''}${describeFailure(err)}\n`);
      await server?.close();
      return invalid || (err as NodeJS.ErrnoException).code === 'ENOENT' ? EXIT_USAGE : 1;
    }
    io.stdout.write(`listening ${server.url}\n`);
    const running = server;
    await waitForSignal();
    await running.close();
    return 0;
  },
};
