/**
 * The mapper's HTTP surface: thin handlers around the pipeline. Decoding and error mapping are the
 * runtime's (one place for both). POST /v1/infer, the hot path, is in infer-handler.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CrimeError } from '../errors.js';
import { header } from '../http/body.js';
import { errorHandler } from '../http/error-handler.js';
import type { Logger } from '../log.js';
import { authorized } from './auth.js';
import { createInferHandler } from './infer-handler.js';
import type { MapperMetrics } from './metrics.js';
import { MAPPER_HEADERS, MAPPER_PATHS, type PingResponse } from './protocol.js';
import { readyState, type MapperState } from './state.js';

export interface MapperAppOptions {
  state: () => MapperState;
  metrics: MapperMetrics;
  logger: Logger;
  bodyLimitBytes: number;
}

/** The mapper's request handler: POST /v1/infer on plain node:http, every other route on express. */
export function createMapperApp(options: MapperAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  /** Pings are between mappers: they need the token when one is configured. */
  const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
    if (!authorized(options.state(), true, header(req, 'authorization'))) {
      next(new CrimeError('UNAUTHORIZED', 'requests between mappers need the topology\'s bearer token'));
      return;
    }
    next();
  };

  app.get(MAPPER_PATHS.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(MAPPER_PATHS.readyz, (_req, res) => {
    readyState(options.state());
    res.json({ status: 'ready' });
  });
  app.get(MAPPER_PATHS.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get(MAPPER_PATHS.model, (_req, res) => {
    const state = options.state();
    const { model, pipeline } = readyState(state);
    res.json({ ...model, maxSteps: state.maxSteps, device: state.device, neighbours: pipeline.engine.neighbourNames });
  });

  const raw = express.raw({ limit: options.bodyLimitBytes, type: () => true });
  const ping = (_req: Request, res: Response): void => {
    const started = performance.now();
    const state = options.state();
    const { pipeline } = readyState(state);
    const body: PingResponse = { device: state.device, advertisement: pipeline.engine.advertise() };
    res.setHeader(MAPPER_HEADERS.remoteMs, (performance.now() - started).toFixed(3));
    res.json(body);
  };
  app.get(MAPPER_PATHS.ping, authenticate, ping);
  app.post(MAPPER_PATHS.ping, authenticate, raw, ping);

  app.use((req, _res, next) => next(new CrimeError('NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  const infer = createInferHandler(options);
  return (req, res) => {
    if (req.method === 'POST' && (req.url === MAPPER_PATHS.infer || req.url?.startsWith(`${MAPPER_PATHS.infer}?`))) infer(req, res);
    else app(req, res);
  };
}
