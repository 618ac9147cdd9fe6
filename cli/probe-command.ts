import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import type { Command } from './command.js';
import { intOption } from './options.js';

const usage = `Usage: crime probe URL [--timeout-ms N]

Exits 0 when GET URL answers 2xx within the timeout, 1 otherwise: an exec probe for a server the
kubelet cannot reach over HTTP (the runtime listens on the pod's loopback only).

Options:
  --timeout-ms N   give up after N ms (default 3000)
`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'check an HTTP endpoint (exec probes for loopback-only servers)',
  usage,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { 'timeout-ms': { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('give exactly one URL');
    const url = positionals[0] as string;
    if (!/^https?:\/\//.test(url)) throw new UsageError(`not an http(s) URL: ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(intOption(values['timeout-ms'], 'timeout-ms', 3000, 1)) });
      if (res.ok) return 0;
      io.stderr.write(`crime probe: ${url} answered HTTP ${res.status}\n`);
    } catch (err) {
      io.stderr.write(`crime probe: ${url}: ${(err as Error).message}\n`);
    }
    return 1;
  },
};
