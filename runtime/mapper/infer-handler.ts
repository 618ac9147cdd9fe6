/**
 * POST /v1/infer on plain node:http: the per-request hot path skips express's routing and request
 * decoration (measurable next to a sub-millisecond hop), and keeps the same decoding, the same
 * error mapping and the same answers as every other route.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelInput } from '../backends/types.js';
import { CrimeError, toCrimeError } from '../errors.js';
import { assertUtf8, header, mediaType, readBody } from '../http/body.js';
import { BodyBudget } from '../http/body-budget.js';
import { sendError } from '../http/error-handler.js';
import type { Logger } from '../log.js';
import { decodeBinary, decodeJson, largestBody } from '../server/decode.js';
import { BINARY_TYPE } from '../server/protocol.js';
import { authenticate } from './auth.js';
import { budgetOf } from './deadline.js';
import type { MapperMetrics } from './metrics.js';
import { MAPPER_HEADERS, MAPPER_PATHS, parsePath } from './protocol.js';
import type { Pipeline } from './pipeline.js';
import { readyState, type MapperState } from './state.js';
import type { RuntimeModelInfo } from '../server/protocol.js';

export interface InferHandlerOptions {
  state: () => MapperState;
  metrics: MapperMetrics;
  logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The order matters against slow and large clients: headers are checked first (token, media
 * type, declared size), then the body is read under its deadline and within the shared body
 * budget, and only then does the request take one of the maxInFlight slots. A client trickling
 * its body therefore holds a socket for at most bodyTimeoutMs and never a slot.
 */
export function createInferHandler(options: InferHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = options;
  let inFlight = 0;
  const budget = new BodyBudget(() => options.state().limits.maxBodyBytesInFlight);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The budget runs from the headers' arrival: a slow body eats into it, as it does for the caller.
    const arrived = performance.now();
    const state = options.state();
    const peer = authenticate(state, { claimsPeer: header(req, MAPPER_HEADERS.origin) === 'peer', authorization: header(req, 'authorization') }) === 'peer';
    const type = mediaType(req);
    if (type !== 'application/json' && type !== BINARY_TYPE) {
      throw new CrimeError('UNSUPPORTED_MEDIA_TYPE', `POST ${MAPPER_PATHS.infer} takes application/json or ${BINARY_TYPE}`);
    }
    if (type === 'application/json') assertUtf8(req);
    const ready = readyState(state);
    const { limits } = state;
    // No valid input needs more than the model's largest body: larger ones are refused unread.
    const binary = type === BINARY_TYPE;
    const limit = Math.min(limits.maxBodyBytes, largestBody(ready.model, state.maxSteps, binary));
    const body = await readBody(req, { limit, timeoutMs: limits.bodyTimeoutMs, budget });
    let held = body.length;
    const release = (): void => {
      budget.give(held);
      held = 0;
    };
    try {
      if (inFlight >= limits.maxInFlight) {
        throw new CrimeError('OVERLOADED', `${inFlight} requests in progress; try again shortly`, { retryAfterSec: 1 });
      }
      inFlight++;
      metrics.inFlight.set(inFlight);
      try {
        await mapOne(req, res, body, { peer, state, ...ready, binary, arrived, release });
      } finally {
        inFlight--;
        metrics.inFlight.set(inFlight);
      }
    } finally {
      release();
    }
  };

  /** decode → pipeline → encode for a request whose body is in (checked ready before it was read); `release` once the body is decoded. */
  const mapOne = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    o: { peer: boolean; state: MapperState; pipeline: Pipeline; model: RuntimeModelInfo; binary: boolean; arrived: number; release: () => void },
  ): Promise<void> => {
    const { peer, state, pipeline, model, release } = o;
    const received = performance.now();
    let input: ModelInput;
    if (o.binary) {
      input = decodeBinary(body, { shape: header(req, MAPPER_HEADERS.shape), dtype: header(req, MAPPER_HEADERS.dtype) }, model, state.maxSteps);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new CrimeError('INVALID_INPUT', 'request body is not valid JSON');
      }
      input = decodeJson(parsed, model, state.maxSteps);
    }
    release();
    const decodeMs = performance.now() - received;
    const given = header(req, MAPPER_HEADERS.requestId);
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    const budgetMs = budgetOf(header(req, MAPPER_HEADERS.deadline), state.requestTimeoutMs);
    let answer;
    try {
      answer = await pipeline.run(input, {
        origin: peer ? 'peer' : 'client',
        requestId,
        path: peer ? parsePath(header(req, MAPPER_HEADERS.path)) : [],
        deadline: o.arrived + budgetMs,
        budgetMs,
      });
    } catch (err) {
      metrics.stage.observe({ stage: 'decode' }, decodeMs / 1000);
      throw err;
    }
    const encodeStart = performance.now();
    const json = JSON.stringify(answer);
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(json));
    res.setHeader(MAPPER_HEADERS.requestId, requestId);
    if (peer) res.setHeader(MAPPER_HEADERS.advert, JSON.stringify(pipeline.engine.advertise()));
    res.setHeader(MAPPER_HEADERS.remoteMs, (performance.now() - received).toFixed(3));
    res.end(json);
    // Only now, with the answer written: nothing but the answer on the request's path.
    metrics.stage.observe({ stage: 'decode' }, decodeMs / 1000);
    metrics.stage.observe({ stage: 'encode' }, (performance.now() - encodeStart) / 1000);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = toCrimeError(err);
      if (e.code !== 'UPSTREAM_FAILED' && e.code !== 'OVERLOADED') metrics.rejected.inc({ code: e.code });
      if (e.status >= 500 && !e.retryable) logger.error('request failed', { code: e.code, error: e.message });
      sendError(res, e);
    });
  };
}
