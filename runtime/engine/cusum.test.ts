import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cusum } from './cusum.js';
import { Random } from '../../stats/random.js';

test('false alarms on pure Gaussian noise are as rare as documented (about 1 in 1300)', () => {
  const rnd = new Random(1);
  const c = new Cusum();
  let alarms = 0;
  for (let i = 0; i < 100_000; i++) if (c.update(rnd.normal()) === 'alarm') alarms++;
  assert.ok(alarms >= 30 && alarms <= 150, `${alarms} alarms in 100 000 samples`);
});

test('a shift is flagged after the documented number of samples', () => {
  const rnd = new Random(2);
  const delay = (shift: number): number => {
    const runs: number[] = [];
    for (let trial = 0; trial < 400; trial++) {
      const c = new Cusum();
      let n = 1;
      while (c.update(shift + rnd.normal()) !== 'alarm') n++;
      runs.push(n);
    }
    return runs.sort((a, b) => a - b)[runs.length / 2]!;
  };
  assert.equal(delay(6), 2);
  assert.ok(delay(2) <= 6, `2σ: ${delay(2)}`);
  assert.ok(delay(1) <= 16, `1σ: ${delay(1)}`);
});

test('one wild sample is suspect, never an alarm; the change point is counted back', () => {
  const c = new Cusum();
  assert.equal(c.update(100), 'suspect');
  assert.equal(c.update(0), 'quiet');
  const d = new Cusum();
  for (let i = 0; i < 20; i++) d.update(0);
  d.update(-5);
  assert.equal(d.update(-5), 'alarm');
  assert.equal(d.changeRun, 2);
  assert.equal(d.level, 0);
});
