/**
 * Runtime server lifecycle: listen (healthz answers at once), load the model, warm up, then ready;
 * close() stops accepting, lets queued and running inferences finish, then releases the model.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBackend, type CreateBackendOptions } from '../backends/select.js';
import { emulateProfile, type EmulatedProfile } from '../backends/emulated.js';
import { warmUp, type WarmUpOptions } from '../backends/warmup.js';
import type { Backend } from '../backends/types.js';
import { answerClientErrors } from '../http/client-errors.js';
import { isLoopbackHost } from '../http/loopback.js';
import { silentLogger, type Logger } from '../log.js';
import { createRuntimeApp, type RuntimeState } from './app.js';
import { RuntimeMetrics } from './metrics.js';
import { InferenceQueue } from './queue.js';

export interface RuntimeServerOptions {
  model: CreateBackendOptions;
  maxSteps: number;
  port?: number;
  host?: string;
  /** Inferences run at once (default 1). */
  concurrency?: number;
  /** Requests that may wait for a slot (default 16); more → 503 OVERLOADED. */
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
  url: string;
  port: number;
  /** Resolves with the backend once the model is loaded and warmed up; rejects if loading fails. */
  ready: Promise<Backend>;
  queue: InferenceQueue;
  close(): Promise<void>;
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const logger = options.logger ?? silentLogger;
  const state: RuntimeState = { backend: undefined, ready: false };
  const queue = new InferenceQueue({
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
  });
  const metrics = new RuntimeMetrics({ defaultMetrics: options.defaultMetrics ?? true, queueDepth: () => queue.depth });
  const app = createRuntimeApp({
    state, queue, metrics, maxSteps: options.maxSteps, logger,
    ...(options.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: options.bodyLimitBytes }),
  });
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, app);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('runtime listening', { url, maxSteps: options.maxSteps, concurrency: queue.concurrency, maxQueue: queue.maxQueue });
  if (!isLoopbackHost(host)) {
    // The runtime has no authentication of its own: only its mapper, on the same machine, should reach it.
    logger.warn('the runtime listens beyond loopback and answers anyone who reaches it; bind it to 127.0.0.1 behind its mapper', { host });
  }

  let closed = false;
  const ready = (async () => {
    const loaded = await createBackend({ ...options.model, logger });
    const backend = options.emulate ? emulateProfile(loaded, options.emulate) : loaded;
    state.backend = backend;
    const warm = await warmUp(backend, { ...options.warmUp, maxSteps: options.maxSteps });
    if (closed) throw new Error('server closed during start-up');
    state.ready = true;
    metrics.ready.set(1);
    metrics.modelLoaded(backend);
    logger.info('runtime ready', { model: backend.info.name, backend: backend.name, warmUpRuns: warm.runs, warmUpMs: Math.round(warm.ms) });
    return backend;
  })();
  ready.catch((err: unknown) => logger.error('model load failed', { error: (err as Error).message }));

  return {
    url,
    port,
    ready,
    queue,
    close: async () => {
      if (closed) return;
      closed = true;
      state.ready = false;
      metrics.ready.set(0);
      // Stop accepting; in-flight requests finish and their connections close after the response.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await queue.idle();
      const grace = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 5_000);
      await stopped;
      clearTimeout(grace);
      await ready.then((b) => b.dispose(), () => undefined);
      logger.info('runtime stopped', { url });
    },
  };
}
