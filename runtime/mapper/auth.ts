import { timingSafeEqual } from 'node:crypto';
import { CrimeError } from '../errors.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import type { MapperState } from './app.js';
import type { Pipeline } from './pipeline.js';

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

export function readyState(state: MapperState): { pipeline: Pipeline; model: RuntimeModelInfo } {
  if (!state.pipeline || !state.model) throw new CrimeError('NOT_READY', 'the mapper is still calibrating its runtime', { retryAfterSec: 1 });
  return { pipeline: state.pipeline, model: state.model };
}
