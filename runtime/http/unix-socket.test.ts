import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CrimeError } from '../errors.js';
import { staleSocket } from '../testing/sockets.js';
import { clearStaleSocket, listenOnSocket, MAX_SOCKET_PATH_BYTES, socketPathProblem, unixAddress, unixSocketPath } from './unix-socket.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crime-sock-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

test('unix: addresses: both spellings read as the path; anything else is not one', () => {
  assert.equal(unixSocketPath('unix:/var/run/crime/sock/runtime.sock'), '/var/run/crime/sock/runtime.sock');
  assert.equal(unixSocketPath('unix:///var/run/x.sock'), '/var/run/x.sock');
  assert.equal(unixSocketPath('http://127.0.0.1:8081'), undefined);
  assert.equal(unixAddress('/a/b.sock'), 'unix:/a/b.sock');
});

test('socket paths must be absolute files that fit in sun_path', () => {
  assert.equal(socketPathProblem('/var/run/crime/sock/runtime.sock'), undefined);
  assert.match(socketPathProblem('run/x.sock') ?? '', /absolute/);
  assert.match(socketPathProblem('/var/run/') ?? '', /not a directory/);
  assert.equal(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES - 1)}`), undefined);
  assert.match(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES)}`) ?? '', /at most 107/);
});

test('listenOnSocket: mode 0660, served, and the file goes with the listener', async () => {
  const path = join(dir, 'fresh.sock');
  const server = createServer((c) => c.end('hi'));
  await listenOnSocket(server, path);
  assert.equal(statSync(path).mode & 0o777, 0o660);
  await close(server);
  assert.equal(existsSync(path), false);
});

test('a stale socket file is replaced; a live one is refused, and left alone', async () => {
  const path = join(dir, 'stale.sock');
  staleSocket(path);
  const server = createServer();
  await listenOnSocket(server, path);
  assert.ok(server.listening);
  const second = createServer();
  await assert.rejects(listenOnSocket(second, path), (err: unknown) => err instanceof CrimeError && err.code === 'CONFLICT' && /another process listens/.test(err.message));
  assert.ok(statSync(path).isSocket(), 'the live socket is still there');
  await close(server);
});

test('what is not a socket is never deleted', async () => {
  const path = join(dir, 'regular');
  await writeFile(path, 'precious');
  await assert.rejects(clearStaleSocket(path), /is not a socket/);
  assert.ok(existsSync(path));
  await clearStaleSocket(join(dir, 'absent.sock'));
  await assert.rejects(listenOnSocket(createServer(), 'relative.sock'), /absolute/);
});
