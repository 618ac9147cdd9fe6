import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CrimeError, toCrimeError } from '../runtime/errors.js';
import { readBody } from '../runtime/http/body.js';
import { answerClientErrors } from '../runtime/http/client-errors.js';
import { sendError, sendJson } from '../runtime/http/error-handler.js';
import { unmatched, type RouteTable } from '../runtime/http/routes.js';
import type { LocalTopology } from './launcher.js';
import { invalidConditions, type LinkConditions } from './link-emulator.js';
import { eventTargetsOf, parseEvents } from '../runtime/timed-events.js';
import { InvalidInputError } from '../runtime/validate.js';

/**
 * The control API of a local run, on loopback: see and change links while traffic flows, and kill
 * or restart devices (what tests and demos of adaptation need).
 *
 *   GET  /links                        → [{from, to, rttMs, bandwidthMbps}]
 *   PUT  /links/{from}/{to}            ← {"rttMs"?: n, "bandwidthMbps"?: n} → the link's conditions
 *   GET  /devices                      → [{name, running, runtimePid, mapperPid, mapperUrl, ...}]
 *   POST /devices/{name}/kill          kills its runtime and mapper (SIGKILL, like a crash)
 *   POST /devices/{name}/start         starts them again on the same ports
 *   GET  /policy, PUT /policy          ← {"policy": "local"}: the mapping policy, switched by reload
 *   POST /events                       ← {"events": [...a load file's events...], "startInMs"?: n}: plays them
 *   GET  /events, DELETE /events       the events being played (due, applied, errors); drop those pending
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

/** The link conditions a PUT asks for, checked against the limits the link emulator accepts. */
export function conditionsOf(body: Record<string, unknown>): Partial<LinkConditions> {
  const out: Partial<LinkConditions> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'rttMs' && typeof value === 'number') out.rttMs = value;
    else if (key === 'bandwidthMbps' && (typeof value === 'number' || value === null)) out.bandwidthMbps = value ?? Infinity;
    else if (key === 'rttMs' || key === 'bandwidthMbps') throw new CrimeError('INVALID_INPUT', `${key} must be a number${key === 'bandwidthMbps' ? ' or null' : ''}`);
    else throw new CrimeError('INVALID_INPUT', `unknown field ${JSON.stringify(key)} (expected rttMs, bandwidthMbps)`);
  }
  const invalid = invalidConditions(out);
  if (invalid !== undefined) throw new CrimeError('INVALID_INPUT', invalid);
  return out;
}

/** Plays a load file's events (its `events` list, in JSON) on the running topology, or shows or drops them. */
async function events(local: LocalTopology, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let status = 200;
  if (method === 'DELETE') local.events?.cancel();
  if (method === 'POST') {
    const body = await readJson(req);
    const startInMs = body.startInMs ?? 0;
    if (typeof startInMs !== 'number' || !(startInMs >= 0 && startInMs <= 3_600_000)) throw new CrimeError('INVALID_INPUT', 'startInMs must be a number from 0 to 3600000');
    let list;
    try {
      list = parseEvents(body.events, eventTargetsOf(local.topologyDevices()));
    } catch (err) {
      if (err instanceof InvalidInputError) throw new CrimeError('INVALID_INPUT', err.message);
      throw err;
    }
    local.playEvents(list, performance.now() + startInMs);
    status = 202;
  }
  return sendJson(res, status, { pending: local.events?.pending ?? 0, events: local.events?.played ?? [] });
}

/** The route a path matches (its pattern, for Allow) and its parameters. */
function route(parts: string[]): { pattern: string; params: string[] } | undefined {
  const [head, a, b, c] = parts;
  if (head === 'links' && parts.length === 1) return { pattern: '/links', params: [] };
  if (head === 'links' && parts.length === 3) return { pattern: '/links/{from}/{to}', params: [a!, b!] };
  if (head === 'devices' && parts.length === 1) return { pattern: '/devices', params: [] };
  if (head === 'devices' && parts.length === 3 && (b === 'kill' || b === 'start') && c === undefined) return { pattern: `/devices/{name}/${b}`, params: [a!] };
  if ((head === 'policy' || head === 'events') && parts.length === 1) return { pattern: `/${head}`, params: [] };
  return undefined;
}

const ROUTES: RouteTable = {
  '/links': ['GET'],
  '/links/{from}/{to}': ['PUT'],
  '/devices': ['GET'],
  '/devices/{name}/kill': ['POST'],
  '/devices/{name}/start': ['POST'],
  '/policy': ['GET', 'PUT'],
  '/events': ['GET', 'POST', 'DELETE'],
};

async function handle(local: LocalTopology, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new CrimeError('INVALID_INPUT', `malformed path ${path}`);
  }
  const matched = route(parts);
  const method = req.method ?? 'GET';
  if (matched === undefined || !ROUTES[matched.pattern]!.includes(method)) {
    throw unmatched(ROUTES, method, matched?.pattern ?? path);
  }
  const [x, y] = matched.params;
  switch (matched.pattern) {
    case '/links':
      return sendJson(res, 200, local.listLinks());
    case '/links/{from}/{to}': {
      const conditions = local.setLink(x!, y!, conditionsOf(await readJson(req)));
      return sendJson(res, 200, { from: x, to: y, ...conditions });
    }
    case '/devices':
      return sendJson(res, 200, local.listDevices());
    case '/devices/{name}/kill':
      await local.killDevice(x!);
      return sendJson(res, 200, { killed: x });
    case '/policy':
      if (method === 'GET') return sendJson(res, 200, { policy: local.policy });
      return sendJson(res, 200, { policy: await local.setPolicy((await readJson(req)).policy) });
    case '/events':
      return events(local, method, req, res);
    default:
      await local.startDevice(x!);
      return sendJson(res, 200, { started: x });
  }
}
