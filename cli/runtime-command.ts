import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { applyEmulationLine, parseProfile, type EmulatedProfile } from '../runtime/backends/emulated.js';
import { UsageError } from '../runtime/errors.js';
import type { Command } from './command.js';
import { choice, intOption, required, serveUntilSignal, servingOption } from './options.js';
import { reportingFailure, terminationLog } from './termination-log.js';
import { MODEL_DEFAULTS, RUNTIME_DEFAULTS, SERVING_DEFAULTS } from '../runtime/defaults.js';

function profileOption(value: string): ReturnType<typeof parseProfile> {
  try {
    return parseProfile(value);
  } catch (err) {
    throw new UsageError(`--emulate: ${(err as Error).message}`);
  }
}

const usage = `Usage: crime runtime --model PATH|URL [options]

Serves one RNN model over HTTP for its mapper (POST /v1/infer, GET /v1/model, /healthz, /readyz,
/metrics), on TCP or on a Unix socket or both. Prints "listening unix:PATH" and/or
"listening http://HOST:PORT" once the model is loaded and warmed up; SIGTERM or SIGINT drains
in-flight requests and exits.

Options:
  --model PATH|URL     .onnx file, or a tfjs model.json (weight shards beside it); http(s) URLs work
  --format F           onnx | tfjs (default: from the extension)
  --backend B          auto | onnx-cpu | onnx-cuda | tfjs-node-gpu | tfjs-node | tfjs-wasm | tfjs-cpu (default auto)
  --name NAME          model name reported by GET /v1/model (default: file name)
  --port N             port (default 8081; 0 picks a free one)
  --host H             address to bind (default 127.0.0.1)
  --socket PATH        listen on this Unix socket (mode 0660; a stale socket file is replaced, a live
                       one refused). Alone it is the only listener: no TCP unless --port or --host
                       is given too
  --max-steps N        longest accepted sequence (default 2000); longer → 413 INPUT_TOO_LONG
  --max-batch N        most requests in one run, 1 to 1024 (default 1: no batching). Requests of
                       similar length (within 25 %) that wait together run as one batch, where the
                       model has a dynamic batch dimension (crime model generate writes one)
  --max-delay-ms MS    longest a request is held for companions while a run could start, 0 to 1000
                       (default 0: never; batches then form only behind busy runs)
  --concurrency N      runs at once, 1 to 64 (default 1). With batching or N > 1 an ONNX model runs
                       in N worker threads, off the event loop
  --queue N            requests that may wait (default max(16, 2 × max-batch × concurrency));
                       more → 503 OVERLOADED + Retry-After
  --threads N          onnxruntime intra-op threads per run (default 1)
  --body-limit BYTES   largest request body (default 33554432); larger → 413 PAYLOAD_TOO_LARGE
  --log-level L        error | warn | info | debug (default info); JSON logs go to stderr
  --termination-log F  where the reason goes when the model cannot be loaded ("CODE: message", e.g.
                       BACKEND_UNAVAILABLE: ... when the CUDA provider cannot load); default
                       /dev/termination-log when it exists and is writable (a pod); "" for none
  --emulate MS,FIXED   local topologies only: behave like a device computing in MS per step + FIXED ms
                       (each inference runs for real, then holds its slot until that time);
                       default: the CRIME_EMULATE environment variable. Lines "slowdown K" on stdin
                       multiply the emulated time by K from then on (1 restores it)
`;

export const runtimeCommand: Command = {
  name: 'runtime',
  summary: 'serve one RNN model over HTTP (the inference runtime)',
  usage,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' }, format: { type: 'string' }, backend: { type: 'string' }, name: { type: 'string' },
        port: { type: 'string' }, host: { type: 'string' }, 'max-steps': { type: 'string' }, queue: { type: 'string' },
        concurrency: { type: 'string' }, 'max-batch': { type: 'string' }, 'max-delay-ms': { type: 'string' }, threads: { type: 'string' }, 'body-limit': { type: 'string' }, 'log-level': { type: 'string' },
        emulate: { type: 'string' }, socket: { type: 'string' }, 'termination-log': { type: 'string' },
      },
      strict: true,
    });
    const location = required(values.model, 'model');
    // The environment can set it too: the dev cluster's nodes give their pods a speed this way.
    const emulate = values.emulate ?? (process.env.CRIME_EMULATE || undefined);
    const serving = servingOption(values, SERVING_DEFAULTS.off);
    const profile = emulate === undefined ? undefined : profileOption(emulate);
    // An emulated device can be slowed down while it runs, by whoever holds its stdin (crime up).
    const control = profile === undefined ? undefined : createInterface({ input: process.stdin });
    control?.on('line', (line) => {
      const problem = applyEmulationLine(profile as EmulatedProfile, line);
      if (problem !== undefined) io.stderr.write(`ignored on stdin: ${problem}\n`);
    });
    const [{ BACKEND_NAMES }, { createLogger }, { startRuntimeServer, runtimeMaxQueue }] = await Promise.all([
      import('../runtime/backends/types.js'), import('../runtime/log.js'), import('../runtime/server/server.js'),
    ]);
    const options = {
      model: {
        location,
        ...(values.format === undefined ? {} : { format: choice(values.format, 'format', ['onnx', 'tfjs'] as const, 'onnx') }),
        backend: choice(values.backend, 'backend', BACKEND_NAMES, 'auto'),
        ...(values.name === undefined ? {} : { name: values.name }),
        threads: intOption(values.threads, 'threads', 1, 1),
      },
      // --socket alone: the socket is the only listener; --port or --host adds TCP.
      ...(values.socket === undefined || values.port !== undefined || values.host !== undefined
        ? { port: intOption(values.port, 'port', RUNTIME_DEFAULTS.port, 0), host: values.host ?? '127.0.0.1' }
        : {}),
      ...(values.socket === undefined ? {} : { socket: values.socket }),
      maxSteps: intOption(values['max-steps'], 'max-steps', MODEL_DEFAULTS.maxSteps, 1),
      maxQueue: intOption(values.queue, 'queue', runtimeMaxQueue(serving), 0),
      serving,
      bodyLimitBytes: intOption(values['body-limit'], 'body-limit', RUNTIME_DEFAULTS.maxBodyBytes, 1024),
      ...(profile === undefined ? {} : { emulate: profile }),
      logger: createLogger({
        service: 'runtime', stream: io.stderr,
        level: choice(values['log-level'], 'log-level', ['error', 'warn', 'info', 'debug'] as const, 'info'),
      }),
    };
    // In a pod, a model or backend that cannot load ends the container: the reason goes where the
    // pod's status shows it, and from there the topology's (a GPU device without a working CUDA).
    try {
      return await reportingFailure(terminationLog(values['termination-log']), io, 'crime runtime', () => serveUntilSignal(io, () => startRuntimeServer(options)), true);
    } finally {
      control?.close();
    }
  },
};
