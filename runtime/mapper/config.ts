import { readFile } from 'node:fs/promises';
import { parse as parseYaml, stringify } from 'yaml';
import type { Objective, PowerModel } from '../engine/types.js';
import { InvalidInputError, at, bool, known, list, num, obj, oneOf, optNum, optObj, optPower, str, type Obj } from '../validate.js';
import { MAPPER_DEFAULTS, MAPPING_DEFAULTS } from '../defaults.js';

/**
 * The mapper's configuration: one file (YAML or JSON), mounted from the topology's ConfigMap by
 * the operator or written by `crime up`. It says who this device is, where its own runtime and its
 * neighbours' mappers are, and how to map. Secrets (the shared token) come from a separate file.
 */
export interface NeighbourConfig {
  name: string;
  /** base URL of the neighbour's mapper, e.g. http://gateway.ns.svc:8080 */
  url: string;
  prior?: { rttMs: number; bandwidthMbps: number };
}

export interface MapperConfig {
  device: string;
  /** where this mapper listens */
  listen: { host: string; port: number };
  /** base URL of this device's own runtime (loopback in a pod) */
  runtimeUrl: string;
  neighbours: NeighbourConfig[];
  objective: Objective;
  /** bytes one input step and one response take on the wire; by default from the model */
  payload?: { stepBytes: number; outputBytes: number };
  maxSteps?: number;
  mapping: { forgetting: number; pingIdleSeconds: number; requestTimeoutMs: number };
  power?: PowerModel;
  profile?: { perStepMs: number; fixedMs: number };
  auth: {
    /** file holding the topology's shared token; missing: peers are not authenticated (local mode only) */
    tokenFile?: string;
    /** whether clients need the token too (default: the entry is open) */
    clients: boolean;
  };
  limits: {
    /** largest request body accepted, bytes */
    maxBodyBytes: number;
    /** requests in progress at once before new ones get 503 + Retry-After */
    maxInFlight: number;
  };
}

const TOP = ['device', 'listen', 'runtime', 'neighbours', 'objective', 'payload', 'maxSteps', 'mapping', 'power', 'profile', 'auth', 'limits'];

export function parseMapperConfig(text: string): MapperConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError('', `not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc, '(config)');
  known(root, '', TOP);
  const listen = optObj(root, 'listen', '') ?? {};
  known(listen, 'listen', ['host', 'port']);
  const runtime = obj(root.runtime, 'runtime');
  known(runtime, 'runtime', ['url']);
  const mapping = optObj(root, 'mapping', '') ?? {};
  known(mapping, 'mapping', ['forgetting', 'pingIdleSeconds', 'requestTimeoutMs']);
  const auth = optObj(root, 'auth', '') ?? {};
  known(auth, 'auth', ['tokenFile', 'clients']);
  const limits = optObj(root, 'limits', '') ?? {};
  known(limits, 'limits', ['maxBodyBytes', 'maxInFlight']);
  const config: MapperConfig = {
    device: str(root, 'device', ''),
    listen: {
      host: typeof listen.host === 'string' ? listen.host : '127.0.0.1',
      port: optNum(listen, 'port', 'listen', MAPPER_DEFAULTS.port, { integer: true, min: 0, max: 65535 }),
    },
    runtimeUrl: url(runtime, 'url', 'runtime'),
    neighbours: (root.neighbours === undefined ? [] : list(root.neighbours, 'neighbours')).map((n, i) => neighbour(n, at('neighbours', i))),
    objective: oneOf(root, 'objective', '', ['latency', 'energy'] as const, 'latency'),
    mapping: {
      forgetting: optNum(mapping, 'forgetting', 'mapping', MAPPING_DEFAULTS.forgetting, { above: 0, max: 1 }),
      pingIdleSeconds: optNum(mapping, 'pingIdleSeconds', 'mapping', MAPPING_DEFAULTS.pingIdleSeconds, { above: 0 }),
      requestTimeoutMs: optNum(mapping, 'requestTimeoutMs', 'mapping', MAPPING_DEFAULTS.requestTimeoutMs, { min: 10 }),
    },
    auth: { clients: bool(auth, 'clients', 'auth', false) },
    limits: {
      maxBodyBytes: optNum(limits, 'maxBodyBytes', 'limits', MAPPER_DEFAULTS.maxBodyBytes, { integer: true, min: 1024 }),
      maxInFlight: optNum(limits, 'maxInFlight', 'limits', MAPPER_DEFAULTS.maxInFlight, { integer: true, min: 1 }),
    },
  };
  if (typeof auth.tokenFile === 'string') config.auth.tokenFile = auth.tokenFile;
  const payload = optObj(root, 'payload', '');
  if (payload) {
    known(payload, 'payload', ['stepBytes', 'outputBytes']);
    config.payload = { stepBytes: num(payload, 'stepBytes', 'payload', { above: 0 }), outputBytes: num(payload, 'outputBytes', 'payload', { min: 0 }) };
  }
  if (root.maxSteps !== undefined) config.maxSteps = num(root, 'maxSteps', '', { integer: true, min: 1 });
  const power = optPower(root, 'power', '');
  if (power) config.power = power;
  if (config.objective === 'energy' && !config.power) throw new InvalidInputError('power', 'objective energy needs this device\'s power model');
  const profile = optObj(root, 'profile', '');
  if (profile) {
    known(profile, 'profile', ['perStepMs', 'fixedMs']);
    config.profile = { perStepMs: num(profile, 'perStepMs', 'profile', { min: 0 }), fixedMs: optNum(profile, 'fixedMs', 'profile', 0, { min: 0 }) };
  }
  const names = new Set<string>();
  config.neighbours.forEach((n, i) => {
    if (n.name === config.device) throw new InvalidInputError(at(at('neighbours', i), 'name'), 'a device cannot be its own neighbour');
    if (names.has(n.name)) throw new InvalidInputError(at(at('neighbours', i), 'name'), `duplicate neighbour "${n.name}"`);
    names.add(n.name);
  });
  return config;
}

function url(parent: Obj, key: string, path: string): string {
  const value = str(parent, key, path);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidInputError(at(path, key), `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidInputError(at(path, key), `must be an http(s) URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

function neighbour(v: unknown, path: string): NeighbourConfig {
  const n = obj(v, path);
  known(n, path, ['name', 'url', 'prior']);
  const out: NeighbourConfig = { name: str(n, 'name', path), url: url(n, 'url', path) };
  const prior = optObj(n, 'prior', path);
  if (prior) {
    const p = at(path, 'prior');
    known(prior, p, ['rttMs', 'bandwidthMbps']);
    out.prior = { rttMs: num(prior, 'rttMs', p, { min: 0 }), bandwidthMbps: num(prior, 'bandwidthMbps', p, { above: 0 }) };
  }
  return out;
}

/** The file text of a configuration: what parseMapperConfig reads back as the same configuration. */
export function formatMapperConfig(config: MapperConfig): string {
  const { device, listen, runtimeUrl, ...rest } = config;
  return stringify({ device, listen, runtime: { url: runtimeUrl }, ...rest });
}

export async function loadMapperConfig(file: string): Promise<MapperConfig> {
  return parseMapperConfig(await readFile(file, 'utf8'));
}

/** The shared token, trimmed; undefined when no token file is configured. */
export async function loadToken(config: MapperConfig): Promise<string | undefined> {
  if (!config.auth.tokenFile) return undefined;
  const token = (await readFile(config.auth.tokenFile, 'utf8')).trim();
  if (token.length < 16) throw new InvalidInputError('auth.tokenFile', 'the token must be at least 16 characters');
  return token;
}
