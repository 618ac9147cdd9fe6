import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import { send } from '../runtime/http/request.js';
import { socketPathProblem } from '../runtime/http/unix-socket.js';
import type { Command } from './command.js';
import { intOption } from './options.js';

const usage = `Usage: crime probe URL [--timeout-ms N]
       crime probe --socket PATH /PATH [--timeout-ms N]

Exits 0 when GET URL answers 2xx within the timeout, 1 otherwise: an exec probe for a server the
kubelet cannot reach over HTTP (in the operator's pods the runtime listens on a Unix socket only).

Options:
  --socket PATH    send the request over this Unix socket; give the request's path
                   (e.g. /healthz) or an http URL, whose path alone is used
  --timeout-ms N   give up after N ms (default 3000)
`;

/** GET over a Unix socket: the status, or an error. */
async function getOverSocket(socketPath: string, path: string, timeoutMs: number): Promise<number> {
  const agent = new Agent({ keepAlive: false });
  try {
    const res = await send({ agent, method: 'GET', url: new URL(path, 'http://localhost'), socketPath, headers: {}, timeoutMs, peer: `unix:${socketPath}` });
    return res.status;
  } finally {
    agent.destroy();
  }
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'check an HTTP endpoint (exec probes for loopback-only and Unix-socket servers)',
  usage,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true, options: { 'timeout-ms': { type: 'string' }, socket: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one URL');
    const target = positionals[0] as string;
    const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms', 3000, 1);
    const socket = values.socket;
    if (socket !== undefined) {
      const problem = socketPathProblem(socket);
      if (problem !== undefined) throw new UsageError(`--socket ${problem}`);
      if (!target.startsWith('/') && !/^http:\/\//.test(target)) throw new UsageError(`with --socket, give a path (/healthz) or an http URL, not ${target}`);
    } else if (!/^https?:\/\//.test(target)) {
      throw new UsageError(`not an http(s) URL: ${target}`);
    }
    const where = socket === undefined ? target : `unix:${socket} ${target}`;
    try {
      const status = socket === undefined
        ? (await fetch(target, { signal: AbortSignal.timeout(timeoutMs) })).status
        : await getOverSocket(socket, target, timeoutMs);
      if (status >= 200 && status < 300) return 0;
      io.stderr.write(`crime probe: ${where} answered HTTP ${status}\n`);
    } catch (err) {
      io.stderr.write(`crime probe: ${where}: ${(err as Error).message}\n`);
    }
    return 1;
  },
};
