import { timingSafeEqual } from 'node:crypto';
import { CrimeError } from '../errors.js';
import type { MapperState } from './state.js';

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || !given.startsWith('Bearer ')) return false;
  const a = Buffer.from(given.slice('Bearer '.length).trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Who a request comes from, as far as this mapper trusts it. */
export type Caller = 'peer' | 'client';

/**
 * Who may call this mapper. Trust comes from the token alone, never from a header the caller
 * sets: with a token configured, every request needs it, except client requests at an entry that
 * is configured open to clients (`auth.clients: false`). The `crime-origin: peer` header only picks
 * the peer protocol (latency routing, the path, the advertisement) for a caller that proved it is
 * a peer; claimed without the token it is refused, never downgraded. Throws UNAUTHORIZED.
 */
export function authenticate(state: MapperState, request: { claimsPeer: boolean; authorization: string | undefined }): Caller {
  const caller: Caller = request.claimsPeer ? 'peer' : 'client';
  if (state.token === undefined || tokenMatches(request.authorization, state.token)) return caller;
  if (caller === 'peer') throw new CrimeError('UNAUTHORIZED', 'requests between mappers need the topology\'s bearer token');
  if (state.clientsNeedToken) throw new CrimeError('UNAUTHORIZED', 'this mapper needs the topology\'s bearer token');
  return 'client';
}
