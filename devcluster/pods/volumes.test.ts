import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { applyFsGroup } from './volumes.js';

const dir = mkdtempSync(join(tmpdir(), 'crime-volumes-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('fsGroup hands a volume to the group as the kubelet does: group-readable files, setgid folders, writable only if the volume is', () => {
  const gid = process.getgid?.() ?? 0;
  mkdirSync(join(dir, 'secret', '..data'), { recursive: true });
  writeFileSync(join(dir, 'secret', '..data', 'token'), 'x', { mode: 0o400 });
  symlinkSync('..data/token', join(dir, 'secret', 'token'));
  applyFsGroup(join(dir, 'secret'), gid, true);
  const token = statSync(join(dir, 'secret', '..data', 'token'));
  assert.equal(token.mode & 0o777, 0o440);
  assert.equal(token.gid, gid);
  assert.equal(statSync(join(dir, 'secret')).mode & 0o2000, 0o2000, 'setgid folder');
  mkdirSync(join(dir, 'empty'), { mode: 0o777 });
  writeFileSync(join(dir, 'empty', 'f'), 'x', { mode: 0o600 });
  applyFsGroup(join(dir, 'empty'), gid, false);
  assert.equal(statSync(join(dir, 'empty', 'f')).mode & 0o777, 0o660);
});
