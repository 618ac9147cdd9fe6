import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, stringify } from 'yaml';
import type { Objective, PowerModel } from '../engine/types.js';
import { InvalidInputError, at, bool, isObj, known, list, num, obj, oneOf, optNum, optObj, optPower, str, type Obj } from '../validate.js';
import { MAPPER_DEFAULTS } from '../defaults.js';
import { parseMappingSettings, type MappingSettings } from '../mapping-settings.js';
import { policyDevice } from '../mapping-policy.js';
import { parseServingSettings, type ServingSettings } from '../serving-settings.js';
import { SERVING_DEFAULTS } from '../defaults.js';
import { socketPathProblem, unixAddress, unixSocketPath } from '../http/unix-socket.js';

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
  /**
   * this device's own runtime: an http URL (loopback: `crime up`), or its Unix socket as
   * `unix:/path` (in a pod: a socket in an emptyDir only the runtime and the mapper mount)
   */
  runtimeUrl: string;
  neighbours: NeighbourConfig[];
  objective: Objective;
  /** bytes one input step and one response take on the wire; by default from the model */
  payload?: { stepBytes: number; outputBytes: number };
  maxSteps?: number;
  mapping: MappingSettings;
  /**
   * With mapping.policy device:<name>: the neighbour on the way to that device (rendered from the
   * topology's offload graph). Absent there, the device is this one or out of reach: serve locally.
   */
  via?: string;
  /** how this device's runtime serves (batching, concurrency): its queue and cost model; default off */
  serving: ServingSettings;
  power?: PowerModel;
  profile?: { perStepMs: number; fixedMs: number };
  auth: MapperAuth;
  limits: MapperLimits;
}

/**
 * Who may call the mapper. Required in every file, so a file that lost it is refused rather than
 * read as "no authentication" (fail closed).
 */
export type MapperAuth =
  | {
      /** file holding the topology's shared token: peers and pings always need it */
      tokenFile: string;
      /** whether clients need the token too: true (the default) everywhere but at an open entry */
      clients: boolean;
      disabled?: undefined;
    }
  /** no authentication at all: loopback experiments only (tokenFile and clients read as absent) */
  | { disabled: true; tokenFile?: undefined; clients?: undefined };

export interface MapperLimits {
  /** largest request body accepted, bytes */
  maxBodyBytes: number;
  /** request bodies being received at once, all together, bytes; more → 503 + Retry-After */
  maxBodyBytesInFlight: number;
  /** requests being mapped at once (bodies already read) before new ones get 503 + Retry-After */
  maxInFlight: number;
  /** open connections from one client address; more are closed at once */
  maxConnectionsPerClient: number;
  /** a request's headers must arrive within this long of its first byte */
  headersTimeoutMs: number;
  /** a request's body must arrive within this long of its headers (408 otherwise) */
  bodyTimeoutMs: number;
  /** a connection with no bytes either way for this long is closed */
  idleTimeoutMs: number;
}

const TOP = ['device', 'listen', 'runtime', 'neighbours', 'objective', 'payload', 'maxSteps', 'mapping', 'via', 'serving', 'power', 'profile', 'auth', 'limits', 'checksum'];
const LIMITS = ['maxBodyBytes', 'maxBodyBytesInFlight', 'maxInFlight', 'maxConnectionsPerClient', 'headersTimeoutMs', 'bodyTimeoutMs', 'idleTimeoutMs'] as const;

/** JSON with keys sorted at every level: the same document always gives the same text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function checksumOf(doc: Obj): string {
  const { checksum: _ignored, ...content } = doc;
  return `sha256:${createHash('sha256').update(canonical(content)).digest('hex')}`;
}

/** A configuration file read back: the configuration, and whether the file carried a valid checksum. */
export interface MapperConfigFile {
  config: MapperConfig;
  /**
   * The file carries the checksum formatMapperConfig writes over its content. A truncated or
   * half-written file cannot match it, so a sealed file is complete or refused.
   */
  sealed: boolean;
}

export function parseMapperConfig(text: string): MapperConfig {
  return readMapperConfig(text).config;
}

