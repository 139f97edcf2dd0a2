'use strict';
// kill, signalIf and killDescendants against real processes.

const test = require('node:test');
const assert = require('node:assert/strict');
const sp = require('..');
const { newMarker, markedPids, killMarked, fifo } = require('./helpers');

const TREE = `${__dirname}/tree.sh`;

function sleeper(t, marker) {
  const job = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${marker}`] });
  t.after(async () => {
    await job[Symbol.asyncDispose]();
    killMarked(marker);
  });
  return job;
}

test('kill sends the signal named or numbered', async (t) => {
  for (const [signal, number] of [['USR1', 10], ['SIGTERM', 15], ['hup', 1], [9, 9], ['RTMIN+2', 36]]) {
    const job = sleeper(t, newMarker());
    sp.kill(job.pid, signal);
    const exit = await job.wait();
    assert.equal(exit.exited, true);
    assert.equal(exit.signal, number, `signal ${signal}`);
  }
  // The default is TERM; the probe (0) only checks.
  const job = sleeper(t, newMarker());
  sp.kill(job.pid, 0);
  assert.equal((await job.tryWait()).timedOut, true);
  sp.kill(job.pid);
  assert.equal((await job.wait()).signal, 15);
});

// Numbers cross the binding as the platform's own, os.constants.signals's, both ways (on
// Linux sysprims's numbering; macOS numbers USR2 31 and STOP 17, and the library converts).
test('signal numbers in and out are os.constants.signals', async (t) => {
  const { SIGUSR2 } = require('node:os').constants.signals;
  const job = sleeper(t, newMarker());
  sp.kill(job.pid, SIGUSR2);
  const exit = await job.wait();
  assert.equal(exit.signal, SIGUSR2);
  const other = sleeper(t, newMarker());
  const report = await sp.killDescendants(process.pid, SIGUSR2, { filter: { pids: [other.pid] }, dryRun: true });
  assert.equal(report.signal, SIGUSR2);
  assert.equal(report.signalName, 'SIGUSR2');
});

test('signalIf signals the process it identifies, then reports it gone', async (t) => {
  const job = sleeper(t, newMarker());
  const identity = job.identity;
  assert.equal(identity.pid, job.pid);
  assert.equal(typeof identity.startTimeUnixMs, 'number');
  const sent = sp.signalIf(identity, 'TERM');
  assert.equal(sent.status, 'signalled');
  assert.deepEqual(sent.warnings, []);
  assert.equal((await job.wait()).signal, 15);
  assert.equal(sp.signalIf(identity, 'TERM').status, 'gone');
  // An identity stored from JSON (a job record) works the same.
  const stored = JSON.parse(JSON.stringify(sp.processIdentity(process.ppid)));
  assert.equal(sp.signalIf(stored, 0).status, 'signalled');
});

test('killDescendants previews, then signals every descendant but not the root', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({ argv: ['sh', TREE, marker], stdout: { path: out.path } });
  t.after(async () => {
    await job[Symbol.asyncDispose]();
    killMarked(marker);
  });
  assert.deepEqual([await out.line(), await out.line()].sort(), ['forked', 'setsid']);
  const tree = await sp.descendants(job.pid);
  const below = tree.nodes.slice(1).map((n) => n.process.pid).sort();

  const preview = await sp.killDescendants(job.pid, 'KILL', { dryRun: true });
  assert.equal(preview.preview, true);
  assert.deepEqual(preview.targets.map((x) => x.pid).sort(), below);
  assert.ok(preview.targets.every((x) => x.outcome === 'would_signal'));
  assert.equal(markedPids(marker).length, 4);

  const onlySleeps = await sp.killDescendants(job.pid, 'KILL', { filter: { nameEquals: 'nothing-like-this' } });
  assert.deepEqual(onlySleeps.targets, []);

  const report = await sp.killDescendants(job.pid, 'KILL');
  assert.equal(report.preview, false);
  assert.equal(report.signalName, 'SIGKILL');
  assert.deepEqual(report.targets.map((x) => x.pid).sort(), below);
  assert.ok(report.targets.every((x) => x.outcome === 'signalled'), JSON.stringify(report.targets));
  // The root is untouched (its children are gone: `wait` returns and it exits 0 by itself).
  const exit = await job.wait();
  assert.equal(exit.exitCode, 0);
  assert.deepEqual(markedPids(marker), []);
});
