import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtoWriter, readFields, readPackedVarints, readString } from './protobuf.js';

test('varints, strings, packed fields and nested messages round-trip', () => {
  const inner = new ProtoWriter().string(1, 'héllo').finish();
  const buf = new ProtoWriter()
    .varint(1, 0)
    .varint(2, 300)
    .varint(3, 2n ** 40n)
    .varint(4, -1)
    .packedVarints(5, [1, 128, 16384])
    .message(6, inner)
    .float(7, 1.5)
    .finish();
  const fields = readFields(buf);
  assert.deepEqual(fields.slice(0, 4).map((f) => f.varint), [0n, 300n, 2n ** 40n, 2n ** 64n - 1n]);
  assert.deepEqual(readPackedVarints(fields, 5), [1n, 128n, 16384n]);
  const nested = fields.find((f) => f.field === 6);
  assert.equal(readString(readFields(nested?.bytes ?? new Uint8Array())[0]), 'héllo');
  const f7 = fields.find((f) => f.field === 7)?.bytes ?? new Uint8Array(4);
  assert.equal(new DataView(f7.buffer, f7.byteOffset, 4).getFloat32(0, true), 1.5);
});

test('truncated input is rejected', () => {
  const buf = new ProtoWriter().string(1, 'abcdef').finish();
  assert.throws(() => readFields(buf.subarray(0, 4)), /truncated/);
});
