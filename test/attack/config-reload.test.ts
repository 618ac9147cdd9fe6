/**
 * #8.2: a configuration file that loses its end must never turn authentication off. A real
 * `crime runtime` and `crime mapper`, the mapper's configuration mounted the way the kubelet
 * mounts a ConfigMap (a timestamped directory, `..data` pointing at it, the file a symlink
 * through `..data`, updates by writing a new directory and renaming a new `..data` over the old).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCrime, stopChild } from '../../local/child.js';
import { MAPPER_DEFAULTS, SERVING_DEFAULTS } from '../../runtime/defaults.js';
import { parseMappingSettings } from '../../runtime/mapping-settings.js';
import { formatMapperConfig, type MapperConfig } from '../../runtime/mapper/config.js';
import { call, infer, metric, sleep, tokens, until, MODEL } from './three-tier.js';

const TOKEN = 'attack-test-token-0123456789';

/** Writes `text` as the ConfigMap's mapper.yaml the way the kubelet does: a new directory, then an atomic `..data` swap. */
async function kubeletUpdate(dir: string, text: string, generation: number): Promise<void> {
  const stamp = `..2026_01_01_00_00_00.${String(generation).padStart(9, '0')}`;
  await mkdir(join(dir, stamp));
  await writeFile(join(dir, stamp, 'mapper.yaml'), text);
  let old: string | undefined;
  try {
    old = await readlink(join(dir, '..data'));
  } catch {
    old = undefined;
  }
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  if (old === undefined) await symlink(join('..data', 'mapper.yaml'), join(dir, 'mapper.yaml'));
  else await rm(join(dir, old), { recursive: true });
}

describe('#8.2 configuration reloads fail closed', { timeout: 180_000 }, () => {
  let dir: string;
  let mount: string;
  let runtime: ChildProcess | undefined;
  let mapper: ChildProcess | undefined;
  let url: string;
  let config: (neighbours: string[]) => MapperConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crime-reload-'));
    mount = join(dir, 'config');
    await mkdir(mount);
    await writeFile(join(dir, 'token'), TOKEN);
    const rt = await startCrime(['runtime', '--model', MODEL, '--port', '0', '--max-steps', '1000'], join(dir, 'runtime.log'));
    runtime = rt.child;
    const { port: _port, ...limits } = MAPPER_DEFAULTS;
    config = (neighbours) => ({
      device: 'gateway',
      listen: { host: '127.0.0.1', port: 0 },
      runtimeUrl: rt.url,
      // Nobody listens there: the neighbours are only names to tell one configuration from another.
      neighbours: neighbours.map((name, k) => ({ name, url: `http://127.0.0.1:${9 + k}` })),
      objective: 'latency',
      maxSteps: 1000,
      mapping: parseMappingSettings({}, 'mapping'),
      serving: { ...SERVING_DEFAULTS.off },
      auth: { tokenFile: join(dir, 'token'), clients: true },
      limits,
    });
    await kubeletUpdate(mount, formatMapperConfig(config(['cloud'])), 1);
    const m = await startCrime(['mapper', '--config', join(mount, 'mapper.yaml')], join(dir, 'mapper.log'));
    mapper = m.child;
    url = m.url;
  });
  after(async () => {
    if (mapper) await stopChild(mapper);
    if (runtime) await stopChild(runtime);
    if (dir && !process.env.CRIME_KEEP_LOGS) await rm(dir, { recursive: true, force: true });
  });

  const neighbours = async (): Promise<unknown> =>
    (await call(`${url}/v1/model`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.neighbours;
  const tokenless = async (): Promise<number> => (await infer(url, tokens(5), { 'crime-origin': 'peer' })).status;
  const refused = (): Promise<number> => metric(url, /crime_mapper_config_reloads_total\{outcome="refused"\}/);

  test('a kubelet-style update (the ..data swap) is applied', async () => {
    assert.deepEqual(await neighbours(), ['cloud']);
    assert.equal(await tokenless(), 401);
    await kubeletUpdate(mount, formatMapperConfig(config(['cloud', 'spare'])), 2);
    await until('the swapped-in configuration applies', async () => JSON.stringify(await neighbours()) === '["cloud","spare"]');
  });

  test('a truncated file is refused, wherever it comes from, and authentication stays on', async () => {
    // What the attack fed the old mapper: the first 150 bytes of a valid file.
    const full = formatMapperConfig(config([]));
    await kubeletUpdate(mount, full.slice(0, 150), 3);
    await until('the truncated file is seen and refused', async () => (await refused()) >= 1);
    // A file written in place, half now and the rest later, as a careless writer would.
    await kubeletUpdate(mount, formatMapperConfig(config(['cloud', 'spare'])), 4);
    await sleep(2500);
    const before = await refused();
    await writeFile(join(mount, 'mapper.yaml'), full.slice(0, Math.floor(full.length / 2)));
    await until('the half-written file is seen and refused', async () => (await refused()) > before);
    assert.equal(await tokenless(), 401);
    assert.deepEqual(await neighbours(), ['cloud', 'spare']);
    await writeFile(join(mount, 'mapper.yaml'), full);
    await until('the completed file applies', async () => JSON.stringify(await neighbours()) === '[]');
    assert.equal(await tokenless(), 401);
  });

  test('a complete file cannot turn authentication off, nor can one without its checksum', async () => {
    const before = await refused();
    const open = { ...config([]), auth: { disabled: true as const } };
    await kubeletUpdate(mount, formatMapperConfig(open), 5);
    await until('the file without authentication is refused', async () => (await refused()) > before);
    const unsealed = formatMapperConfig(config(['x'])).replace(/^checksum: .*\n/, '');
    await kubeletUpdate(mount, unsealed, 6);
    await until('the file without its checksum is refused', async () => (await refused()) > before + 1);
    assert.equal(await tokenless(), 401);
    assert.equal((await infer(url, tokens(5))).status, 401);
    assert.deepEqual(await neighbours(), []);
  });
});
