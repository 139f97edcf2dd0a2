'use strict';
// Forced PID reuse in a fresh PID namespace: signalIf and verifyIdentity with a stored
// identity never hit the newcomer that took the PID (see reuse-scenario.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { requireCapability, isRoot, have } = require('./helpers');

test('a guarded signal never reaches a newcomer that reused the PID', (t) => {
  if (!requireCapability(t, 'root (a PID namespace, ns_last_pid)', isRoot())) return;
  if (!requireCapability(t, 'unshare(1)', have('unshare'))) return;
  if (!requireCapability(t, 'perl (a newcomer that blocks TERM)', have('perl'))) return;
  const rounds = 20;
  const out = execFileSync(
    'unshare',
    ['--pid', '--fork', '--mount-proc', process.execPath, `${__dirname}/reuse-scenario.js`],
    { encoding: 'utf8', env: { ...process.env, SYSPRIMS_REUSE_ROUNDS: String(rounds) } },
  );
  assert.match(out, new RegExp(`REUSE rounds=${rounds} wrong=0 refused=${rounds} control=${rounds} guarded=${rounds / 2}`));
  t.diagnostic(out.trim());
});
