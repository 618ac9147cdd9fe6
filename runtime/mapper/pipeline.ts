import type { ModelInput } from '../backends/types.js';
import type { MappingEngine } from '../engine/engine.js';
import type { Estimate } from '../engine/types.js';
import { CrimeError, toCrimeError } from '../errors.js';
import { AnsweredError } from '../http/request.js';
import type { Logger } from '../log.js';
import type { RuntimeInferResult } from '../server/client.js';
import type { MapperMetrics } from './metrics.js';
import type { PeerClient } from './peer-client.js';
import { PolicyRouter } from './policy-router.js';
import { planAttempt, type AttemptPlan } from './deadline.js';
import { Fallback, neighbourAtFault } from './fallback.js';
import type { MapperInferResponse } from './protocol.js';
import { REQUEST_FLAGS } from './ui/browser/live-data.js';
import type { RequestLog } from './ui/request-log.js';

/** This device's runtime, as the pipeline needs it (RuntimeClient in production). */
export interface LocalRuntime {
  infer(input: ModelInput, options: { requestId: string; timeoutMs: number; budgetMs: number }): Promise<RuntimeInferResult>;
}

export interface RequestContext {
  origin: 'client' | 'peer';
  requestId: string;
  /** devices the request passed through before this one */
  path: readonly string[];
  /** when the request's caller gives up (performance.now() ms): the answer must be out by then */
  deadline: number;
  /** the budget the deadline was set from, for messages */
  budgetMs: number;
}

export interface PipelineOptions {
  device: string;
  engine: MappingEngine;
  runtime: LocalRuntime;
  peers: ReadonlyMap<string, PeerClient>;
  logger: Logger;
  metrics: MapperMetrics;
  /** the mapping policy: which candidates a request tries, in order (default: crime) */
  router?: PolicyRouter;
  /** told when the local runtime could not be reached or is not ready (it may have died) */
  onRuntimeFailure?: () => void;
  /** where every mapped request is recorded for the live page (/ui) */
  requestLog?: RequestLog;
}

/**
 * The mapper's per-request pipeline after decoding: decide (the engine ranks local and every
 * neighbour), invoke the candidates in that order until one answers (a failed or timed-out offload
 * falls back to the next best, then to local), learn from the measured times. Every request that
 * reaches it is answered exactly once, with outputs or one typed error.
 */
export class Pipeline {
  private readonly routes: PolicyRouter;

  constructor(private readonly o: PipelineOptions) {
    this.routes = o.router ?? new PolicyRouter({ policy: 'crime', engine: o.engine });
  }

  get engine(): MappingEngine {
    return this.o.engine;
  }

  get router(): PolicyRouter {
    return this.routes;
  }

  /** Whether pings and self-calibration still serve the mapping policy (PolicyRouter.learning). */
  get learning(): boolean {
    return this.routes.learning;
  }

  async run(input: ModelInput, ctx: RequestContext): Promise<MapperInferResponse> {
    const { engine, metrics, logger, device } = this.o;
    const started = performance.now();
    const decision = engine.decide(input.steps, ctx.origin);
    const { candidates: planned, pinned: isPinned } = this.routes.plan(decision);
    const choice = planned[0]?.target ?? 'none';
    const decideMs = performance.now() - started;
    const path = [...ctx.path, device];
    const fallback = new Fallback(planned, path);
    const invokeStart = performance.now();
    // A fixed policy's pinned target gets the whole budget: slow is not failed, and its fallback
    // is for a target that cannot serve at all (which fails fast), not for one that is late.
    const pinned = isPinned ? planned[0] : undefined;
    for (let candidate = fallback.next(); candidate !== undefined; candidate = fallback.next()) {
      const plan = planAttempt({
        remainingMs: ctx.deadline - performance.now(),
        estimateMs: candidate.latencyMs,
        networkMs: candidate.networkMs,
        laterMs: candidate === pinned ? [] : fallback.upcoming().map((c) => c.latencyMs),
      });
      if (plan === undefined) {
        fallback.skipped(candidate);
        continue;
      }
      try {
        const answer = candidate.kind === 'local' ? await this.local(input, ctx, plan) : await this.offload(input, ctx, candidate, path, plan);
        const totalMs = performance.now() - started;
        answer.timings.totalMs = totalMs;
        const invokeMs = performance.now() - invokeStart;
        afterAnswer(() => {
          this.o.requestLog?.record(input.steps, answer.servedBy, flagsOf(ctx, fallback.failures.length > 0), totalMs);
          metrics.stage.observe({ stage: 'decide' }, decideMs / 1000);
          metrics.stage.observe({ stage: 'invoke' }, invokeMs / 1000);
          metrics.requests.inc({ origin: ctx.origin, decision: choice, outcome: 'ok' });
          metrics.latency.observe({ served_by: answer.servedBy === device ? 'local' : 'offload' }, totalMs / 1000);
          logger.info('request served', {
            requestId: ctx.requestId,
            n: input.steps,
            origin: ctx.origin,
            decision: planned[0]?.target,
            estimates: decision.ranked.map((e) => ({ target: e.target, latencyMs: round(e.latencyMs), cost: round(e.cost, 6) })),
            servedBy: answer.servedBy,
            actualMs: round(totalMs),
            failures: fallback.failures,
          });
        });
        return answer;
      } catch (err) {
        const e = toCrimeError(err);
        if (!fallback.failed(candidate, e.code, e)) {
          metrics.stage.observe({ stage: 'decide' }, decideMs / 1000);
          throw e;
        }
        metrics.fallbacks.inc({ from: candidate.target, code: e.code });
        logger.warn('candidate failed, falling back', { requestId: ctx.requestId, target: candidate.target, code: e.code, error: e.message });
      }
    }
    metrics.stage.observe({ stage: 'decide' }, decideMs / 1000);
    metrics.requests.inc({ origin: ctx.origin, decision: choice, outcome: 'failed' });
    this.o.requestLog?.record(input.steps, undefined, flagsOf(ctx, fallback.failures.length > 0), performance.now() - started);
    throw performance.now() >= ctx.deadline ? fallback.expired(ctx.budgetMs) : fallback.exhausted();
  }

