import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TOPOLOGY_LIMITS, TOPOLOGY_PATTERNS } from '../../runtime/topology/topology.js';
import { childNames, labelValue } from './names.js';

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

test('topology a-b device c and topology a device b-c get different children (they shared a-b-c)', () => {
  assert.equal(childNames('a-b').service('c'), 'a-b--c');
  assert.equal(childNames('a').service('b-c'), 'a--b-c');
  assert.equal(childNames('imdb').deployment('cloud'), 'imdb--cloud');
  assert.equal(childNames('imdb').configMap, 'imdb-mappers');
  assert.equal(childNames('imdb').secret, 'imdb-token');
  assert.ok(labelValue('y'.repeat(200)).length <= 63);
});

/** Names the parser accepts, from a small alphabet so that near-collisions come up often. */
const topologyName = fc.stringMatching(/^[ab][ab-]{0,12}$/).filter((s) => new RegExp(TOPOLOGY_PATTERNS.topologyName).test(s));
const deviceName = fc.stringMatching(/^[ab0-9][ab0-9-]{0,12}$/).filter((s) => new RegExp(TOPOLOGY_PATTERNS.deviceName).test(s));

test('every (topology, device) pair the parser accepts has a name of its own: a DNS label of at most 63 characters', () => {
  fc.assert(
    fc.property(fc.tuple(topologyName, deviceName), fc.tuple(topologyName, deviceName), ([t1, d1], [t2, d2]) => {
      const n1 = childNames(t1).service(d1);
      const n2 = childNames(t2).service(d2);
      if (t1 !== t2 || d1 !== d2) assert.notEqual(n1, n2, `${t1}/${d1} and ${t2}/${d2}`);
      assert.match(n1, DNS_1035);
    }),
    { numRuns: 5000 },
  );
  // The longest names the parser lets through still fit.
  const t = `a${'b'.repeat(TOPOLOGY_LIMITS.childName - 2 - TOPOLOGY_LIMITS.deviceName - 1)}`;
  const longest = childNames(t).service('d'.repeat(TOPOLOGY_LIMITS.deviceName));
  assert.equal(longest.length, TOPOLOGY_LIMITS.childName);
  assert.match(longest, DNS_1035);
});
