/**
 * HTTP over a Unix domain socket between two processes of one pod (the mapper and its runtime):
 * the address form, and listening safely on a socket file.
 *
 * Address form: `unix:/absolute/path.sock` (as nginx, gRPC and Docker write it; `unix:///path`
 * is read the same). Only this file knows the form; everything else asks unixSocketPath().
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Server } from 'node:net';
import { CrimeError } from '../errors.js';

/** Linux's sun_path holds 108 bytes with the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Permissions of a socket this project listens on: owner and group may connect, nobody else. */
export const SOCKET_MODE = 0o660;

/** Why `path` cannot be a socket path, or undefined when it can. */
export function socketPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `must be an absolute path, got ${JSON.stringify(path)}`;
  if (path.endsWith('/')) return `must name a file, not a directory: ${JSON.stringify(path)}`;
  if (path.includes('\0')) return 'must not contain NUL';
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) return `is ${bytes} bytes long; a Unix socket path takes at most ${MAX_SOCKET_PATH_BYTES}`;
  return undefined;
}

/** The socket path of a `unix:` address, or undefined for any other string (an http URL). */
export function unixSocketPath(address: string): string | undefined {
  if (!address.startsWith('unix:')) return undefined;
  const rest = address.slice('unix:'.length);
  return rest.startsWith('///') ? rest.slice(2) : rest;
}

/** The `unix:` address of a socket path. */
export function unixAddress(path: string): string {
  return `unix:${path}`;
}

/** Whether something accepts connections on the socket file `path` right now. */
function answers(path: string, timeoutMs: number): Promise<'yes' | 'no' | 'unknown'> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (v: 'yes' | 'no' | 'unknown'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => done('yes'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'no' : 'unknown'));
  });
}

/**
 * Makes `path` free for a new listener: a socket file nobody listens on any more (its process was
 * killed, so nothing removed it) is deleted; a live one, or anything that is not a socket, is
 * refused (CONFLICT, INVALID_INPUT), never deleted.
 */
export async function clearStaleSocket(path: string, probeTimeoutMs = 1000): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new CrimeError('INVALID_INPUT', `${path} exists and is not a socket; refusing to replace it`);
  const live = await answers(path, probeTimeoutMs);
  if (live !== 'no') {
    throw new CrimeError('CONFLICT', live === 'yes'
      ? `another process listens on ${path}; stop it first`
      : `cannot tell whether another process listens on ${path} (it neither accepted nor refused a connection); not replacing it`);
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/**
 * Listens on the Unix socket `path` with mode SOCKET_MODE. The socket file is created with that
 * mode (the process umask is narrowed around the bind, which Node does synchronously inside
 * listen()), so there is no moment at which a wider one could be connected to. A stale socket
 * file is replaced, a live one refused (see clearStaleSocket). Node removes the file on close.
 */
export async function listenOnSocket(server: Server, path: string): Promise<void> {
  const problem = socketPathProblem(path);
  if (problem !== undefined) throw new CrimeError('INVALID_INPUT', `socket path ${problem}`);
  await clearStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE'
        ? new CrimeError('CONFLICT', `${path} was taken by another process while this one started`, { cause: err })
        : err);
    };
    server.once('error', failed);
    const umask = process.umask(0o777 & ~SOCKET_MODE);
    try {
      server.listen(path, () => {
        server.off('error', failed);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  // Belt and braces (a filesystem that ignores the umask for sockets): the mode is set explicitly too.
  await chmod(path, SOCKET_MODE);
}
