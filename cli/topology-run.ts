import { dirname } from 'node:path';
import type { LocalSettings } from '../local/settings.js';
import type { LoadFile } from '../sim/load-file.js';
import type { TopologyRun } from '../sim/topology-scenario.js';
import type { Topology } from '../runtime/topology/topology.js';
import { readInputFile } from './options.js';

export interface TopologyRunFiles {
  topology: string;
  /** local settings (crime up --local); without: every device at this machine's speed, plain loopback links */
  local?: string | undefined;
  load: string;
}

export interface ReadTopologyRun {
  topology: Topology;
  /** the topology file's folder: its model path is relative to it */
  baseDir: string;
  settings: LocalSettings;
  load: LoadFile;
  /** what `crime up TOPOLOGY --local SETTINGS` runs under the load, for the simulator */
  run: TopologyRun;
  /** devices at this machine's speed, as measured */
  measured: Record<string, { perStepMs: number; fixedMs: number }>;
}

/**
 * Reads the three inputs of a local run (topology, local settings, load file), each refused with its
 * file and field named, and measures what the simulator needs from the real model: its payload on
 * the wire, and the speed of every device the settings do not emulate.
 */
export async function readTopologyRun(files: TopologyRunFiles): Promise<ReadTopologyRun> {
  const [{ parseTopology, entryOf }, { parseLocalSettings }, { parseLoadFile, eventsFor }, { localModelLocation }, { measureModel }, { payloadOf }, { emulatedSpeed }] = await Promise.all([
    import('../runtime/topology/topology.js'),
    import('../local/settings.js'),
    import('../sim/load-file.js'),
    import('../local/launcher.js'),
    import('../sim/measure-speed.js'),
    import('../runtime/mapper/payload.js'),
    import('../sim/topology-scenario.js'),
  ]);
  const topology = await readInputFile(files.topology, 'topology', parseTopology);
  const settings = files.local === undefined ? { links: [], devices: [] } : await readInputFile(files.local, 'local settings', (text) => parseLocalSettings(text, topology));
  const load = await readInputFile(files.load, 'load', (text) => {
    const parsed = parseLoadFile(text);
    eventsFor(parsed, topology);
    return parsed;
  });
  const baseDir = dirname(files.topology);
  const location = localModelLocation(topology, baseDir);
  // The model's description comes from loading it as a runtime does; each backend that runs a device
  // at full speed is timed on this machine.
  const backends = [...new Set(topology.devices.filter((d) => !emulatedSpeed(settings, d.name)).map((d) => d.backend))];
  const measures = new Map<string, Awaited<ReturnType<typeof measureModel>>>();
  for (const backend of backends.length > 0 ? backends : [entryOf(topology).backend]) {
    measures.set(backend, await measureModel({ location, format: topology.model.format, backend, maxSteps: topology.model.maxSteps }));
  }
  const measured: Record<string, { perStepMs: number; fixedMs: number }> = {};
  for (const d of topology.devices) if (!emulatedSpeed(settings, d.name)) measured[d.name] = measures.get(d.backend)!.speed;
  const info = [...measures.values()][0]!.info;
  const { stepBytes, outputBytes } = topology.model;
  const payload = payloadOf(stepBytes !== undefined && outputBytes !== undefined ? { stepBytes, outputBytes } : undefined, info);
  return { topology, baseDir, settings, load, measured, run: { topology, local: settings, load, payload, measured } };
}
