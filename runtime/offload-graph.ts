import { InvalidInputError } from './validate.js';

/** A device of an offload graph, in a scenario or a topology. */
export interface GraphNode {
  name: string;
  offloadTo: readonly string[];
}

/** Throws an InvalidInputError at `field` naming a cycle of the offload graph, if there is one. */
export function assertAcyclic(nodes: readonly GraphNode[], field: string): void {
  const byName = new Map(nodes.map((d) => [d.name, d]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new InvalidInputError(field, `the offload graph has a cycle: ${[...trail, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const next of byName.get(name)?.offloadTo ?? []) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const d of nodes) visit(d.name, []);
}
