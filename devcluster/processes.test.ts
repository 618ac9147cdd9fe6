/** No orphans: process groups die on stop(), on SIGINT/SIGTERM and, through the watchdog, on SIGKILL. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ManagedProcess, ProcessRegistry } from './processes.js';
import { waitFor } from './wait.js';

const fixture = fileURLToPath(new URL('./fixtures/hold-process.js', import.meta.url));

/** True while the pid exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const gone = (pids: number[], what: string): Promise<boolean> =>
  waitFor(async () => (pids.every((p) => !alive(p)) ? true : undefined), { what, timeoutMs: 5_000, intervalMs: 50 });

/** Runs the fixture and returns it with the pids of its group's processes. */
async function holdProcess(mode: 'handlers' | 'watchdog', workDir: string): Promise<{ fixturePid: number; pids: number[] }> {
  const child = spawn(process.execPath, [fixture, mode, workDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${String(code)}`)));
  });
  const pids = line.split(' ').map(Number);
  assert.equal(pids.length, 2);
  return { fixturePid: child.pid ?? 0, pids };
}

describe('ManagedProcess', () => {
  it('stop() ends the whole process group', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'crime-processes-'));
    try {
      const registry = new ProcessRegistry();
      const pidFile = join(workDir, 'grandchild.pid');
      const p = ManagedProcess.start({
        name: 'sleeper',
        command: 'bash',
        args: ['-c', `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`],
        logFile: join(workDir, 'log'),
        registry,
      });
      const grandchild = await waitFor(async () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined), {
        what: 'grandchild pid',
      });
      // bash ignores SIGTERM here, so this also checks the SIGKILL after the grace period.
      const exit = await p.stop(300);
      assert.equal(exit.signal, 'SIGKILL');
      await gone([p.pid, grandchild], 'the sleeper group to die');
      registry.close();
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('reports a missing binary as an error with the process name', () => {
    assert.throws(
      () => ManagedProcess.start({ name: 'nothing', command: '/nonexistent/binary', args: [], logFile: '/dev/null' }),
      /nothing: could not start/,
    );
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`kills the groups when the test process gets ${signal}`, async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'crime-processes-'));
      try {
        const { fixturePid, pids } = await holdProcess('handlers', workDir);
        process.kill(fixturePid, signal);
        await gone([fixturePid, ...pids], `the fixture and its group to die after ${signal}`);
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    });
  }

  it('the watchdog kills the groups and removes the folder when the test process is SIGKILLed', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'crime-processes-'));
    try {
      const { fixturePid, pids } = await holdProcess('watchdog', workDir);
      process.kill(fixturePid, 'SIGKILL');
      await gone(pids, 'the group to die after SIGKILL of its owner');
      await waitFor(async () => (existsSync(workDir) ? undefined : true), { what: 'the watchdog to remove the folder', timeoutMs: 5_000 });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
