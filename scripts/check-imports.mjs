#!/usr/bin/env node
// Checks the import graph of the TypeScript sources: no import circles between files (type-only
// imports included: a circle of types still means two files that cannot be understood apart), and
// layers that only call downward. Run by `npm run lint`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const SKIP = new Set(['node_modules', 'dist', '.git', 'coverage']);

/**
 * Each top-level part and the parts it may import; whoever may import runtime/ may import its
 * engine, and test files may import anything but the CLI. Ground first: runtime/engine imports
 * nothing of ours; the CLI is the composition root.
 */
const LAYERS = {
  'runtime/engine': [],
  stats: ['runtime'],
  runtime: ['runtime/engine'],
  sim: ['runtime', 'stats'],
  load: ['runtime', 'stats'],
  local: ['runtime'],
  operator: ['runtime'],
  devcluster: ['operator', 'runtime', 'local'],
  bench: ['runtime', 'local', 'load', 'sim', 'stats', 'operator', 'devcluster'],
  test: ['*'],
  cli: ['*'],
};
for (const deps of Object.values(LAYERS)) if (deps.includes('runtime')) deps.push('runtime/engine');

function partOf(file) {
  const rel = relative(root, file);
  if (rel.startsWith('runtime/engine/')) return 'runtime/engine';
  return rel.split('/')[0];
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const files = walk(root).filter((f) => f in LAYERS || partOf(f) in LAYERS);
const graph = new Map();
const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    deps.push(target);
    const from = partOf(file);
    const to = partOf(target);
    const allowed = LAYERS[from] ?? [];
    const isTest = file.endsWith('.test.ts');
    if (from !== to && !allowed.includes('*') && !allowed.includes(to) && !(isTest && to !== 'cli')) {
      problems.push(`${relative(root, file)} imports ${relative(root, target)}: ${from}/ may import only ${allowed.join(', ') || 'nothing outside itself'}`);
    }
  }
  graph.set(file, deps);
}

// Tarjan's strongly connected components: any component of more than one file is a circle.
let index = 0;
const stack = [];
const meta = new Map();
function visit(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!meta.has(w)) {
      visit(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) {
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
  }
  if (meta.get(v).low === meta.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) problems.push(`import circle: ${component.map((f) => relative(root, f)).sort().join(' ⇄ ')}`);
  }
}
for (const v of graph.keys()) if (!meta.has(v)) visit(v);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports: ${files.length} files, no circles, layers respected`);
