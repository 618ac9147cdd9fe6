import { InvalidInputError, at } from './validate.js';

/** A device of an offload graph, in a scenario or a topology. */
export interface GraphNode {
  name: string;
  entry: boolean;
  offloadTo: readonly string[];
}

/**
 * The rules every offload graph follows, in a simulator scenario or an RnnTopology: unique device
 * names, exactly one entry device, offloadTo naming other existing devices, and no cycle. Errors
 * name the field under `field` (the devices list).
 */
export function checkOffloadGraph(nodes: readonly GraphNode[], field: string): void {
  const names = new Set<string>();
  nodes.forEach((d, i) => {
    if (names.has(d.name)) throw new InvalidInputError(at(at(field, i), 'name'), `duplicate device name "${d.name}"`);
    names.add(d.name);
  });
  if (nodes.length === 0) throw new InvalidInputError(field, 'must list at least one device');
  const entries = nodes.filter((d) => d.entry).length;
  if (entries !== 1) throw new InvalidInputError(field, `exactly one device must have entry: true (found ${entries})`);
  nodes.forEach((d, i) =>
    d.offloadTo.forEach((target, j) => {
      const p = at(at(at(field, i), 'offloadTo'), j);
      if (!names.has(target)) throw new InvalidInputError(p, `unknown device "${target}"`);
      if (target === d.name) throw new InvalidInputError(p, 'a device cannot offload to itself');
    }),
  );
  assertAcyclic(nodes, field);
}

/** A cycle of the offload graph: the CRD cannot see one longer than a self-loop, so the operator reports it by this type. */
export class OffloadCycleError extends InvalidInputError {
  constructor(field: string, readonly cycle: string[]) {
    super(field, `the offload graph has a cycle: ${cycle.join(' -> ')}`);
  }
}

/** Throws an OffloadCycleError at `field` naming a cycle of the offload graph, if there is one. */
function assertAcyclic(nodes: readonly GraphNode[], field: string): void {
  const byName = new Map(nodes.map((d) => [d.name, d]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new OffloadCycleError(field, [...trail, name]);
    state.set(name, 'visiting');
    for (const next of byName.get(name)?.offloadTo ?? []) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const d of nodes) visit(d.name, []);
}

/**
 * For every device, the first hop on a shortest offload path to every device it can reach (itself
 * left out): how a request pinned to a device travels there, in the simulator's single-device
 * policies and under the `device:<name>` mapping policy alike.
 */
export function nextHops(nodes: readonly GraphNode[]): Map<string, Map<string, string>> {
  const byName = new Map(nodes.map((d) => [d.name, d]));
  const out = new Map<string, Map<string, string>>();
  for (const d of nodes) {
    const hops = new Map<string, string>();
    const queue: Array<[string, string]> = d.offloadTo.map((t) => [t, t]);
    while (queue.length > 0) {
      const [at, first] = queue.shift() as [string, string];
      if (hops.has(at) || at === d.name) continue;
      hops.set(at, first);
      for (const t of byName.get(at)?.offloadTo ?? []) queue.push([t, first]);
    }
    out.set(d.name, hops);
  }
  return out;
}

/** The entry and the devices it can reach along offloadTo, in the list's order. */
export function reachableFromEntry(nodes: readonly GraphNode[]): string[] {
  const entry = nodes.find((d) => d.entry);
  if (!entry) return [];
  const hops = nextHops(nodes).get(entry.name) as Map<string, string>;
  return nodes.map((d) => d.name).filter((n) => n === entry.name || hops.has(n));
}
