import { timingSafeEqual } from 'node:crypto';
import type { MapperState } from './state.js';

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || !given.startsWith('Bearer ')) return false;
  const a = Buffer.from(given.slice('Bearer '.length).trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Peers (and pings) always need the token when one is configured; clients only if configured so. */
export function authorized(state: MapperState, peer: boolean, authorization: string | undefined): boolean {
  if (state.token === undefined || (!peer && !state.clientsNeedToken)) return true;
  return tokenMatches(authorization, state.token);
}
