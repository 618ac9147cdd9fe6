/**
 * Turns a request body into a checked ModelInput: JSON `{"inputs": [[…featureSize floats] × n]}` or
 * `{"tokens": [ids × n]}`, or binary little-endian float32/int32 with the shape in `crime-shape`.
 */
import { checkInput } from '../backends/input.js';
import type { ModelInfo, ModelInput } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { HEADERS } from './protocol.js';


function invalid(message: string): CrimeError {
  return new CrimeError('INVALID_INPUT', message);
}

function assertSteps(steps: number, maxSteps: number): void {
  if (steps === 0) throw invalid('the sequence is empty');
  if (steps > maxSteps) throw new CrimeError('INPUT_TOO_LONG', `the sequence has ${steps} steps; this model accepts at most ${maxSteps}`);
}

/**
 * Bytes one number may take in a JSON body: 17 significant digits, sign, point and exponent
 * ("-1.2345678901234567e-300") with a separator and pretty-printing room to spare.
 */
const JSON_BYTES_PER_NUMBER = 48;
/** Room for the object around the numbers and for whitespace between rows. */
const JSON_SLACK_BYTES = 64 * 1024;

/**
 * The largest body a valid request for this model can take: maxSteps steps of the model's width,
 * exactly for binary, generously for JSON. A larger body cannot decode into a valid input, so it
 * can be refused before it is read (and before it takes memory).
 */
export function largestBody(info: ModelInfo, maxSteps: number, binary: boolean): number {
  const numbers = maxSteps * (info.inputKind === 'tokens' ? 1 : info.featureSize);
  return binary ? numbers * 4 : numbers * JSON_BYTES_PER_NUMBER + JSON_SLACK_BYTES;
}

export function decodeJson(body: unknown, info: ModelInfo, maxSteps: number): ModelInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body must be a JSON object with "inputs" or "tokens"');
  }
  const { inputs, tokens } = body as { inputs?: unknown; tokens?: unknown };
  if (info.inputKind === 'tokens') {
    if (!Array.isArray(tokens)) throw invalid(`model "${info.name}" takes {"tokens": [ids]}`);
    assertSteps(tokens.length, maxSteps);
    // Checked before the store: an Int32Array wraps 2^32 + 5 to 5 and 1e300 to 0 silently.
    const limit = info.vocabSize ?? 2 ** 31;
    const data = new Int32Array(tokens.length);
    tokens.forEach((id: unknown, k) => {
      if (typeof id !== 'number' || !Number.isInteger(id)) throw invalid(`token ${k} is not an integer`);
      if (id < 0 || id >= limit) throw invalid(`token ${k} (${id}) is outside [0, ${limit})`);
      data[k] = id;
    });
    const input: ModelInput = { kind: 'tokens', data, steps: tokens.length };
    checkInput(info, input, maxSteps);
    return input;
  }
  if (!Array.isArray(inputs)) throw invalid(`model "${info.name}" takes {"inputs": [[${info.featureSize} floats] per step]}`);
  assertSteps(inputs.length, maxSteps);
  const width = info.featureSize;
  const data = new Float32Array(inputs.length * width);
  inputs.forEach((row: unknown, t) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw invalid(`step ${t} must be an array of ${width} numbers, got ${Array.isArray(row) ? `${row.length}` : typeof row}`);
    }
    for (let j = 0; j < width; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`step ${t}, feature ${j} is not a finite number`);
      data[t * width + j] = v;
    }
  });
  return { kind: 'floats', data, steps: inputs.length };
}

function parseShape(header: string | undefined): number[] {
  if (header === undefined || header.trim() === '') throw invalid(`binary bodies need a ${HEADERS.shape} header ("n,featureSize" or "n")`);
  const dims = header.split(',').map((d) => Number(d.trim()));
  if (dims.length > 2 || dims.some((d) => !Number.isInteger(d) || d < 0)) throw invalid(`malformed ${HEADERS.shape} header "${header}"`);
  return dims;
}

/** Little-endian bytes (any alignment) → a fresh, aligned typed array. */
function copyAligned(bytes: Uint8Array, count: number): ArrayBuffer {
  const out = new ArrayBuffer(count * 4);
  new Uint8Array(out).set(bytes.subarray(0, count * 4));
  return out;
}

export function decodeBinary(
  body: Uint8Array, headers: { shape?: string; dtype?: string }, info: ModelInfo, maxSteps: number,
): ModelInput {
  const dims = parseShape(headers.shape);
  const steps = dims[0] ?? 0;
  assertSteps(steps, maxSteps);
  const dtype = headers.dtype ?? (info.inputKind === 'tokens' ? 'int32' : 'float32');
  const expectedDtype = info.inputKind === 'tokens' ? 'int32' : 'float32';
  if (dtype !== expectedDtype) throw invalid(`model "${info.name}" takes ${expectedDtype} ${info.inputKind}, got ${dtype}`);
  const width = info.inputKind === 'tokens' ? 1 : info.featureSize;
  const declaredWidth = dims[1] ?? width;
  if (declaredWidth !== width) throw invalid(`expected ${width} features per step, got ${declaredWidth}`);
  const count = steps * width;
  if (body.length !== count * 4) throw invalid(`body has ${body.length} bytes; shape ${dims.join(',')} needs ${count * 4}`);
  const input: ModelInput = info.inputKind === 'tokens'
    ? { kind: 'tokens', data: new Int32Array(copyAligned(body, count)), steps }
    : { kind: 'floats', data: new Float32Array(copyAligned(body, count)), steps };
  checkInput(info, input, maxSteps);
  return input;
}
