/**
 * Connection-level limits of a server facing untrusted clients: how long headers, bodies and idle
 * connections may take, and how many connections one client address may hold. Slow clients
 * (slowloris, one body byte every few seconds) are cut after these deadlines instead of Node's
 * 300 s, and one address cannot take every socket.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** open connections from one client address; more are closed at once */
  maxConnectionsPerClient: number;
  /** a request's headers must arrive within this long */
  headersTimeoutMs: number;
  /** a request's body must arrive within this long of its headers (the handler answers 408) */
  bodyTimeoutMs: number;
  /** a connection with no bytes either way for this long is closed */
  idleTimeoutMs: number;
}

/** How often Node checks header and request deadlines (its default, 30 s, would let them overrun by that much). */
export const DEADLINE_CHECK_MS = 500;

/** Node's own backstop for a whole request: past the handler's body deadline, so the handler answers first. */
function requestTimeoutMs(l: ConnectionLimits): number {
  return l.headersTimeoutMs + l.bodyTimeoutMs + 1000;
}

/** Server options for createServer (the deadline check interval can only be set there). */
export function serverOptions(l: ConnectionLimits): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: l.headersTimeoutMs, requestTimeout: requestTimeoutMs(l), connectionsCheckingInterval: DEADLINE_CHECK_MS };
}

/** Applies the limits to a server now and on every `limits()` change (read per connection). */
export function guardConnections(server: Server, limits: () => ConnectionLimits): { apply(): void; connectionsFrom(address: string): number } {
  const perClient = new Map<string, number>();
  const apply = (): void => {
    const l = limits();
    server.headersTimeout = l.headersTimeoutMs;
    server.requestTimeout = requestTimeoutMs(l);
    server.setTimeout(l.idleTimeoutMs);
  };
  apply();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = (perClient.get(address) ?? 0) + 1;
    if (open > limits().maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(address, open);
    socket.once('close', () => {
      const left = (perClient.get(address) ?? 1) - 1;
      if (left <= 0) perClient.delete(address);
      else perClient.set(address, left);
    });
  });
  return { apply, connectionsFrom: (address) => perClient.get(address) ?? 0 };
}
