import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelUriProblem, parseModelUri } from './uri.js';

test('model URIs: what each scheme names', () => {
  assert.deepEqual(parseModelUri('https://models.example.com/a/imdb.onnx'), { kind: 'http', url: 'https://models.example.com/a/imdb.onnx' });
  assert.deepEqual(parseModelUri('http://127.0.0.1:8080/m.onnx?v=2'), { kind: 'http', url: 'http://127.0.0.1:8080/m.onnx?v=2' });
  assert.deepEqual(parseModelUri('pvc://crime-models/imdb/model.json'), { kind: 'pvc', claim: 'crime-models', path: 'imdb/model.json' });
  assert.deepEqual(parseModelUri('pvc://models.v1/a..b.onnx'), { kind: 'pvc', claim: 'models.v1', path: 'a..b.onnx' });
  assert.deepEqual(parseModelUri('file:///srv/models/imdb%201.onnx'), { kind: 'local', path: '/srv/models/imdb 1.onnx' });
  assert.deepEqual(parseModelUri('../models/imdb.onnx'), { kind: 'local', path: '../models/imdb.onnx' });
});

test('model URIs: what is refused, and why', () => {
  const refused: Array<[string, RegExp]> = [
    ['', /non-empty/],
    ['a b.onnx', /whitespace/],
    ['s3://bucket/m.onnx', /unsupported scheme/],
    ['HTTPS://example.com/m.onnx', /unsupported scheme/],
    ['https:///m.onnx', /needs a host/],
    ['pvc://Models/m.onnx', /DNS-1123/],
    ['pvc://models', /pvc:\/\/<claim>\/<path>/],
    ['pvc://models//m.onnx', /relative path/],
    ['pvc://models/../m.onnx', /"\.\." segments/],
    ['pvc://models/a/..', /"\.\." segments/],
    ['file://host/m.onnx', /absolute path/],
    [`https://example.com/${'a'.repeat(2048)}`, /at most 2048/],
  ];
  for (const [uri, why] of refused) {
    assert.match(modelUriProblem(uri) ?? 'accepted', why, uri);
    assert.throws(() => parseModelUri(uri), why, uri);
  }
});
