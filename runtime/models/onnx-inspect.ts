/**
 * Reads what onnxruntime's metadata does not tell about an ONNX model: its opset and the size of an
 * embedding table that a graph input indexes (the vocabulary, so token ids can be checked up front).
 */
import { readFields, readPackedVarints, readString, type ProtoField } from './protobuf.js';

export interface OnnxSummary {
  irVersion: number;
  opset: number | undefined;
  graphName: string | undefined;
  /** Rows of the table gathered by a graph input, by input name. */
  gatheredTableRows: Map<string, number>;
}

function children(fields: readonly ProtoField[], field: number): ProtoField[][] {
  return fields.filter((f) => f.field === field && f.bytes).map((f) => readFields(f.bytes ?? new Uint8Array(0)));
}

function stringsOf(fields: readonly ProtoField[], field: number): string[] {
  return fields.filter((f) => f.field === field).map((f) => readString(f) ?? '');
}

export function inspectOnnx(model: Uint8Array): OnnxSummary {
  const top = readFields(model);
  const irVersion = Number(top.find((f) => f.field === 1)?.varint ?? 0n);
  const opsets = children(top, 8).filter((o) => (readString(o.find((f) => f.field === 1)) ?? '') === '');
  const opsetVersion = opsets[0]?.find((f) => f.field === 2)?.varint;
  const graph = children(top, 7)[0] ?? [];
  const inputNames = new Set(children(graph, 11).map((vi) => readString(vi.find((f) => f.field === 1)) ?? ''));
  const initDims = new Map<string, bigint[]>();
  for (const t of children(graph, 5)) {
    initDims.set(readString(t.find((f) => f.field === 8)) ?? '', readPackedVarints(t, 1));
  }
  const gatheredTableRows = new Map<string, number>();
  for (const node of children(graph, 1)) {
    if (readString(node.find((f) => f.field === 4)) !== 'Gather') continue;
    const [table, indices] = stringsOf(node, 1);
    const rows = initDims.get(table ?? '')?.[0];
    if (indices !== undefined && inputNames.has(indices) && rows !== undefined) gatheredTableRows.set(indices, Number(rows));
  }
  return {
    irVersion,
    opset: opsetVersion === undefined ? undefined : Number(opsetVersion),
    graphName: readString(graph.find((f) => f.field === 2)),
    gatheredTableRows,
  };
}