export function readMapperConfig(text: string): MapperConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError('', `not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc, '(config)');
  known(root, '', TOP);
  const sealed = root.checksum !== undefined;
  if (sealed && root.checksum !== checksumOf(root)) {
    throw new InvalidInputError('checksum', 'does not match the content: the file is incomplete or was changed after it was written (remove the checksum to edit it by hand)');
  }
  return { config: configOf(root), sealed };
}

function authOf(root: Obj): MapperAuth {
  if (root.auth === undefined || root.auth === null) {
    throw new InvalidInputError('auth', 'is required: auth.tokenFile (the topology\'s shared token), or auth.disabled: true for a mapper without authentication (loopback experiments only)');
  }
  const auth = obj(root.auth, 'auth');
  known(auth, 'auth', ['tokenFile', 'clients', 'disabled']);
  if (auth.disabled !== undefined) {
    if (auth.disabled !== true) throw new InvalidInputError('auth.disabled', 'must be true or absent');
    if (auth.tokenFile !== undefined || auth.clients !== undefined) throw new InvalidInputError('auth', 'disabled: true excludes tokenFile and clients');
    return { disabled: true };
  }
  return { tokenFile: str(auth, 'tokenFile', 'auth'), clients: bool(auth, 'clients', 'auth', true) };
}

function limitsOf(root: Obj): MapperLimits {
  const limits = optObj(root, 'limits', '') ?? {};
  known(limits, 'limits', LIMITS);
  const int = (key: (typeof LIMITS)[number], min: number): number => optNum(limits, key, 'limits', MAPPER_DEFAULTS[key], { integer: true, min });
  const out: MapperLimits = {
    maxBodyBytes: int('maxBodyBytes', 1024),
    maxBodyBytesInFlight: int('maxBodyBytesInFlight', 1024),
    maxInFlight: int('maxInFlight', 1),
    maxConnectionsPerClient: int('maxConnectionsPerClient', 1),
    headersTimeoutMs: int('headersTimeoutMs', 100),
    bodyTimeoutMs: int('bodyTimeoutMs', 100),
    idleTimeoutMs: int('idleTimeoutMs', 100),
  };
  if (out.maxBodyBytesInFlight < out.maxBodyBytes) throw new InvalidInputError('limits.maxBodyBytesInFlight', `must be at least maxBodyBytes (${out.maxBodyBytes})`);
  return out;
}

function configOf(root: Obj): MapperConfig {
  const listen = optObj(root, 'listen', '') ?? {};
  known(listen, 'listen', ['host', 'port']);
  const runtime = obj(root.runtime, 'runtime');
  known(runtime, 'runtime', ['url']);
  const config: MapperConfig = {
    device: str(root, 'device', ''),
    listen: {
      host: typeof listen.host === 'string' ? listen.host : '127.0.0.1',
      port: optNum(listen, 'port', 'listen', MAPPER_DEFAULTS.port, { integer: true, min: 0, max: 65535 }),
    },
    runtimeUrl: runtimeAddress(runtime, 'url', 'runtime'),
    neighbours: (root.neighbours === undefined ? [] : list(root.neighbours, 'neighbours')).map((n, i) => neighbour(n, at('neighbours', i))),
    objective: oneOf(root, 'objective', '', ['latency', 'energy'] as const, 'latency'),
    mapping: parseMappingSettings(optObj(root, 'mapping', '') ?? {}, 'mapping'),
    serving: parseServingSettings(optObj(root, 'serving', '') ?? {}, 'serving', SERVING_DEFAULTS.off),
    auth: authOf(root),
    limits: limitsOf(root),
  };
  const payload = optObj(root, 'payload', '');
  if (payload) {
    known(payload, 'payload', ['stepBytes', 'outputBytes']);
    config.payload = { stepBytes: num(payload, 'stepBytes', 'payload', { above: 0 }), outputBytes: num(payload, 'outputBytes', 'payload', { min: 0 }) };
  }
  if (root.maxSteps !== undefined) config.maxSteps = num(root, 'maxSteps', '', { integer: true, min: 1 });
  const power = optPower(root, 'power', '');
  if (power) config.power = power;
  if (config.limits.idleTimeoutMs <= config.mapping.requestTimeoutMs) {
    throw new InvalidInputError('limits.idleTimeoutMs', `must be longer than mapping.requestTimeoutMs (${config.mapping.requestTimeoutMs}): a connection waiting for its answer is silent meanwhile`);
  }
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
  if (root.via !== undefined) {
    const via = str(root, 'via', '');
    if (policyDevice(config.mapping.policy) === undefined) throw new InvalidInputError('via', 'only goes with mapping.policy device:<name>');
    if (!names.has(via)) throw new InvalidInputError('via', `must name a neighbour, got "${via}"`);
    config.via = via;
  }
  return config;
}

function url(parent: Obj, key: string, path: string, what = 'an http(s) URL'): string {
  const value = str(parent, key, path);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidInputError(at(path, key), `must be ${what}, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidInputError(at(path, key), `must be ${what}, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

/** The runtime's address: an http(s) URL, or `unix:/absolute/path` (`unix:///path` reads the same). */
function runtimeAddress(parent: Obj, key: string, path: string): string {
  const value = str(parent, key, path);
  const socket = unixSocketPath(value);
  if (socket === undefined) return url(parent, key, path, 'an http(s) URL or unix:/path/to/socket');
  const problem = socketPathProblem(socket);
  if (problem !== undefined) throw new InvalidInputError(at(path, key), `a unix: address's socket path ${problem}`);
  return unixAddress(socket);
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

/**
 * The file text of a configuration: what parseMapperConfig reads back as the same configuration,
 * sealed with a checksum of its content on the first line (see MapperConfigFile.sealed): any
 * prefix of the file, however it was cut, is refused.
 */
export function formatMapperConfig(config: MapperConfig): string {
  const { device, listen, runtimeUrl, ...rest } = config;
  // Through JSON, so the checksum covers exactly what the YAML holds (no undefined fields).
  const doc = JSON.parse(JSON.stringify({ device, listen, runtime: { url: runtimeUrl }, ...rest })) as Obj;
  return stringify({ checksum: checksumOf(doc), ...doc });
}

export async function loadMapperConfig(file: string): Promise<MapperConfigFile> {
  return readMapperConfig(await readFile(file, 'utf8'));
}

/** The shared token, trimmed; undefined when authentication is disabled. */
export async function loadToken(config: MapperConfig): Promise<string | undefined> {
  if (config.auth.disabled) return undefined;
  const token = (await readFile(config.auth.tokenFile, 'utf8')).trim();
  if (token.length < 16) throw new InvalidInputError('auth.tokenFile', 'the token must be at least 16 characters');
  return token;
}
