/** Test helper: Unix socket files in the states a restarted process may find them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

/** Leaves a socket file at `path` whose listener was SIGKILLed: nothing removed it, nothing listens on it. */
export function staleSocket(path: string): void {
  const r = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(statSync(path).isSocket(), 'the killed listener left its socket file');
}
