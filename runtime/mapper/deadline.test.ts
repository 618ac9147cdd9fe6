import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOP_TIMEOUT } from '../defaults.js';
import { budgetOf, planAttempt } from './deadline.js';

test('an attempt may take a multiple of its estimate, at least a slack more, within the budget', () => {
  // 100 ms estimate, a 60 ms local fallback, 5 s left: the estimate rules.
  const long = planAttempt({ remainingMs: 5000, estimateMs: 100, networkMs: 30, laterMs: [60] });
  assert.equal(long?.timeoutMs, Math.max(HOP_TIMEOUT.factor * 100, 100 + HOP_TIMEOUT.slackMs));
  assert.equal(long?.calleeBudgetMs, long!.timeoutMs - 30 - HOP_TIMEOUT.answerMarginMs);
  const big = planAttempt({ remainingMs: 5000, estimateMs: 1000, networkMs: 0, laterMs: [60] });
  assert.equal(big?.timeoutMs, 3000);
});

test('the cheapest fallback keeps its room: the attempt is cut short, down to a share of the time left', () => {
  const reserve = 100 * HOP_TIMEOUT.reserveFactor + HOP_TIMEOUT.reserveSlackMs;
  const cut = planAttempt({ remainingMs: 800, estimateMs: 50, networkMs: 10, laterMs: [900, 100] });
  assert.equal(cut?.timeoutMs, 800 - reserve);
  // A fallback too slow to keep room for does not starve the attempt: it gets its share.
  const share = planAttempt({ remainingMs: 1000, estimateMs: 50, networkMs: 10, laterMs: [400] });
  assert.equal(share?.timeoutMs, 1000 * HOP_TIMEOUT.minShare);
  // An attempt estimated beyond its share is skipped.
  assert.equal(planAttempt({ remainingMs: 1000, estimateMs: 600, networkMs: 10, laterMs: [400] }), undefined);
});

test('the last candidate gets what is left; nothing is tried once the deadline passed', () => {
  assert.deepEqual(planAttempt({ remainingMs: 700, estimateMs: 50, networkMs: 0, laterMs: [] }), { timeoutMs: 700, calleeBudgetMs: 700 - HOP_TIMEOUT.answerMarginMs });
  assert.equal(planAttempt({ remainingMs: 0, estimateMs: 1, networkMs: 0, laterMs: [] }), undefined);
  assert.equal(planAttempt({ remainingMs: 30, estimateMs: 1, networkMs: 25, laterMs: [] })?.calleeBudgetMs, 1);
});

test('a caller may shorten the budget, never extend it; nonsense is ignored', () => {
  assert.equal(budgetOf(undefined, 5000), 5000);
  assert.equal(budgetOf('1200', 5000), 1200);
  assert.equal(budgetOf('9e9', 5000), 5000);
  for (const bad of ['', 'soon', '-5', '0', 'Infinity']) assert.equal(budgetOf(bad, 5000), 5000, bad);
});
