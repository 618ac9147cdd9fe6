/**
 * The few protocol-buffers primitives the ONNX writer and inspector need: a message writer (varint,
 * length-delimited and packed fields) and a flat field reader. Wire format only; no schema.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Builds one message; nested messages are written with `message(field, child.finish())`. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.chunks.push(bytes);
    this.length += bytes.length;
    this.scratch = [];
  }

  private pushVarint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.pushVarint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field. Negative values are written as 64-bit two's complement. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.pushVarint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.pushVarint(value.length);
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: Uint8Array): this {
    return this.bytes(field, value);
  }

  /** A packed repeated varint field (e.g. `repeated int64 dims`). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.pushVarint(v);
    return this.bytes(field, inner.finish());
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export interface ProtoField {
  field: number;
  wire: number;
  /** Set for varint fields. */
  varint?: bigint;
  /** Set for length-delimited fields (a view into the source buffer). */
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: { at: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.at >= buf.length) throw new RangeError('protobuf: truncated varint');
    const byte = buf[pos.at++] ?? 0;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 63n) throw new RangeError('protobuf: varint too long');
  }
}

/** Splits one message into its top-level fields, in order. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const key = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === WIRE_VARINT) {
      fields.push({ field, wire, varint: readVarint(buf, pos) });
    } else if (wire === WIRE_LEN) {
      const len = Number(readVarint(buf, pos));
      if (pos.at + len > buf.length) throw new RangeError('protobuf: truncated field');
      fields.push({ field, wire, bytes: buf.subarray(pos.at, pos.at + len) });
      pos.at += len;
    } else if (wire === WIRE_FIXED32 || wire === WIRE_FIXED64) {
      const len = wire === WIRE_FIXED32 ? 4 : 8;
      fields.push({ field, wire, bytes: buf.subarray(pos.at, pos.at + len) });
      pos.at += len;
    } else {
      throw new RangeError(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return fields;
}

/** Decodes a packed (or single) repeated varint field's values. */
export function readPackedVarints(fields: readonly ProtoField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.varint !== undefined) out.push(f.varint);
    else if (f.bytes) {
      const pos = { at: 0 };
      while (pos.at < f.bytes.length) out.push(readVarint(f.bytes, pos));
    }
  }
  return out;
}

export function readString(f: ProtoField | undefined): string | undefined {
  return f?.bytes ? new TextDecoder().decode(f.bytes) : undefined;
}
