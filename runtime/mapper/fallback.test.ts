import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fallback, neighbourAtFault, type Candidate } from './fallback.js';
import { MAX_HOPS } from './protocol.js';

const local: Candidate = { kind: 'local', target: 'gateway' };
const cloud: Candidate = { kind: 'neighbour', target: 'cloud' };
const edge: Candidate = { kind: 'neighbour', target: 'end-node' };

function drain(f: Fallback<Candidate>): string[] {
  const out: string[] = [];
  for (let c = f.next(); c !== undefined; c = f.next()) out.push(c.target);
  return out;
}

test('candidates come in rank order, skipping devices already on the path', () => {
  assert.deepEqual(drain(new Fallback([cloud, edge, local], ['end-node', 'gateway'])), ['cloud', 'gateway']);
});

test('no offload once the path is MAX_HOPS long; local stays', () => {
  const path = Array.from({ length: MAX_HOPS }, (_, i) => `d${i}`);
  assert.deepEqual(drain(new Fallback([cloud, local], path)), ['gateway']);
});

test('a failure moves on; a bad input stops; the final error names every failure', () => {
  const f = new Fallback([cloud, local], ['gateway']);
  assert.equal(f.failed(cloud, 'TIMEOUT'), true);
  assert.equal(f.failed(local, 'INVALID_INPUT'), false);
  assert.equal(f.failed(local, 'OVERLOADED'), true);
  const err = f.exhausted();
  assert.equal(err.code, 'OVERLOADED');
  assert.match(err.message, /cloud: TIMEOUT, gateway: OVERLOADED/);
  assert.equal(new Fallback([cloud], ['gateway']).exhausted().code, 'UPSTREAM_FAILED');
});

test('a neighbour that answered that something behind it failed stays up; every other failure is its own', () => {
  assert.equal(neighbourAtFault('UPSTREAM_FAILED', true), false);
  assert.equal(neighbourAtFault('TIMEOUT', true), false);
  for (const code of ['NOT_READY', 'UNAUTHORIZED', 'OVERLOADED', 'INTERNAL'] as const) assert.equal(neighbourAtFault(code, true), true, code);
  // Unreachable, reset, or silent past its timeout.
  assert.equal(neighbourAtFault('UPSTREAM_FAILED', false), true);
  assert.equal(neighbourAtFault('TIMEOUT', false), true);
});

test('upcoming candidates, skipped ones, and an expired deadline', () => {
  const f = new Fallback([cloud, local], ['gateway']);
  assert.deepEqual(f.next(), cloud);
  assert.deepEqual(f.upcoming(), [local]);
  f.skipped(cloud);
  const err = f.expired(3000);
  assert.equal(err.code, 'TIMEOUT');
  assert.match(err.message, /within its 3000 ms \(cloud: TIMEOUT\)/);
});
