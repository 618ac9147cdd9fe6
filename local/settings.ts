import { parse as parseYaml } from 'yaml';
import type { EmulatedProfile } from '../runtime/backends/emulated.js';
import type { Topology } from '../runtime/topology/topology.js';
import { InvalidInputError, at, known, list, num, obj, optNum, str } from '../runtime/validate.js';
import { LINK_LIMITS, type LinkConditions } from './link-emulator.js';

/**
 * What a local run needs beyond the RnnTopology: the emulated links between neighbours (every
 * offloadTo pair; RTT 0 and no bandwidth limit unless given) and, per device, the compute profile
 * it should behave like (perStepMs·n + fixedMs), so an edge node can be told from a cloud GPU on one
 * laptop. A device without a profile runs at this machine's speed.
 */
export interface LocalSettings {
  links: Array<{ from: string; to: string } & LinkConditions>;
  devices: Array<{ name: string; emulate: EmulatedProfile }>;
}

export function parseLocalSettings(text: string, topology: Topology): LocalSettings {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError('', `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const root = obj(doc ?? {}, '(local settings)');
  known(root, '', ['links', 'devices']);
  const names = new Set(topology.devices.map((d) => d.name));
  const links = (root.links === undefined ? [] : list(root.links, 'links')).map((v, i) => {
    const p = at('links', i);
    const l = obj(v, p);
    known(l, p, ['from', 'to', 'rttMs', 'bandwidthMbps']);
    const from = str(l, 'from', p);
    const to = str(l, 'to', p);
    if (!topology.devices.find((d) => d.name === from)?.offloadTo.includes(to)) {
      throw new InvalidInputError(p, `${from} does not offload to ${to} in topology ${topology.name}`);
    }
    return {
      from,
      to,
      rttMs: num(l, 'rttMs', p, { min: 0, max: LINK_LIMITS.maxRttMs }),
      bandwidthMbps: optNum(l, 'bandwidthMbps', p, Infinity, { above: 0, max: LINK_LIMITS.maxBandwidthMbps }),
    };
  });
  const devices = (root.devices === undefined ? [] : list(root.devices, 'devices')).map((v, i) => {
    const p = at('devices', i);
    const d = obj(v, p);
    known(d, p, ['name', 'perStepMs', 'fixedMs']);
    const name = str(d, 'name', p);
    if (!names.has(name)) throw new InvalidInputError(at(p, 'name'), `unknown device "${name}"`);
    return { name, emulate: { perStepMs: num(d, 'perStepMs', p, { min: 0 }), fixedMs: optNum(d, 'fixedMs', p, 0, { min: 0 }) } };
  });
  return { links, devices };
}

/** The link between two neighbours: as configured, or a plain loopback hop. */
export function linkFor(settings: LocalSettings, from: string, to: string): LinkConditions {
  const l = settings.links.find((x) => x.from === from && x.to === to);
  return { rttMs: l?.rttMs ?? 0, bandwidthMbps: l?.bandwidthMbps ?? Infinity };
}

export function emulationOf(settings: LocalSettings, device: string): EmulatedProfile | undefined {
  return settings.devices.find((d) => d.name === device)?.emulate;
}
