/**
 * Mapper lifecycle: listen at once (healthz), wait for the local runtime, read its model, build the
 * engine, calibrate it with a few real inferences, then ready; ping due neighbours in the
 * background; reload the configuration file when it changes, without dropping requests; drain on
 * close.
 */
import { watchFile, unwatchFile } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleInput } from '../backends/input.js';
import { MappingEngine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../log.js';
import { RuntimeClient } from '../server/client.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import { createMapperApp, type MapperState } from './app.js';
import { loadMapperConfig, loadToken, type MapperConfig } from './config.js';
import { MapperMetrics } from './metrics.js';
import { PeerClient } from './peer-client.js';
import { Pipeline } from './pipeline.js';

export interface MapperServerOptions {
  /** the configuration file; watched for changes */
  configFile: string;
  logger?: Logger;
  /** collect process metrics (default true; off when several mappers share a process) */
  defaultMetrics?: boolean;
  /** how often to look for neighbours due a ping (default 100 ms) */
  pingTickMs?: number;
  /** how often to check the configuration file for changes (default 1000 ms) */
  configPollMs?: number;
}

export interface MapperServer {
  url: string;
  port: number;
  /** resolves once the runtime answered and the engine is calibrated */
  ready: Promise<void>;
  /** current state (tests and the local launcher read the engine through it) */
  state(): MapperState;
  /** re-reads the configuration file now; resolves false if it was invalid (the old one stays) */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

/** HTTP headers and framing of a request, for the link model's byte counts. */
const REQUEST_OVERHEAD_BYTES = 400;
const CALIBRATION_STEPS = [1, 8, 32, 128];

function payloadOf(config: MapperConfig, model: RuntimeModelInfo): { stepBytes: number; outputBytes: number; overheadBytes: number } {
  return {
    stepBytes: config.payload?.stepBytes ?? (model.inputKind === 'tokens' ? 4 : model.featureSize * 4),
    // JSON outputs (~12 bytes a number) plus the reply's headers and advertisement.
    outputBytes: config.payload?.outputBytes ?? model.outputSize * 12 + 600,
    overheadBytes: REQUEST_OVERHEAD_BYTES,
  };
}

export async function startMapperServer(options: MapperServerOptions): Promise<MapperServer> {
  const logger = options.logger ?? silentLogger;
  let config = await loadMapperConfig(options.configFile);
  const runtime = new RuntimeClient({ baseUrl: config.runtimeUrl, timeoutMs: Math.max(30_000, config.mapping.requestTimeoutMs) });
  let state: MapperState = {
    device: config.device,
    pipeline: undefined,
    model: undefined,
    maxSteps: config.maxSteps ?? 1,
    token: await loadToken(config),
    clientsNeedToken: config.auth.clients,
    maxInFlight: config.limits.maxInFlight,
  };
  let peers = new Map<string, PeerClient>();
  const metrics = new MapperMetrics({ snapshot: () => state.pipeline?.engine.snapshot(), defaultMetrics: options.defaultMetrics ?? true });
  const app = createMapperApp({ state: () => state, metrics, logger, bodyLimitBytes: config.limits.maxBodyBytes });
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.listen.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('mapper listening', { url, device: config.device, neighbours: config.neighbours.map((n) => n.name) });

  let closed = false;
  const timers: NodeJS.Timeout[] = [];

  /** A new engine and pipeline for the configuration; the compute model carries over as a prior. */
  const build = (cfg: MapperConfig, token: string | undefined, model: RuntimeModelInfo, previous?: Pipeline): Pipeline => {
    const old = previous?.engine.computePiece();
    const engine = new MappingEngine({
      device: cfg.device,
      neighbours: cfg.neighbours.map((n) => ({ name: n.name, ...(n.prior ? { prior: n.prior } : {}) })),
      objective: cfg.objective,
      payload: payloadOf(cfg, model),
      maxSteps: cfg.maxSteps ?? model.maxSteps,
      forgetting: cfg.mapping.forgetting,
      pingIdleMs: cfg.mapping.pingIdleSeconds * 1000,
      ...(cfg.power ? { power: cfg.power } : {}),
      ...(old ? { computePrior: { perStepMs: old.slope, fixedMs: old.intercept } } : cfg.profile ? { computePrior: cfg.profile } : {}),
      clock: () => performance.now(),
    });
    const retired = peers;
    peers = new Map(cfg.neighbours.map((n) => [n.name, new PeerClient({ name: n.name, url: n.url, token })]));
    // Requests still in flight may use the old clients: close them once those are surely done.
    const later = setTimeout(() => retired.forEach((p) => p.close()), 5 * 60_000);
    later.unref();
    return new Pipeline({ device: cfg.device, engine, runtime, peers, requestTimeoutMs: cfg.mapping.requestTimeoutMs, logger, metrics });
  };

  const ready = (async () => {
    let waited = 0;
    while (!(await runtime.ready())) {
      if (closed) throw new Error('mapper closed during start-up');
      if (waited % 5000 === 0) logger.info('waiting for the runtime', { runtime: config.runtimeUrl, waitedMs: waited });
      await new Promise((r) => setTimeout(r, 200));
      waited += 200;
    }
    const model = await runtime.model();
    const maxSteps = Math.min(config.maxSteps ?? model.maxSteps, model.maxSteps);
    const pipeline = build(config, state.token, model);
    for (const n of CALIBRATION_STEPS.filter((s) => s <= maxSteps)) {
      const r = await runtime.infer(sampleInput(model, n), { requestId: `calibrate-${n}` });
      pipeline.engine.observeCompute(n, r.computeMs);
    }
    state = { ...state, pipeline, model, maxSteps };
    const tick = setInterval(() => {
      void state.pipeline?.pingDue(Math.max(1000, config.mapping.requestTimeoutMs));
    }, options.pingTickMs ?? 100);
    timers.push(tick);
    void state.pipeline?.pingDue(Math.max(1000, config.mapping.requestTimeoutMs));
    const snap = pipeline.engine.snapshot();
    logger.info('mapper ready', { device: config.device, model: model.name, maxSteps, computeMsPerStep: snap.compute.perStepMs, computeFixedMs: snap.compute.fixedMs });
  })();
  ready.catch((err: unknown) => logger.error('mapper start failed', { error: (err as Error).message }));

  const reload = async (): Promise<boolean> => {
    let next: MapperConfig;
    let token: string | undefined;
    try {
      next = await loadMapperConfig(options.configFile);
      token = await loadToken(next);
    } catch (err) {
      logger.error('configuration reload failed, keeping the current one', { file: options.configFile, error: (err as Error).message });
      return false;
    }
    const fixed: string[] = (['device', 'runtimeUrl'] as const).filter((k) => next[k] !== config[k]);
    if (next.listen.port !== config.listen.port || next.listen.host !== config.listen.host) fixed.push('listen');
    if (fixed.length > 0) logger.warn('configuration change needs a restart, ignored', { fields: fixed });
    next = { ...next, device: config.device, runtimeUrl: config.runtimeUrl, listen: config.listen };
    config = next;
    const pipeline = state.pipeline && state.model ? build(next, token, state.model, state.pipeline) : undefined;
    state = {
      ...state,
      ...(pipeline ? { pipeline } : {}),
      maxSteps: state.model ? Math.min(next.maxSteps ?? state.model.maxSteps, state.model.maxSteps) : state.maxSteps,
      token,
      clientsNeedToken: next.auth.clients,
      maxInFlight: next.limits.maxInFlight,
    };
    logger.info('configuration reloaded', { neighbours: next.neighbours.map((n) => n.name), objective: next.objective });
    return true;
  };
  watchFile(options.configFile, { interval: options.configPollMs ?? 1000 }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) void reload();
  });

  return {
    url,
    port,
    ready,
    state: () => state,
    reload,
    async close() {
      closed = true;
      unwatchFile(options.configFile);
      for (const t of timers) clearInterval(t);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running get a grace period, then their connections are cut.
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      peers.forEach((p) => p.close());
      runtime.close();
    },
  };
}
