/**
 * Runtime server lifecycle: listen (healthz answers at once), load the model, warm up, then ready;
 * close() stops accepting, lets queued and running inferences finish, then releases the model.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBackend, type CreateBackendOptions } from '../backends/select.js';
import { emulateProfile, type EmulatedProfile } from '../backends/emulated.js';
import { warmUp, type WarmUpOptions } from '../backends/warmup.js';
import { batchingOf, type Backend } from '../backends/types.js';
import { RUNTIME_DEFAULTS, SERVING_DEFAULTS } from '../defaults.js';
import type { ServingSettings } from '../serving-settings.js';
import type { RuntimeServing } from './protocol.js';
import { answerClientErrors } from '../http/client-errors.js';
import { isLoopbackHost } from '../http/loopback.js';
import { listenOnSocket, unixAddress } from '../http/unix-socket.js';
import { silentLogger, type Logger } from '../log.js';
import { createRuntimeApp, type RuntimeState } from './app.js';
import { RuntimeMetrics } from './metrics.js';
import { executorOf, InferenceQueue } from './queue.js';

export interface RuntimeServerOptions {
  model: CreateBackendOptions;
  maxSteps: number;
  /**
   * TCP: where to listen (default any free port on 127.0.0.1). With `socket` and neither of these
   * there is no TCP listener at all.
   */
  port?: number;
  host?: string;
  /**
   * A Unix socket to listen on (mode 0660; a stale socket file is replaced, a live one refused). In
   * a pod this is the only listener: the mapper reaches its runtime through a shared emptyDir.
   */
  socket?: string;
  /**
   * Batching and concurrent runs (default off: one request at a time, batch 1). With batching or
   * concurrency > 1, an ONNX model runs in `concurrency` worker threads (backends/onnx-pool.ts).
   */
  serving?: ServingSettings;
  /** Requests that may wait for a run (default runtimeMaxQueue(serving)); more → 503 OVERLOADED. */
  maxQueue?: number;
  bodyLimitBytes?: number;
  warmUp?: Omit<WarmUpOptions, 'maxSteps'>;
  logger?: Logger;
  /** After the queue is empty, how long responses may take to flush before connections are cut. */
  drainTimeoutMs?: number;
  /** Collect process metrics (default true; tests with several servers turn it off). */
  defaultMetrics?: boolean;
  /** Local topologies only: behave like a device with this compute profile (see backends/emulated.ts). */
  emulate?: EmulatedProfile;
}

export interface RuntimeServer {
  /** the TCP URL when listening on TCP, else the socket's `unix:/path` address */
  url: string;
  /** the TCP port; 0 without a TCP listener */
  port: number;
  /** the Unix socket path, when listening on one */
  socket?: string;
  /** every address it listens on: `unix:/path` first, then the TCP URL */
  addresses: string[];
  /** Resolves with the backend once the model is loaded and warmed up; rejects if loading fails. */
  ready: Promise<Backend>;
  queue: InferenceQueue;
  close(): Promise<void>;
}

/**
 * Requests that may wait by default: the usual 16, and room for two full batches per run slot, so
 * a batching runtime can fill its batches behind busy runs.
 */
export function runtimeMaxQueue(serving: ServingSettings): number {
  return Math.max(RUNTIME_DEFAULTS.maxQueue, 2 * serving.maxBatch * serving.concurrency);
}

/** Worker threads for the model: none (the model runs on the event loop, today's batch-1 path) unless batching or running several at once. */
export function modelWorkers(serving: ServingSettings): number {
  return serving.maxBatch > 1 || serving.concurrency > 1 ? serving.concurrency : 0;
}

