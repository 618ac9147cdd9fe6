import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CrimeError, toCrimeError } from '../runtime/errors.js';
import { readBody } from '../runtime/http/body.js';
import { answerClientErrors } from '../runtime/http/client-errors.js';
import { sendError, sendJson } from '../runtime/http/error-handler.js';
import type { LocalTopology } from './launcher.js';

/**
 * The control API of a local run, on loopback: see and change links while traffic flows, and kill
 * or restart devices (what tests and demos of adaptation need).
 *
 *   GET  /links                        → [{from, to, rttMs, bandwidthMbps}]
 *   PUT  /links/{from}/{to}            ← {"rttMs"?: n, "bandwidthMbps"?: n} → the link's conditions
 *   GET  /devices                      → [{name, running, runtimePid, mapperPid, mapperUrl, ...}]
 *   POST /devices/{name}/kill          kills its runtime and mapper (SIGKILL, like a crash)
 *   POST /devices/{name}/start         starts them again on the same ports
 */
export async function startControlServer(local: LocalTopology): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    handle(local, req, res).catch((err: unknown) => sendError(res, toCrimeError(err)));
  });
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}


async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, 64 * 1024);
  try {
    const v = JSON.parse(body.toString('utf8') || '{}') as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new CrimeError('INVALID_INPUT', 'the body must be a JSON object');
  }
}

function positive(body: Record<string, unknown>, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= min)) throw new CrimeError('INVALID_INPUT', `${key} must be a number ≥ ${min}`);
  return v;
}

async function handle(local: LocalTopology, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  const notFound = (): never => {
    throw new CrimeError('NOT_FOUND', `no route ${req.method} ${req.url}`);
  };
  if (parts[0] === 'links') {
    if (req.method === 'GET' && parts.length === 1) return sendJson(res, 200, local.listLinks());
    if (req.method === 'PUT' && parts.length === 3) {
      const body = await readJson(req);
      const rttMs = positive(body, 'rttMs', 0);
      const bandwidthMbps = body.bandwidthMbps === null ? Infinity : positive(body, 'bandwidthMbps', Number.MIN_VALUE);
      const conditions = local.setLink(parts[1]!, parts[2]!, { ...(rttMs === undefined ? {} : { rttMs }), ...(bandwidthMbps === undefined ? {} : { bandwidthMbps }) });
      return sendJson(res, 200, { from: parts[1], to: parts[2], ...conditions });
    }
    return notFound();
  }
  if (parts[0] === 'devices') {
    if (req.method === 'GET' && parts.length === 1) return sendJson(res, 200, local.listDevices());
    if (req.method === 'POST' && parts.length === 3 && parts[2] === 'kill') {
      await local.killDevice(parts[1]!);
      return sendJson(res, 200, { killed: parts[1] });
    }
    if (req.method === 'POST' && parts.length === 3 && parts[2] === 'start') {
      await local.startDevice(parts[1]!);
      return sendJson(res, 200, { started: parts[1] });
    }
    return notFound();
  }
  return notFound();
}
