/**
 * The mapper's HTTP surface: thin handlers around the pipeline. Decoding and error mapping are the
 * runtime's (one place for both). POST /v1/infer, the hot path, is in infer-handler.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CrimeError } from '../errors.js';
import { header } from '../http/body.js';
import { errorHandler } from '../http/error-handler.js';
import { unmatchedRoute, type RouteTable } from '../http/routes.js';
import type { Logger } from '../log.js';
import { authenticate } from './auth.js';
import { createInferHandler } from './infer-handler.js';
import type { MapperMetrics } from './metrics.js';
import { MAPPER_HEADERS, MAPPER_PATHS, type PingResponse } from './protocol.js';
import { readyState, type MapperState } from './state.js';
import type { LiveView } from './ui/live-view.js';
import { UI_PATHS, uiRoutes } from './ui/routes.js';
import type { LiveStreams } from './ui/streams.js';

const ROUTES: RouteTable = {
  [MAPPER_PATHS.healthz]: ['GET'],
  [MAPPER_PATHS.readyz]: ['GET'],
  [MAPPER_PATHS.metrics]: ['GET'],
  [MAPPER_PATHS.model]: ['GET'],
  [MAPPER_PATHS.ping]: ['GET', 'POST'],
  [MAPPER_PATHS.infer]: ['POST'],
};

const UI_ROUTES: RouteTable = Object.fromEntries([UI_PATHS.page, UI_PATHS.css, UI_PATHS.icon, UI_PATHS.data, UI_PATHS.events, ...UI_PATHS.scripts].map((p) => [p, ['GET']]));

export interface MapperAppOptions {
  state: () => MapperState;
  metrics: MapperMetrics;
  logger: Logger;
  /** the live page (/ui), open like /metrics */
  live?: { view: LiveView; streams: LiveStreams };
}

/** Ping bodies are bandwidth probes of 64 KiB from authenticated peers; anything larger is no ping. */
const PING_BODY_LIMIT_BYTES = 1024 * 1024;

/** The mapper's request handler: POST /v1/infer on plain node:http, every other route on express. */
export function createMapperApp(options: MapperAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  /** Pings are between mappers: they need the token whatever the headers say. */
  const peersOnly = (req: Request, _res: Response, next: NextFunction): void => {
    authenticate(options.state(), { claimsPeer: true, authorization: header(req, 'authorization') });
    next();
  };
  /** The model description is for whoever may send requests here. */
  const callers = (req: Request, _res: Response, next: NextFunction): void => {
    authenticate(options.state(), { claimsPeer: header(req, MAPPER_HEADERS.origin) === 'peer', authorization: header(req, 'authorization') });
    next();
  };

  app.get(MAPPER_PATHS.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(MAPPER_PATHS.readyz, (_req, res) => {
    const state = options.state();
    readyState(state);
    if (!state.runtime.up) throw new CrimeError('NOT_READY', 'this device\'s runtime does not answer', { retryAfterSec: 1 });
    res.json({ status: 'ready' });
  });
  app.get(MAPPER_PATHS.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get(MAPPER_PATHS.model, callers, (_req, res) => {
    const state = options.state();
    const { model, pipeline } = readyState(state);
    res.json({ ...model, maxSteps: state.maxSteps, device: state.device, neighbours: pipeline.engine.neighbourNames });
  });

  const raw = express.raw({ limit: PING_BODY_LIMIT_BYTES, type: () => true });
  const ping = (_req: Request, res: Response): void => {
    const started = performance.now();
    const state = options.state();
    const { pipeline } = readyState(state);
    const advertisement = pipeline.engine.advertise();
    // Without its runtime a device still routes to its neighbours, and advertises only that; with
    // no route either it can serve nothing, and says so (its callers mark it down).
    if (advertisement.local === null && advertisement.remote.length === 0) {
      throw new CrimeError('NOT_READY', `${state.device} can serve nothing: its runtime does not answer and it has no route onward`, { retryAfterSec: 1 });
    }
    const body: PingResponse = { device: state.device, advertisement };
    res.setHeader(MAPPER_HEADERS.remoteMs, (performance.now() - started).toFixed(3));
    res.json(body);
  };
  app.get(MAPPER_PATHS.ping, peersOnly, ping);
  app.post(MAPPER_PATHS.ping, peersOnly, raw, ping);

  if (options.live) app.use(uiRoutes(options.live.view, options.live.streams));

  app.use(unmatchedRoute(options.live ? { ...ROUTES, ...UI_ROUTES } : ROUTES));
  app.use(errorHandler(logger));
  const infer = createInferHandler(options);
  return (req, res) => {
    if (req.method === 'POST' && (req.url === MAPPER_PATHS.infer || req.url?.startsWith(`${MAPPER_PATHS.infer}?`))) infer(req, res);
    else app(req, res);
  };
}