function servingOf(serving: ServingSettings, maxBatch: number, capability: ReturnType<typeof batchingOf>, workers: number, backend: string): RuntimeServing {
  const note = maxBatch < serving.maxBatch ? `maxBatch ${serving.maxBatch} asked for, ${maxBatch} possible: ${capability.reason ?? `${backend} takes at most ${capability.maxBatch}`}` : undefined;
  return {
    maxBatch,
    maxDelayMs: serving.maxDelayMs,
    concurrency: serving.concurrency,
    mixedLengths: capability.mixedLengths,
    workers,
    ...(note === undefined ? {} : { note }),
  };
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const logger = options.logger ?? silentLogger;
  const state: RuntimeState = { backend: undefined, ready: false };
  const serving = options.serving ?? SERVING_DEFAULTS.off;
  const queue = new InferenceQueue({
    concurrency: serving.concurrency,
    maxBatch: serving.maxBatch,
    maxDelayMs: serving.maxDelayMs,
    maxQueue: options.maxQueue ?? runtimeMaxQueue(serving),
  });
  const metrics = new RuntimeMetrics({ defaultMetrics: options.defaultMetrics ?? true, queueDepth: () => queue.depth });
  const app = createRuntimeApp({
    state, queue, metrics, maxSteps: options.maxSteps, logger,
    ...(options.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: options.bodyLimitBytes }),
  });
  const tcp = options.socket === undefined || options.port !== undefined || options.host !== undefined;
  const servers: Server[] = [];
  const serve = (): Server => {
    const server = createServer({ keepAliveTimeout: 65_000 }, app);
    answerClientErrors(server);
    servers.push(server);
    return server;
  };
  const addresses: string[] = [];
  let port = 0;
  try {
    if (options.socket !== undefined) {
      // The same app behind a second listener: one queue, one model, two ways in.
      await listenOnSocket(serve(), options.socket);
      addresses.push(unixAddress(options.socket));
      logger.info('runtime listening', { url: unixAddress(options.socket), maxSteps: options.maxSteps, serving, maxQueue: queue.maxQueue });
    }
    if (tcp) {
      const server = serve();
      const host = options.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as AddressInfo).port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      addresses.push(url);
      logger.info('runtime listening', { url, maxSteps: options.maxSteps, serving, maxQueue: queue.maxQueue });
      if (!isLoopbackHost(host)) {
        // The runtime has no authentication of its own: only its mapper, on the same machine, should reach it.
        logger.warn('the runtime listens beyond loopback and answers anyone who reaches it; bind it to 127.0.0.1 behind its mapper', { host });
      }
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    throw err;
  }
  // The TCP URL when there is one (what callers on this machine can fetch), else the socket.
  const address = addresses[addresses.length - 1] as string;

  let closed = false;
  const ready = (async () => {
    const workers = options.model.workers ?? modelWorkers(serving);
    const loaded = await createBackend({ ...options.model, workers, logger });
    const backend = options.emulate ? emulateProfile(loaded, options.emulate) : loaded;
    state.backend = backend;
    const capability = batchingOf(backend);
    queue.attach(executorOf(backend));
    state.serving = servingOf(serving, queue.effectiveMaxBatch, capability, workers, backend.name);
    const warm = await warmUp(backend, { ...options.warmUp, maxSteps: options.maxSteps, batch: queue.effectiveMaxBatch, parallel: capability.parallelRuns });
    if (closed) throw new Error('server closed during start-up');
    state.ready = true;
    metrics.ready.set(1);
    metrics.modelLoaded(backend);
    logger.info('runtime ready', { model: backend.info.name, backend: backend.name, serving: state.serving, warmUpRuns: warm.runs, warmUpMs: Math.round(warm.ms) });
    if (state.serving.note !== undefined) logger.warn('batching off', { reason: state.serving.note });
    return backend;
  })();
  ready.catch((err: unknown) => logger.error('model load failed', { error: (err as Error).message }));

  return {
    url: address,
    port,
    ...(options.socket === undefined ? {} : { socket: options.socket }),
    addresses,
    ready,
    queue,
    close: async () => {
      if (closed) return;
      closed = true;
      state.ready = false;
      metrics.ready.set(0);
      // Stop accepting; in-flight requests finish and their connections close after the response.
      // Closing a socket listener also removes its socket file.
      const stopped = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      for (const server of servers) server.closeIdleConnections();
      await queue.idle();
      const grace = setTimeout(() => servers.forEach((server) => server.closeAllConnections()), options.drainTimeoutMs ?? 5_000);
      await stopped;
      clearTimeout(grace);
      await ready.then((b) => b.dispose(), () => undefined);
      logger.info('runtime stopped', { url: address });
    },
  };
}
