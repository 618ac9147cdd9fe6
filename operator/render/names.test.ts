import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childNames, dnsLabel, labelValue } from './names.js';

test('names that fit are kept; others become valid, distinct labels', () => {
  assert.equal(dnsLabel('imdb-gateway'), 'imdb-gateway');
  const dotted = dnsLabel('team.a-gateway');
  assert.match(dotted, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  assert.notEqual(dotted, dnsLabel('team-a-gateway'));
  const long = 'x'.repeat(100);
  assert.ok(dnsLabel(`${long}-a`).length <= 63);
  assert.notEqual(dnsLabel(`${long}-a`), dnsLabel(`${long}-b`));
  assert.match(dnsLabel('9lives-edge'), /^[a-z]/);
  assert.ok(labelValue('y'.repeat(200)).length <= 63);
  assert.equal(childNames('imdb').service('cloud'), 'imdb-cloud');
});