  private async local(input: ModelInput, ctx: RequestContext, plan: AttemptPlan): Promise<MapperInferResponse> {
    const { engine, runtime, device } = this.o;
    const ticket = engine.startLocal(input.steps);
    let result: RuntimeInferResult;
    try {
      result = await runtime.infer(input, { requestId: ctx.requestId, timeoutMs: plan.timeoutMs, budgetMs: plan.calleeBudgetMs });
    } catch (err) {
      engine.abortLocal(ticket);
      // Unreachable or not ready: the runtime may be dead. A timeout is no sign (it may just be
      // busy: the readiness probe tells a frozen one); any other answer means it is up.
      const e = toCrimeError(err);
      const unreachable = !(err instanceof AnsweredError) && e.code !== 'TIMEOUT';
      if (unreachable || e.code === 'NOT_READY') this.o.onRuntimeFailure?.();
      throw err;
    }
    const { computeMs, batch } = result;
    afterAnswer(() => engine.finishLocal(ticket, computeMs, batch));
    return {
      outputs: Array.from(result.outputs),
      servedBy: device,
      path: [device],
      timings: { totalMs: 0, computeMs: result.computeMs, networkMs: 0, queueMs: result.queueMs },
    };
  }

  private async offload(input: ModelInput, ctx: RequestContext, candidate: Estimate, path: readonly string[], plan: AttemptPlan): Promise<MapperInferResponse> {
    const { engine, peers } = this.o;
    const peer = peers.get(candidate.target);
    if (!peer) throw new CrimeError('INTERNAL', `no client for neighbour ${candidate.target}`);
    const ticket = engine.startOffload(candidate.target, input.steps);
    try {
      const reply = await peer.infer(input, { requestId: ctx.requestId, path, timeoutMs: plan.timeoutMs, budgetMs: plan.calleeBudgetMs });
      engine.finishOffload(ticket, {
        roundTripMs: reply.roundTripMs,
        calleeElapsedMs: reply.remoteMs,
        ...(reply.advertisement ? { advertisement: reply.advertisement } : {}),
      });
      const t = reply.body.timings;
      return {
        outputs: reply.body.outputs,
        servedBy: reply.body.servedBy,
        path: [this.o.device, ...reply.body.path],
        timings: {
          totalMs: 0,
          computeMs: t?.computeMs ?? 0,
          networkMs: (t?.networkMs ?? 0) + Math.max(0, reply.roundTripMs - reply.remoteMs),
          queueMs: t?.queueMs ?? 0,
        },
      };
    } catch (err) {
      engine.failOffload(ticket, neighbourAtFault(toCrimeError(err).code, err instanceof AnsweredError));
      throw err;
    }
  }

  /** Sends every ping the engine says is due; never throws. */
  async pingDue(timeoutMs: number): Promise<void> {
    const { engine, peers, metrics, logger } = this.o;
    if (!this.learning) return;
    await Promise.all(
      engine.duePings().map(async (due) => {
        const peer = peers.get(due.name);
        if (!peer) return;
        engine.pingSent(due.name);
        metrics.pingBytes.inc({ neighbour: due.name }, due.bytes);
        try {
          const reply = await peer.ping(due.bytes, timeoutMs);
          engine.pingResult(due.name, {
            roundTripMs: reply.roundTripMs,
            calleeElapsedMs: reply.remoteMs,
            bytes: due.bytes,
            advertisement: reply.advertisement,
          });
          metrics.pings.inc({ neighbour: due.name, outcome: 'ok' });
        } catch (err) {
          engine.pingFailed(due.name);
          metrics.pings.inc({ neighbour: due.name, outcome: toCrimeError(err).code });
          logger.debug('ping failed', { neighbour: due.name, error: (err as Error).message });
        }
      }),
    );
  }
}

/**
 * Runs `work` once the answer being returned is written. The caller encodes and writes it in the
 * same turn of the event loop (promise continuations all), and setImmediate callbacks run only
 * after that turn's I/O callbacks: learning, metrics and the log line no longer delay the answer.
 * No other request can be decided in between (that needs another turn's I/O).
 */
export function afterAnswer(work: () => void): void {
  setImmediate(work);
}

function flagsOf(ctx: RequestContext, fellBack: boolean): number {
  return (ctx.origin === 'peer' ? REQUEST_FLAGS.peer : 0) | (fellBack ? REQUEST_FLAGS.fallback : 0);
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
