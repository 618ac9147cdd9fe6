/**
 * Mapper lifecycle: listen at once (healthz), wait for the local runtime, read its model, build the
 * engine, calibrate it with a few real inferences, then ready; ping due neighbours in the
 * background; reload the configuration file when it changes, without dropping requests; drain on
 * close.
 */
import { watchFile, unwatchFile, type Stats } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { sampleInput } from '../backends/input.js';
import { CALIBRATION_STEPS, RUNTIME_PROBE_MS } from '../defaults.js';
import { CrimeError } from '../errors.js';
import { selfCalibrationPolicy } from '../mapping-settings.js';
import { answerClientErrors } from '../http/client-errors.js';
import { guardConnections, serverOptions } from '../http/connection-guard.js';
import { silentLogger, type Logger } from '../log.js';
import { RuntimeClient } from '../server/client.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import { createMapperApp } from './app.js';
import { buildPipeline } from './build.js';
import { loadMapperConfig, loadToken, type MapperConfig } from './config.js';
import { fileChanged, refuseReload, restartOnlyChanges } from './reload.js';
import { MapperMetrics } from './metrics.js';
import { startSelfCalibration } from './self-calibration.js';
import type { PeerClient } from './peer-client.js';
import type { Pipeline } from './pipeline.js';
import { RuntimeHealth } from './runtime-health.js';
import type { MapperState } from './state.js';
import { LiveView } from './ui/live-view.js';
import { LiveStreams } from './ui/streams.js';

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
  /** a changed file is read once it has not changed for this long (default: configPollMs) */
  configSettleMs?: number;
  /** serve the live page /ui and record what it shows (default true) */
  livePage?: boolean;
}

export interface MapperServer {
  url: string;
  port: number;
  /** resolves once the runtime answered and the engine is calibrated */
  ready: Promise<void>;
  /** current state (tests and the local launcher read the engine through it) */
  state(): MapperState;
  /** re-reads the configuration file now; resolves false if it was refused (the old one stays) */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

/** Requests still running at close get this long before their connections are cut. */
const DRAIN_MS = 10_000;
/** How often the live page's history takes the learned links and curves. */
const LIVE_SAMPLE_MS = 1000;
/** Clients replaced by a reload are closed once requests that may still use them are surely done. */
const RETIRE_PEERS_MS = 5 * 60_000;

async function listen(server: Server, host: string, port: number): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, port: bound };
}

/** Why start-up ended early: close() was called before the mapper got ready. */
const closedDuringStartUp = (): CrimeError => new CrimeError('NOT_READY', 'mapper closed during start-up');

/** Polls the runtime until it is ready; gives up as soon as `signal` aborts. */
async function waitForRuntime(runtime: RuntimeClient, signal: AbortSignal, logger: Logger): Promise<RuntimeModelInfo> {
  let waited = 0;
  while (!(await runtime.ready())) {
    if (signal.aborted) throw closedDuringStartUp();
    if (waited % 5000 === 0) logger.info('waiting for the runtime', { waitedMs: waited });
    await sleep(200, undefined, { signal }).catch(() => undefined);
    waited += 200;
  }
  if (signal.aborted) throw closedDuringStartUp();
  return runtime.model();
}

/** Seeds the compute model with real inferences at a spread of lengths; an abort cuts the one running. */
async function calibrate(pipeline: Pipeline, runtime: RuntimeClient, model: RuntimeModelInfo, maxSteps: number, signal: AbortSignal): Promise<void> {
  for (const n of CALIBRATION_STEPS.filter((s) => s <= maxSteps)) {
    if (signal.aborted) throw closedDuringStartUp();
    const r = await runtime.infer(sampleInput(model, n), { requestId: `calibrate-${n}`, signal }).catch((err: unknown) => {
      throw signal.aborted ? closedDuringStartUp() : err;
    });
    pipeline.engine.observeCompute(n, r.computeMs);
  }
}

function drain(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  });
}

