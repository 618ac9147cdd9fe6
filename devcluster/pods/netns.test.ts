import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natRules, podIP, serviceIP } from './netns.js';

test('a pod\'s nat table sends each Service address and port to where its proxy listens, and nothing else', () => {
  const rules = natRules([{ ip: '169.254.128.3', port: 8080, to: 41234 }, { ip: '169.254.128.4', port: 443, to: 35000 }]);
  assert.match(rules, /^\*nat\n/);
  assert.match(rules, /-A OUTPUT -d 169\.254\.128\.3\/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 169\.254\.128\.3:41234\n/);
  assert.match(rules, /-A OUTPUT -d 169\.254\.128\.4\/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 169\.254\.128\.4:35000\n/);
  assert.match(rules, /COMMIT\n$/);
  assert.equal(natRules([]).split('\n').filter((l) => l.startsWith('-A')).length, 0, 'no Services: an empty table replaces the old one');
});

test('pod and Service addresses of different slots never overlap, and skip 169.254.169.x', () => {
  const pods = new Set<string>();
  const services = new Set<string>();
  for (let slot = 0; slot < 6; slot++) {
    for (let n = 0; n < 254 * 15; n += 97) {
      pods.add(podIP(slot, n));
      services.add(serviceIP(slot, n));
    }
  }
  for (const s of services) assert.ok(!pods.has(s) && !s.startsWith('169.254.169.'), s);
});
