/**
 * A long-running command stays up until SIGTERM or SIGINT whatever its stdin is, then drains and
 * exits 0: real processes running announceUntilSignal with nothing else holding their event loop
 * (what `crime cluster up` without --operator is), under /dev/null, a closed and an open pipe, a
 * terminal (a pty from script(1)), nohup and a new session as a service manager starts it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { untilSignal } from './until-signal.js';

const fixture = fileURLToPath(new URL('./fixtures/announce-until-signal.js', import.meta.url));

interface Running {
  child: ChildProcess;
  /** the fixture's own pid (not script's or nohup's) */
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function run(command: string, args: string[], stdin: 'ignore' | 'pipe', options: { detached?: boolean } = {}): Promise<Running> {
  const child = spawn(command, args, { stdio: [stdin, 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(({ code, signal }) => reject(new Error(`exited before it was ready (${String(code ?? signal)}): ${out}`)));
  });
  return { child, pid, output: () => out, exited };
}

/** Sends the signals to the fixture in order, then expects a clean stop. */
async function expectStops(r: Running, signals: NodeJS.Signals[]): Promise<void> {
  for (const s of signals) process.kill(r.pid, s);
  const { code, signal } = await r.exited;
  assert.equal(signal, null, `killed by ${String(signal)}: ${r.output()}`);
  assert.equal(code, 0, r.output());
  assert.match(r.output(), /stopped/);
}

describe('announceUntilSignal in a real process: up until SIGTERM or SIGINT, whatever stdin is', () => {
  test('stdin /dev/null', async () => {
    await expectStops(await run(process.execPath, [fixture], 'ignore'), ['SIGTERM']);
  });

  test('stdin a pipe closed at once', async () => {
    const r = await run(process.execPath, [fixture], 'pipe');
    r.child.stdin?.end();
    await expectStops(r, ['SIGINT']);
  });

  test('stdin a pipe left open', async () => {
    const r = await run(process.execPath, [fixture], 'pipe');
    await expectStops(r, ['SIGTERM']);
    r.child.stdin?.destroy();
  });

  test('on a terminal (a pty): SIGHUP, the terminal going away, stops it like SIGTERM', async () => {
    const r = await run('script', ['-qec', `${process.execPath} ${fixture}`, '/dev/null'], 'pipe');
    await expectStops(r, ['SIGHUP']);
    r.child.stdin?.destroy();
  });

  test('under nohup: SIGHUP is ignored, SIGTERM stops it', async () => {
    const r = await run('nohup', [process.execPath, fixture], 'ignore');
    await expectStops(r, ['SIGHUP', 'SIGTERM']);
  });

  test('in a session of its own, as a service manager starts it: SIGHUP is ignored, SIGTERM stops it', async () => {
    const r = await run(process.execPath, [fixture], 'ignore', { detached: true });
    await expectStops(r, ['SIGHUP', 'SIGTERM']);
  });
});

test('other listeners of the signal still see it handled, whichever listener came first', async () => {
  const stop = untilSignal({ terminal: false });
  let seen = 0;
  // As devcluster/processes.ts does: kill everything only when nobody else handles the signal.
  const other = (): void => {
    seen = process.listenerCount('SIGINT');
  };
  process.on('SIGINT', other);
  const before = process.listenerCount('SIGINT');
  process.emit('SIGINT', 'SIGINT');
  assert.equal(seen, before, 'the other listener ran with ours still there');
  assert.equal(await stop.signalled, 'SIGINT');
  assert.equal(process.listenerCount('SIGINT'), before - 1, 'ours is gone once the signal was handled');
  process.off('SIGINT', other);
});
