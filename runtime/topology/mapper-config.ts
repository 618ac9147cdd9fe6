import { MAPPER_DEFAULTS } from '../defaults.js';
import { isLoopbackUrl } from '../http/loopback.js';
import { policyDevice } from '../mapping-policy.js';
import { nextHops } from '../offload-graph.js';
import { socketPathProblem, unixAddress, unixSocketPath } from '../http/unix-socket.js';
import type { MapperConfig } from '../mapper/config.js';
import { InvalidInputError } from '../validate.js';
import type { Topology } from './topology.js';

/** Where one device's mapper listens and reaches its runtime, its neighbours and its token. */
export interface DeviceAddresses {
  listen: { host: string; port: number };
  /**
   * the device's own runtime: a loopback http URL (`crime up`), or its Unix socket as `unix:/path`
   * (the operator's pods); nothing else, since the runtime answers anyone who reaches it
   */
  runtimeUrl: string;
  /** base URL of each neighbour's mapper as this device reaches it (a Service, a link emulator) */
  neighbourUrl: (neighbour: string) => string;
  /** the file holding the topology's shared token */
  tokenFile: string;
}

/**
 * One device's mapper configuration, rendered from the topology: what `crime up` writes to a file
 * and the operator puts in the topology's ConfigMap. Pure. The entry device serves clients with
 * the topology's objective and without a token; every other mapper serves only peers, which
 * always carry the token, and routes for latency.
 */
export function renderMapperConfig(topology: Topology, deviceName: string, addresses: DeviceAddresses): MapperConfig {
  const device = topology.devices.find((d) => d.name === deviceName);
  if (!device) throw new InvalidInputError('device', `no device "${deviceName}" in topology ${topology.name}`);
  const runtimeUrl = localRuntime(addresses.runtimeUrl);
  const { stepBytes, outputBytes } = topology.model;
  const target = policyDevice(topology.mapping.policy);
  const via = target === undefined ? undefined : nextHops(topology.devices).get(device.name)?.get(target);
  return {
    device: device.name,
    listen: addresses.listen,
    runtimeUrl,
    neighbours: device.offloadTo.map((name) => ({ name, url: addresses.neighbourUrl(name) })),
    objective: device.entry ? topology.objective : 'latency',
    ...(stepBytes !== undefined && outputBytes !== undefined ? { payload: { stepBytes, outputBytes } } : {}),
    maxSteps: topology.model.maxSteps,
    mapping: { ...topology.mapping },
    ...(via !== undefined ? { via } : {}),
    serving: { ...device.serving },
    ...(device.power ? { power: device.power } : {}),
    ...(device.profile ? { profile: device.profile } : {}),
    auth: { tokenFile: addresses.tokenFile, clients: !device.entry },
    limits: {
      maxBodyBytes: MAPPER_DEFAULTS.maxBodyBytes,
      maxBodyBytesInFlight: MAPPER_DEFAULTS.maxBodyBytesInFlight,
      maxInFlight: MAPPER_DEFAULTS.maxInFlight,
      maxConnectionsPerClient: MAPPER_DEFAULTS.maxConnectionsPerClient,
      headersTimeoutMs: MAPPER_DEFAULTS.headersTimeoutMs,
      bodyTimeoutMs: MAPPER_DEFAULTS.bodyTimeoutMs,
      idleTimeoutMs: MAPPER_DEFAULTS.idleTimeoutMs,
    },
  };
}

/** The runtime's address if its mapper alone can reach it: a Unix socket, or loopback TCP. */
function localRuntime(address: string): string {
  const socket = unixSocketPath(address);
  if (socket !== undefined) {
    const problem = socketPathProblem(socket);
    if (problem !== undefined) throw new InvalidInputError('runtimeUrl', `${address}: the socket path ${problem}`);
    return unixAddress(socket);
  }
  let loopback: boolean;
  try {
    loopback = isLoopbackUrl(address);
  } catch {
    throw new InvalidInputError('runtimeUrl', `${address}: not a URL; give http://127.0.0.1:PORT or unix:/path/to/socket`);
  }
  if (!loopback) {
    throw new InvalidInputError('runtimeUrl', `${address}: the runtime answers anyone who reaches it, so its mapper must reach it on loopback or through a Unix socket`);
  }
  return address;
}
