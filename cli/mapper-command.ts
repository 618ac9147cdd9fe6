import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { choice, required, serveUntilSignal } from './options.js';

const usage = `Usage: crime mapper --config FILE [--log-level L] [--no-ui]

Runs the mapper sidecar of one device: every request enters here, the mapping engine picks local
or a neighbour per input, failed offloads fall back, and the models learn from every reply and
from pings. Serves POST /v1/infer, GET|POST /v1/ping, GET /v1/model, /healthz, /readyz, /metrics,
and its live page /ui (where requests ran, learned costs and links; docs/mapper.md).
Prints "listening http://HOST:PORT" once its runtime answered and calibration is done. The
configuration file is reloaded when it changes; SIGTERM or SIGINT drains and exits.

Options:
  --config FILE   mapper configuration, YAML or JSON (see docs/mapper.md)
  --log-level L   error | warn | info | debug (default info); JSON logs go to stderr
  --no-ui         no live page: /ui is 404 and nothing is recorded for it
`;

export const mapperCommand: Command = {
  name: 'mapper',
  summary: 'run the mapper sidecar of one device',
  usage,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' }, 'no-ui': { type: 'boolean' } }, strict: true });
    const configFile = required(values.config, 'config');
    const level = choice(values['log-level'], 'log-level', ['error', 'warn', 'info', 'debug'] as const, 'info');
    const [{ createLogger }, { startMapperServer }, { CrimeError, InvalidInputError }] = await Promise.all([
      import('../runtime/log.js'),
      import('../runtime/mapper/server.js'),
      import('../runtime/errors.js'),
    ]);
    try {
      return await serveUntilSignal(io, () => startMapperServer({ configFile, livePage: values['no-ui'] !== true, logger: createLogger({ service: 'mapper', stream: io.stderr, level }) }));
    } catch (err) {
      if (err instanceof InvalidInputError) throw new CrimeError('INVALID_INPUT', `invalid configuration ${configFile}: ${err.message}`, { cause: err });
      throw err;
    }
  },
};
