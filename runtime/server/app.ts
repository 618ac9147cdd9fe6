/**
 * The runtime's express app: thin handlers over decode → queue → backend → encode. Only its own mapper
 * calls it. Errors go through http/error-handler.ts; nothing a request does can crash the process.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Backend, Clock, ModelInput } from '../backends/types.js';
import { defaultClock } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { assertUtf8, header } from '../http/body.js';
import { errorHandler, toHttpError } from '../http/error-handler.js';
import { unmatchedRoute, type RouteTable } from '../http/routes.js';
import type { Logger } from '../log.js';
import { decodeBinary, decodeJson } from './decode.js';
import type { RuntimeMetrics } from './metrics.js';
import { BINARY_TYPE, HEADERS, PATHS, type InferResponseBody, type RuntimeModelInfo, type RuntimeServing } from './protocol.js';
import type { InferenceQueue } from './queue.js';
import { RUNTIME_DEFAULTS } from '../defaults.js';

/** Mutable server state: the backend appears once loaded (with how it serves); ready once warmed up. */
export interface RuntimeState {
  backend: Backend | undefined;
  serving?: RuntimeServing;
  ready: boolean;
}

export interface RuntimeAppOptions {
  state: RuntimeState;
  queue: InferenceQueue;
  metrics: RuntimeMetrics;
  maxSteps: number;
  /** Largest accepted request body (JSON or binary); larger → 413 PAYLOAD_TOO_LARGE. Default 32 MiB. */
  bodyLimitBytes?: number;
  logger: Logger;
  clock?: Clock;
}

const ROUTES: RouteTable = {
  [PATHS.healthz]: ['GET'],
  [PATHS.readyz]: ['GET'],
  [PATHS.model]: ['GET'],
  [PATHS.metrics]: ['GET'],
  [PATHS.infer]: ['POST'],
};

function readyBackend(state: RuntimeState): Backend {
  if (!state.ready || state.backend === undefined) throw new CrimeError('NOT_READY', 'the model is still loading', { retryAfterSec: 1 });
  return state.backend;
}


export function modelInfoOf(backend: Backend, maxSteps: number, serving?: RuntimeServing): RuntimeModelInfo {
  return { ...backend.info, backend: backend.name, maxSteps, ...(serving ? { serving } : {}) };
}

export function createRuntimeApp(options: RuntimeAppOptions): express.Express {
  const { state, queue, metrics, maxSteps, logger } = options;
  const clock = options.clock ?? defaultClock;
  const limit = options.bodyLimitBytes ?? RUNTIME_DEFAULTS.maxBodyBytes;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get(PATHS.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(PATHS.readyz, (_req, res) => {
    readyBackend(state);
    res.json({ status: 'ready' });
  });
  app.get(PATHS.model, (_req, res) => {
    res.json(modelInfoOf(readyBackend(state), maxSteps, state.serving));
  });
  app.get(PATHS.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const json = express.json({ limit, type: 'application/json', strict: false });
  const raw = express.raw({ limit, type: BINARY_TYPE });
  app.post(PATHS.infer, (req, res, next) => {
    if (req.is('application/json')) {
      assertUtf8(req);
      json(req, res, next);
    }
    else if (req.is(BINARY_TYPE)) raw(req, res, next);
    else next(new CrimeError('UNSUPPORTED_MEDIA_TYPE', `POST ${PATHS.infer} takes application/json or ${BINARY_TYPE}`));
  }, async (req: Request, res: Response) => {
    const received = clock();
    const binary = req.is(BINARY_TYPE) !== false;
    const requestId = header(req, HEADERS.requestId);
    const backend = readyBackend(state);
    const input: ModelInput = binary
      ? decodeBinary(req.body as Buffer, { shape: header(req, HEADERS.shape), dtype: header(req, HEADERS.dtype) }, backend.info, maxSteps)
      : decodeJson(req.body, backend.info, maxSteps);
    const budgetMs = Number(header(req, HEADERS.deadline));
    const deadline = Number.isFinite(budgetMs) && budgetMs > 0 ? received + budgetMs : undefined;
    const result = await queue.submit(input, deadline === undefined ? {} : { deadline });
    const { queueMs, batch } = result;
    metrics.computeSeconds.observe(result.computeMs / 1000);
    metrics.queueSeconds.observe(queueMs / 1000);
    metrics.batchSize.observe(batch.size);
    metrics.steps.inc(input.steps);
    metrics.requests.inc({ outcome: 'ok', encoding: binary ? 'binary' : 'json' });
    res.setHeader(HEADERS.computeMs, result.computeMs.toFixed(3));
    res.setHeader(HEADERS.queueMs, queueMs.toFixed(3));
    res.setHeader(HEADERS.batchSize, String(batch.size));
    res.setHeader(HEADERS.batchSteps, String(batch.steps));
    if (requestId !== undefined) res.setHeader(HEADERS.requestId, requestId);
    logger.debug('inference done', { requestId, n: input.steps, computeMs: result.computeMs, queueMs, batch: batch.size });
    if (req.accepts(['application/json', BINARY_TYPE]) === BINARY_TYPE) {
      const { outputs } = result;
      res.setHeader(HEADERS.shape, String(outputs.length));
      res.setHeader(HEADERS.remoteMs, (clock() - received).toFixed(3));
      res.type(BINARY_TYPE).send(Buffer.from(outputs.buffer, outputs.byteOffset, outputs.byteLength));
      return;
    }
    const body: InferResponseBody = { outputs: Array.from(result.outputs), computeMs: result.computeMs, queueMs, batch };
    res.setHeader(HEADERS.remoteMs, (clock() - received).toFixed(3));
    res.json(body);
  });
  // Every failed inference request, wherever it failed (body parsing, decoding, queue, backend), is counted once.
  app.use(PATHS.infer, (err: unknown, req: Request, _res: Response, next: NextFunction) => {
    metrics.requests.inc({ outcome: toHttpError(err).code, encoding: req.is(BINARY_TYPE) ? 'binary' : 'json' });
    next(err);
  });

  app.use(unmatchedRoute(ROUTES));
  app.use(errorHandler(logger));
  return app;
}
