#!/usr/bin/env node
import { runCli } from './cli.js';

// Processes started by `crime up` stop when their launcher goes away, even if it was killed:
// the launcher holds our stdin, and the pipe closes with it.
if (process.env.CRIME_EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
}

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
if (process.env.CRIME_EXIT_WITH_PARENT === '1') process.stdin.destroy();