/** What the handlers take from the configuration file (and its token): set at start and on every reload. */
function fromConfig(config: MapperConfig, token: string | undefined): Pick<MapperState, 'token' | 'clientsNeedToken' | 'limits' | 'requestTimeoutMs' | 'selfCalibration'> {
  return {
    token,
    clientsNeedToken: config.auth.clients === true,
    limits: config.limits,
    requestTimeoutMs: config.mapping.requestTimeoutMs,
    selfCalibration: selfCalibrationPolicy(config.mapping.selfCalibration),
  };
}

export async function startMapperServer(options: MapperServerOptions): Promise<MapperServer> {
  const logger = options.logger ?? silentLogger;
  const first = await loadMapperConfig(options.configFile);
  let config = first.config;
  let sealed = first.sealed;
  const runtime = new RuntimeClient({ baseUrl: config.runtimeUrl, timeoutMs: Math.max(30_000, config.mapping.requestTimeoutMs) });
  const health = new RuntimeHealth({
    probe: () => runtime.readiness(RUNTIME_PROBE_MS),
    onChange: (up) => {
      state.pipeline?.engine.setLocalAvailable(up);
      metrics.runtimeUp.set(up ? 1 : 0);
      if (up) logger.info('runtime answers again');
      else logger.warn('runtime does not answer: not ready, and local is no candidate until it does', { runtime: config.runtimeUrl });
    },
  });
  let state: MapperState = {
    device: config.device,
    pipeline: undefined,
    model: undefined,
    maxSteps: config.maxSteps ?? 1,
    ...fromConfig(config, await loadToken(config)),
    runtime: health,
  };
  let peers = new Map<string, PeerClient>();
  const metrics = new MapperMetrics({ snapshot: () => state.pipeline?.engine.snapshot(), defaultMetrics: options.defaultMetrics ?? true });
  metrics.runtimeUp.set(1);
  const live = options.livePage === false ? undefined : new LiveView({ device: config.device, current: () => (state.pipeline ? { engine: state.pipeline.engine, maxSteps: state.maxSteps } : undefined) });
  const streams = live && new LiveStreams({ view: live });
  const app = createMapperApp({ state: () => state, metrics, logger, ...(live && streams ? { live: { view: live, streams } } : {}) });
  const server = createServer({ keepAliveTimeout: 65_000, ...serverOptions(config.limits) }, app);
  answerClientErrors(server);
  const connections = guardConnections(server, () => state.limits);
  const { url, port } = await listen(server, config.listen.host, config.listen.port);
  logger.info('mapper listening', { url, device: config.device, neighbours: config.neighbours.map((n) => n.name) });

  // close() aborts start-up: everything start-up would start afterwards checks it first.
  const closing = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let selfCalibration: { stop: () => void } | undefined;

  /** A pipeline for `cfg`; the clients it replaces are closed later, when nothing uses them. */
  const rebuild = (cfg: MapperConfig, token: string | undefined, model: RuntimeModelInfo, previous?: Pipeline): Pipeline => {
    const built = buildPipeline({
      config: cfg, token, model, runtime, logger, metrics, runtimeUp: health.up, onRuntimeFailure: () => health.failed(),
      ...(live ? { requestLog: live.requests } : {}),
      ...(previous ? { previous } : {}),
    });
    metrics.policy.reset();
    metrics.policy.set({ policy: cfg.mapping.policy }, 1);
    const retired = peers;
    peers = built.peers;
    setTimeout(() => retired.forEach((p) => p.close()), RETIRE_PEERS_MS).unref();
    return built.pipeline;
  };

  const pingDue = (): void => void state.pipeline?.pingDue(Math.max(1000, config.mapping.requestTimeoutMs));

  const ready = (async () => {
    const { signal } = closing;
    const model = await waitForRuntime(runtime, signal, logger);
    const maxSteps = Math.min(config.maxSteps ?? model.maxSteps, model.maxSteps);
    const pipeline = rebuild(config, state.token, model);
    await calibrate(pipeline, runtime, model, maxSteps, signal);
    // Synchronous from here on: close() either came before (and nothing starts) or comes after (and stops it all).
    if (signal.aborted) throw closedDuringStartUp();
    state = { ...state, pipeline, model, maxSteps };
    timers.push(setInterval(pingDue, options.pingTickMs ?? 100));
    timers.push(setInterval(() => void health.check(), RUNTIME_PROBE_MS));
    if (live) {
      timers.push(setInterval(() => live.sample(), LIVE_SAMPLE_MS));
      live.sample();
    }
    pingDue();
    selfCalibration = startSelfCalibration({ state: () => state, runtime, metrics, logger });
    const snap = pipeline.engine.snapshot();
    logger.info('mapper ready', { device: config.device, model: model.name, maxSteps, computeMsPerStep: snap.compute.perStepMs, computeFixedMs: snap.compute.fixedMs });
  })();
  ready.catch((err: unknown) => {
    if (closing.signal.aborted) logger.info('mapper closed before it was ready');
    else logger.error('mapper start failed', { error: (err as Error).message });
  });

  const reload = async (): Promise<boolean> => {
    let next: MapperConfig;
    let token: string | undefined;
    try {
      const file = await loadMapperConfig(options.configFile);
      const refused = refuseReload({ config, sealed }, file);
      if (refused !== undefined) throw new Error(refused);
      next = file.config;
      sealed = file.sealed;
      token = await loadToken(next);
    } catch (err) {
      metrics.reloads.inc({ outcome: 'refused' });
      logger.error('configuration reload refused, keeping the current one', { file: options.configFile, error: (err as Error).message });
      return false;
    }
    const fixed = restartOnlyChanges(config, next);
    if (fixed.length > 0) logger.warn('configuration change needs a restart, ignored', { fields: fixed });
    next = { ...next, device: config.device, runtimeUrl: config.runtimeUrl, listen: config.listen };
    config = next;
    const pipeline = state.pipeline && state.model ? rebuild(next, token, state.model, state.pipeline) : undefined;
    state = {
      ...state,
      ...(pipeline ? { pipeline } : {}),
      maxSteps: state.model ? Math.min(next.maxSteps ?? state.model.maxSteps, state.model.maxSteps) : state.maxSteps,
      ...fromConfig(next, token),
    };
    connections.apply();
    metrics.reloads.inc({ outcome: 'applied' });
    logger.info('configuration reloaded', { neighbours: next.neighbours.map((n) => n.name), objective: next.objective, policy: next.mapping.policy });
    return true;
  };
  // A file being written changes at several polls: it is read once it stayed the same for a while
  // (and a sealed file that is still incomplete is refused anyway).
  const pollMs = options.configPollMs ?? 1000;
  let settling: NodeJS.Timeout | undefined;
  const onChange = (cur: Stats, prev: Stats): void => {
    if (!fileChanged(cur, prev)) return;
    clearTimeout(settling);
    settling = setTimeout(() => void reload().then(watchToken), options.configSettleMs ?? pollMs);
  };
  watchFile(options.configFile, { interval: pollMs }, onChange);
  // A rotated token (the Secret edited, the kubelet updating its mount) takes effect like a config change.
  let tokenFile: string | undefined;
  const watchToken = (): void => {
    const next = config.auth.disabled ? undefined : config.auth.tokenFile;
    if (next === tokenFile) return;
    if (tokenFile) unwatchFile(tokenFile, onChange);
    tokenFile = next;
    if (tokenFile) watchFile(tokenFile, { interval: pollMs }, onChange);
  };
  watchToken();

  return {
    url,
    port,
    ready,
    state: () => state,
    reload,
    async close() {
      closing.abort();
      unwatchFile(options.configFile);
      if (tokenFile) unwatchFile(tokenFile, onChange);
      clearTimeout(settling);
      for (const t of timers) clearInterval(t);
      selfCalibration?.stop();
      streams?.closeAll();
      await drain(server);
      peers.forEach((p) => p.close());
      runtime.close();
    },
  };
}
