import { MappingEngine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import type { MapperConfig } from './config.js';
import type { MapperMetrics } from './metrics.js';
import { payloadOf } from './payload.js';
import { PeerClient } from './peer-client.js';
import { Pipeline, type LocalRuntime } from './pipeline.js';
import { PolicyRouter } from './policy-router.js';
import type { RequestLog } from './ui/request-log.js';


/**
 * How the runtime serves, for the engine's queue model: as the runtime says it runs (a model that
 * cannot batch runs one request at a time whatever the configuration asked), else as configured.
 */
function servingOf(config: MapperConfig, model: RuntimeModelInfo): { maxBatch: number; maxDelayMs: number; concurrency: number } {
  const s = model.serving;
  return s ? { maxBatch: s.maxBatch, maxDelayMs: s.maxDelayMs, concurrency: s.concurrency } : { ...config.serving };
}

export interface BuildOptions {
  config: MapperConfig;
  token: string | undefined;
  model: RuntimeModelInfo;
  runtime: LocalRuntime;
  logger: Logger;
  metrics: MapperMetrics;
  /** the pipeline this one replaces: its compute model carries over as the prior */
  previous?: Pipeline;
  /** whether the runtime answers now (default true) */
  runtimeUp?: boolean;
  /** see PipelineOptions.onRuntimeFailure */
  onRuntimeFailure?: () => void;
  /** see PipelineOptions.requestLog */
  requestLog?: RequestLog;
}

/** A pipeline for one configuration: a fresh engine, a client per neighbour. */
export function buildPipeline(o: BuildOptions): { pipeline: Pipeline; peers: Map<string, PeerClient> } {
  const { config, model } = o;
  const old = o.previous?.engine.computePiece();
  const engine = new MappingEngine({
    device: config.device,
    neighbours: config.neighbours.map((n) => ({ name: n.name, ...(n.prior ? { prior: n.prior } : {}) })),
    objective: config.objective,
    payload: payloadOf(config.payload, model),
    maxSteps: config.maxSteps ?? model.maxSteps,
    forgetting: config.mapping.forgetting,
    pingIdleMs: config.mapping.pingIdleSeconds * 1000,
    ...(config.power ? { power: config.power } : {}),
    serving: servingOf(config, model),
    ...(old ? { computePrior: { perStepMs: old.slope, fixedMs: old.intercept } } : config.profile ? { computePrior: config.profile } : {}),
    clock: () => performance.now(),
  });
  const peers = new Map(config.neighbours.map((n) => [n.name, new PeerClient({ name: n.name, url: n.url, token: o.token })]));
  const pipeline = new Pipeline({
    device: config.device,
    engine,
    runtime: o.runtime,
    peers,
    logger: o.logger,
    metrics: o.metrics,
    router: new PolicyRouter({
      policy: config.mapping.policy,
      via: config.via,
      engine,
      onThresholds: (objective, ranges) => o.logger.info('threshold policy: thresholds fixed', { objective, ranges: ranges.map((r) => `${r.fromSteps}-${r.toSteps} -> ${r.target}`) }),
    }),
    ...(o.onRuntimeFailure ? { onRuntimeFailure: o.onRuntimeFailure } : {}),
    ...(o.requestLog ? { requestLog: o.requestLog } : {}),
  });
  engine.setLocalAvailable(o.runtimeUp ?? true);
  return { pipeline, peers };
}
