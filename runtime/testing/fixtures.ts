/**
 * Test helpers: generate real models into a temp directory (once per process per preset and format),
 * and serve a directory over loopback HTTP to exercise URL loading.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { generateModel, type GeneratedModel } from '../models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../models/spec.js';

let dirPromise: Promise<string> | undefined;
const generated = new Map<string, Promise<GeneratedModel>>();

export function fixtureDir(): Promise<string> {
  dirPromise ??= mkdtemp(join(tmpdir(), 'crime-models-'));
  return dirPromise;
}

/** Generates a preset in both formats into the process's fixture directory (cached). */
export async function fixtureModel(preset: ModelPresetName): Promise<Required<GeneratedModel>> {
  let p = generated.get(preset);
  if (p === undefined) {
    p = fixtureDir().then((outDir) => generateModel({ spec: MODEL_PRESETS[preset], formats: ['onnx', 'tfjs'], outDir }));
    generated.set(preset, p);
  }
  const g = await p;
  if (g.onnx === undefined || g.tfjs === undefined) throw new Error('fixture generation produced no files');
  return { onnx: g.onnx, tfjs: g.tfjs };
}

export async function removeFixtures(): Promise<void> {
  if (dirPromise !== undefined) await rm(await dirPromise, { recursive: true, force: true });
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves files under `root` on 127.0.0.1, or `host` (GET only, no directory listing). */
export async function serveDirectory(root: string, host = '127.0.0.1'): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    stat(path).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
