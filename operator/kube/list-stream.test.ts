import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ListSplitter } from './list-stream.js';

function split(text: string, cuts: number[]): { items: unknown[]; envelope: unknown } {
  const items: unknown[] = [];
  const s = new ListSplitter((json) => items.push(JSON.parse(json)));
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    s.write(text.slice(at, cut));
    at = cut;
  }
  s.write(text.slice(at));
  return { items, envelope: JSON.parse(s.end()) };
}

const tricky = [
  { metadata: { name: 'a', annotations: { x: '{"items":[1,2]}', y: 'a "quoted" ] } [ {', z: 'back\\slash\\' } }, spec: { list: [[], [{}], { '': [] }] } },
  { metadata: { name: 'ü-é-漢字-😀' }, data: { 'f.yaml': 'items: [\n  - a\n]\n' } },
  { metadata: { name: 'c' }, n: [1, -2.5e3, true, false, null] },
];

describe('ListSplitter', () => {
  it('hands on every item and keeps the envelope with "items":[] (compact JSON, as the API server writes it)', () => {
    const list = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '42', continue: 'abc"}' }, items: tricky };
    const { items, envelope } = split(JSON.stringify(list), []);
    assert.deepEqual(items, tricky);
    assert.deepEqual(envelope, { ...list, items: [] });
  });

  it('gives the same answer however the text is cut into chunks, whitespace and key order included', () => {
    const lists = [
      JSON.stringify({ kind: 'L', metadata: { resourceVersion: '1' }, items: tricky }),
      JSON.stringify({ items: tricky, metadata: { resourceVersion: '2', continue: 'x' }, kind: 'L' }, null, 2),
      JSON.stringify({ kind: 'L', metadata: {}, items: [] }),
      JSON.stringify({ kind: 'Status', status: 'Failure', details: { causes: [{ field: 'items' }] } }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...lists), fc.array(fc.nat(), { maxLength: 30 }), (text, raw) => {
        const cuts = raw.map((n) => n % (text.length + 1));
        const parsed = JSON.parse(text) as { items?: unknown[] };
        const { items, envelope } = split(text, cuts);
        assert.deepEqual(items, parsed.items ?? []);
        assert.deepEqual(envelope, parsed.items ? { ...parsed, items: [] } : parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('cut one character at a time', () => {
    const text = JSON.stringify({ kind: 'L', metadata: { resourceVersion: '9' }, items: tricky });
    const { items, envelope } = split(text, Array.from({ length: text.length }, (_, i) => i));
    assert.deepEqual(items, tricky);
    assert.deepEqual(envelope, { kind: 'L', metadata: { resourceVersion: '9' }, items: [] });
  });
});
