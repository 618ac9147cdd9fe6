/**
 * Writes LSTM models as ONNX protobuf (IR version 8, default opset 13) from the canonical weights.
 * Graph: [Gather (embedding)] → LSTM × layers (Squeeze between them) → Squeeze → Gemm (dense head).
 * Batched (the default): input "x": float [steps, batch, featureSize], or "tokens": int32 [steps,
 * batch], plus "seq_lens": int32 [batch], every LSTM's sequence_lens, so sequences of different
 * lengths share one run and each row's result is its own sequence's; output "y": float [batch,
 * outputSize]. Fixed (`batch: 'fixed'`, the layout before batching): [steps, 1, …] in, [1, outputSize]
 * out, no seq_lens.
 */
import { ProtoWriter } from './protobuf.js';
import type { LstmModelSpec, LstmWeights } from './spec.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

/** TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

const AttributeType = { INT: 2 } as const;

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

function floatInit(name: string, dims: number[], data: Float32Array): Initializer {
  return { name, dims, dataType: OnnxDataType.FLOAT, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function int64Init(name: string, values: number[]): Initializer {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: OnnxDataType.INT64, raw: new Uint8Array(data.buffer) };
}

function tensorProto(init: Initializer): Uint8Array {
  return new ProtoWriter()
    .packedVarints(1, init.dims)
    .varint(2, init.dataType)
    .string(8, init.name)
    .bytes(9, init.raw)
    .finish();
}

/** A dimension is a fixed size or a symbolic name (dim_param). */
type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  const tensorType = new ProtoWriter().varint(1, elemType).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, name).message(2, type).finish();
}

interface NodeDef {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  intAttrs?: Record<string, number>;
}

function nodeProto(node: NodeDef): Uint8Array {
  const w = new ProtoWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name).string(4, node.op);
  for (const [key, value] of Object.entries(node.intAttrs ?? {})) {
    w.message(5, new ProtoWriter().string(1, key).varint(3, value).varint(20, AttributeType.INT).finish());
  }
  return w.finish();
}

/** Canonical gate blocks (i, f, g, o) reordered to ONNX's (i, o, f, c). */
function toOnnxGateOrder(data: Float32Array): Float32Array {
  const block = data.length / 4;
  const out = new Float32Array(data.length);
  [0, 3, 1, 2].forEach((src, dst) => out.set(data.subarray(src * block, (src + 1) * block), dst * block));
  return out;
}

/** The name of the sequence-lengths input of a batched model (the runtime recognises it by its shape). */
export const SEQ_LENS_INPUT = 'seq_lens';

export interface OnnxLayoutOptions {
  /** 'dynamic' (default): a symbolic batch dimension and a seq_lens input; 'fixed': batch 1, one input. */
  batch?: 'dynamic' | 'fixed';
}

export function buildLstmOnnx(spec: LstmModelSpec, weights: LstmWeights, options: OnnxLayoutOptions = {}): Uint8Array {
  const h = spec.hiddenSize;
  const dynamic = (options.batch ?? 'dynamic') === 'dynamic';
  const batch: Dim = dynamic ? 'batch' : 1;
  const seqLens = dynamic ? [SEQ_LENS_INPUT] : [];
  const nodes: NodeDef[] = [];
  const inits: Initializer[] = [int64Init('axes_0', [0])];
  if (weights.layers.length > 1) inits.push(int64Init('axes_1', [1]));
  let inputInfo: Uint8Array;
  let current: string;
  if (spec.inputKind === 'tokens') {
    inputInfo = valueInfo('tokens', OnnxDataType.INT32, ['steps', batch]);
    inits.push(floatInit('embedding', [spec.vocabSize ?? 0, spec.featureSize], weights.embedding ?? new Float32Array(0)));
    nodes.push({ op: 'Gather', name: 'embed', inputs: ['embedding', 'tokens'], outputs: ['embedded'] });
    current = 'embedded';
  } else {
    inputInfo = valueInfo('x', OnnxDataType.FLOAT, ['steps', batch, spec.featureSize]);
    current = 'x';
  }
  weights.layers.forEach((layer, l) => {
    const bias = new Float32Array(8 * h);
    bias.set(toOnnxGateOrder(layer.bias));
    inits.push(
      floatInit(`W${l}`, [1, 4 * h, layer.inputSize], toOnnxGateOrder(layer.kernel)),
      floatInit(`R${l}`, [1, 4 * h, h], toOnnxGateOrder(layer.recurrent)),
      floatInit(`B${l}`, [1, 8 * h], bias),
    );
    const last = l === weights.layers.length - 1;
    nodes.push({
      op: 'LSTM',
      name: `lstm${l}`,
      inputs: [current, `W${l}`, `R${l}`, `B${l}`, ...seqLens],
      outputs: last ? ['', `Yh${l}`] : [`Y${l}`],
      intAttrs: { hidden_size: h },
    });
    if (!last) {
      nodes.push({ op: 'Squeeze', name: `squeeze${l}`, inputs: [`Y${l}`, 'axes_1'], outputs: [`seq${l}`] });
      current = `seq${l}`;
    } else {
      current = `Yh${l}`;
    }
  });
  nodes.push({ op: 'Squeeze', name: 'last_state', inputs: [current, 'axes_0'], outputs: ['state'] });
  inits.push(floatInit('dense_w', [spec.outputSize, h], weights.dense), floatInit('dense_b', [spec.outputSize], weights.denseBias));
  nodes.push({ op: 'Gemm', name: 'head', inputs: ['state', 'dense_w', 'dense_b'], outputs: ['y'], intAttrs: { transB: 1 } });

  const graph = new ProtoWriter();
  for (const n of nodes) graph.message(1, nodeProto(n));
  graph.string(2, spec.name);
  for (const i of inits) graph.message(5, tensorProto(i));
  graph.message(11, inputInfo);
  if (dynamic) graph.message(11, valueInfo(SEQ_LENS_INPUT, OnnxDataType.INT32, [batch]));
  graph.message(12, valueInfo('y', OnnxDataType.FLOAT, [batch, spec.outputSize]));

  return new ProtoWriter()
    .varint(1, ONNX_IR_VERSION)
    .string(2, 'crime-k8s')
    .string(3, '0.1.0')
    .message(7, graph.finish())
    .message(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET).finish())
    .finish();
}
