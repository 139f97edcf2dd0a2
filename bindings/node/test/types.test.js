'use strict';
// The TypeScript declarations: test/ts/dispose.ts type-checks against index.d.ts and
// native.d.ts (with @ts-expect-error lines that fail if the types were `any`), and its
// `await using` scope, compiled by tsc, ends the whole job tree when it closes.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { newMarker, markedPids, killMarked } = require('./helpers');

const ROOT = path.join(__dirname, '..');

test('index.d.ts type-checks, and `await using` ends the job tree', (t) => {
  const marker = newMarker();
  t.after(() => killMarked(marker));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'ts', 'tsconfig.json')], {
    stdio: 'inherit',
  });
  const out = execFileSync(
    process.execPath,
    [path.join(__dirname, 'ts', 'dispose.js'), marker, path.join(__dirname, 'tree.sh')],
    { encoding: 'utf8' },
  );
  const pid = out.match(/^started (\d+) /m)?.[1];
  assert.ok(pid, out);
  assert.match(out, new RegExp(`^disposed ${pid}$`, 'm'));
  assert.match(out, /^after NotFound$/m);
  assert.deepEqual(markedPids(marker), []);
});
