/**
 * The mapper's express app: thin handlers around the pipeline. Decoding and error mapping are the
 * runtime's (one place for both); auth, the in-flight bound and the peer headers live here.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ModelInput } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { errorHandler, toHttpError } from '../http/error-handler.js';
import type { Logger } from '../log.js';
import { decodeBinary, decodeJson } from '../server/decode.js';
import { BINARY_TYPE, type RuntimeModelInfo } from '../server/protocol.js';
import type { MapperMetrics } from './metrics.js';
import type { Pipeline } from './pipeline.js';
import { MAPPER_HEADERS, MAPPER_PATHS, parsePath, type PingResponse } from './protocol.js';

/** What the handlers read on every request; replaced as a whole when the configuration reloads. */
export interface MapperState {
  device: string;
  /** set once the runtime is ready and the engine calibrated */
  pipeline: Pipeline | undefined;
  model: RuntimeModelInfo | undefined;
  maxSteps: number;
  token: string | undefined;
  clientsNeedToken: boolean;
  maxInFlight: number;
}

export interface MapperAppOptions {
  state: () => MapperState;
  metrics: MapperMetrics;
  logger: Logger;
  bodyLimitBytes: number;
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || !given.startsWith('Bearer ')) return false;
  const a = Buffer.from(given.slice('Bearer '.length).trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function ready(state: MapperState): { pipeline: Pipeline; model: RuntimeModelInfo } {
  if (!state.pipeline || !state.model) throw new CrimeError('NOT_READY', 'the mapper is still calibrating its runtime', { retryAfterSec: 1 });
  return { pipeline: state.pipeline, model: state.model };
}

export function createMapperApp(options: MapperAppOptions): express.Express {
  const { metrics, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let inFlight = 0;

  /** Peers always need the token (when one is configured); clients only if configured so. */
  const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
    const state = options.state();
    const peer = header(req, MAPPER_HEADERS.origin) === 'peer' || req.path === MAPPER_PATHS.ping;
    if (state.token !== undefined && (peer || state.clientsNeedToken) && !tokenMatches(header(req, 'authorization'), state.token)) {
      next(new CrimeError('UNAUTHORIZED', peer ? 'requests between mappers need the topology\'s bearer token' : 'this entry needs a bearer token'));
      return;
    }
    next();
  };

  app.get(MAPPER_PATHS.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(MAPPER_PATHS.readyz, (_req, res) => {
    ready(options.state());
    res.json({ status: 'ready' });
  });
  app.get(MAPPER_PATHS.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get(MAPPER_PATHS.model, (_req, res) => {
    const state = options.state();
    const { model, pipeline } = ready(state);
    res.json({ ...model, maxSteps: state.maxSteps, device: state.device, neighbours: pipeline.engine.neighbourNames });
  });

  const raw = express.raw({ limit: options.bodyLimitBytes, type: () => true });
  const ping = (_req: Request, res: Response): void => {
    const started = performance.now();
    const state = options.state();
    const { pipeline } = ready(state);
    const body: PingResponse = { device: state.device, advertisement: pipeline.engine.advertise() };
    res.setHeader(MAPPER_HEADERS.remoteMs, (performance.now() - started).toFixed(3));
    res.json(body);
  };
  app.get(MAPPER_PATHS.ping, authenticate, ping);
  app.post(MAPPER_PATHS.ping, authenticate, raw, ping);

  const json = express.json({ limit: options.bodyLimitBytes, type: 'application/json', strict: false });
  const binary = express.raw({ limit: options.bodyLimitBytes, type: BINARY_TYPE });
  app.post(
    MAPPER_PATHS.infer,
    (req, res, next) => {
      const state = options.state();
      if (inFlight >= state.maxInFlight) {
        next(new CrimeError('OVERLOADED', `${inFlight} requests in progress; try again shortly`, { retryAfterSec: 1 }));
        return;
      }
      inFlight++;
      metrics.inFlight.set(inFlight);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        inFlight--;
        metrics.inFlight.set(inFlight);
      };
      res.on('finish', release);
      res.on('close', release);
      next();
    },
    authenticate,
    (req, res, next) => {
      if (req.is('application/json')) json(req, res, next);
      else if (req.is(BINARY_TYPE)) binary(req, res, next);
      else next(new CrimeError('UNSUPPORTED_MEDIA_TYPE', `POST ${MAPPER_PATHS.infer} takes application/json or ${BINARY_TYPE}`));
    },
    async (req: Request, res: Response) => {
      const received = performance.now();
      const state = options.state();
      const { pipeline, model } = ready(state);
      const given = header(req, MAPPER_HEADERS.requestId);
      const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
      const peer = header(req, MAPPER_HEADERS.origin) === 'peer';
      const input: ModelInput =
        req.is(BINARY_TYPE) !== false
          ? decodeBinary(req.body as Buffer, { shape: header(req, MAPPER_HEADERS.shape), dtype: header(req, MAPPER_HEADERS.dtype) }, model, state.maxSteps)
          : decodeJson(req.body, model, state.maxSteps);
      metrics.stage.observe({ stage: 'decode' }, (performance.now() - received) / 1000);
      const answer = await pipeline.run(input, {
        origin: peer ? 'peer' : 'client',
        requestId,
        path: peer ? parsePath(header(req, MAPPER_HEADERS.path)) : [],
      });
      const encodeStart = performance.now();
      res.setHeader(MAPPER_HEADERS.requestId, requestId);
      if (peer) res.setHeader(MAPPER_HEADERS.advert, JSON.stringify(pipeline.engine.advertise()));
      const body = JSON.stringify(answer);
      res.setHeader(MAPPER_HEADERS.remoteMs, (performance.now() - received).toFixed(3));
      res.type('application/json').send(body);
      metrics.stage.observe({ stage: 'encode' }, (performance.now() - encodeStart) / 1000);
    },
  );
  app.use(MAPPER_PATHS.infer, (err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const code = toHttpError(err).code;
    if (code !== 'UPSTREAM_FAILED' && code !== 'OVERLOADED') metrics.rejected.inc({ code });
    next(err);
  });
  app.use((req, _res, next) => next(new CrimeError('NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (toHttpError(err).code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer');
    next(err);
  });
  app.use(errorHandler(logger));
  return app;
}
