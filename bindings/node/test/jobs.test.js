'use strict';
// spawnInGroup and Job (disposal ends the whole tree), waitPid, terminateTree and
// runWithTimeout, concurrent Promises, and AbortSignals, against real processes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const sp = require('..');
const { newMarker, markedPids, killMarked, fifo, requireCapability } = require('./helpers');

const TREE = `${__dirname}/tree.sh`;

/** A job that ignores nothing but reports each TERM it gets on stdout and keeps running:
 * it prints "up", then "term" for each TERM, until KILLed. */
const TERM_REPORTER =
  'trap "echo term" TERM; echo up; while :; do sleep 1000 "0.$1" & wait $!; done';

function cleanup(t, marker, job) {
  t.after(async () => {
    if (job) await job[Symbol.asyncDispose]();
    killMarked(marker);
  });
}

test('disposing of a job ends its tree, setsid grandchild included, and its cgroup', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({ argv: ['sh', TREE, marker], stdout: { path: out.path } });
  cleanup(t, marker, job);
  assert.deepEqual([await out.line(), await out.line()].sort(), ['forked', 'setsid']);
  assert.equal(markedPids(marker).length, 4);
  assert.equal(job.pgid, job.pid);
  assert.equal(job.identity.pid, job.pid);
  const cgroup = job.cgroup;
  await job[Symbol.asyncDispose]();
  assert.deepEqual(markedPids(marker), []);
  if (job.containment === 'cgroup_v2') assert.equal(fs.existsSync(cgroup), false);
  // Disposing again is a no-op.
  await job[Symbol.asyncDispose]();
});

test('a setsid grandchild that outlives the first process dies on disposal (cgroup)', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({
    argv: ['sh', '-c', 'setsid sh -c "echo escaped; exec sleep 1000 0.\\$0" "$1" &', 'sh', marker],
    stdout: { path: out.path },
  });
  cleanup(t, marker, job);
  if (!requireCapability(t, 'a writable cgroup v2 (job containment cgroup_v2)', job.containment === 'cgroup_v2')) return;
  assert.equal(job.treeKillReliability, 'guaranteed');
  assert.equal(await out.line(), 'escaped');
  // The first process has exited and is reaped; the escapee runs on, reparented away.
  const exit = await job.wait();
  assert.equal(exit.exitCode, 0);
  const [escapee] = markedPids(marker);
  assert.ok(escapee, 'the setsid grandchild is running');
  assert.notEqual(sp.processGet(escapee).ppid, job.pid);
  await job[Symbol.asyncDispose]();
  assert.deepEqual(markedPids(marker), []);
  assert.equal(fs.existsSync(job.cgroup), false);
});

test('Job.wait, tryWait, terminate and kill', async (t) => {
  const m1 = newMarker();
  const done = sp.spawnInGroup({ argv: ['sh', '-c', 'exit 3', m1] });
  cleanup(t, m1, done);
  const exit = await done.wait();
  assert.deepEqual({ exited: exit.exited, exitCode: exit.exitCode }, { exited: true, exitCode: 3 });
  assert.deepEqual(await done.wait(), exit, 'a second wait returns the same exit');
  assert.deepEqual(await done.tryWait(), exit);

  const m2 = newMarker();
  const running = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${m2}`] });
  cleanup(t, m2, running);
  const pending = await running.tryWait();
  assert.equal(pending.timedOut, true);
  assert.equal(pending.exited, false);
  const limited = await running.wait({ timeoutMs: 1 });
  assert.equal(limited.timedOut, true);
  const r = await running.terminate({ graceTimeoutMs: 3000 });
  assert.equal(r.pid, running.pid);
  assert.equal(r.signalSent, 'TERM');
  assert.equal(r.escalated, false);
  assert.equal(r.exited, true);
  assert.deepEqual(r.survivors, []);
  assert.equal(r.signalled >= 1, true);
  assert.deepEqual(markedPids(m2), []);

  const m3 = newMarker();
  const killed = sp.spawnInGroup({ argv: ['sh', '-c', 'trap "" TERM; sleep 1000 0.$0', m3] });
  cleanup(t, m3, killed);
  const k = await killed.kill();
  assert.equal(k.signalSent, 'KILL');
  assert.equal(k.exited, true);
  assert.deepEqual(markedPids(m3), []);
});

test('a job without a cgroup is best effort and says why', async (t) => {
  const marker = newMarker();
  const job = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${marker}`], containment: 'process_group' });
  cleanup(t, marker, job);
  assert.equal(job.containment, 'process_group');
  assert.equal(job.treeKillReliability, 'best_effort');
  assert.equal(job.cgroup, undefined);
  sp.kill(job.pid, 'KILL');
  assert.equal((await job.wait()).signal, 9);
  // Reaped, without a cgroup: nothing left to end, and disposal does not throw.
  await job[Symbol.asyncDispose]();
});

test('spawn options: cwd, env, stdout file', async (t) => {
  const dir = fs.mkdtempSync('/tmp/sysprims-node-spawn-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const job = sp.spawnInGroup({
    argv: ['sh', '-c', 'echo "$PWD $SYSPRIMS_X"'],
    cwd: dir,
    env: { SYSPRIMS_X: 'hello' },
    stdout: { path: `${dir}/out` },
  });
  cleanup(t, 'unused-marker', job);
  assert.equal((await job.wait()).exitCode, 0);
  assert.equal(fs.readFileSync(`${dir}/out`, 'utf8'), `${fs.realpathSync(dir)} hello\n`);
});

test('waitPid, terminateTree and the library results', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({ argv: ['sh', TREE, marker], stdout: { path: out.path } });
  cleanup(t, marker, job);
  await out.line();
  await out.line();
  assert.equal((await sp.waitPid(job.pid, { timeoutMs: 0 })).timedOut, true);
  const waiting = sp.waitPid(job.pid);
  const r = await sp.terminateTree(job.pid, { graceTimeoutMs: 3000, requireStartTimeMs: job.identity.startTimeUnixMs });
  assert.equal(r.exited, true);
  assert.equal(r.signalled, 4);
  assert.deepEqual(markedPids(marker), []);
  const w = await waiting;
  assert.equal(w.exited, true);
  assert.equal(w.signal, 15);
  // A guard that does not match: NotFound, nothing sent.
  const other = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${marker}`] });
  cleanup(t, marker, other);
  await assert.rejects(
    sp.terminateTree(other.pid, { requireStartTimeMs: 1 }),
    (e) => e instanceof sp.SysprimsError && e.code === 'NotFound' && e.pid === other.pid,
  );
  assert.equal((await other.tryWait()).timedOut, true);
});

test('runWithTimeout: completed, timed out (whole job), and the GNU exit status', async (t) => {
  const ok = await sp.runWithTimeout(['sh', '-c', 'exit 7'], 60000, { stdout: 'null' });
  assert.equal(ok.outcome, 'completed');
  assert.equal(ok.exitCode, 7);
  assert.equal(ok.exitStatus, 7);

  const marker = newMarker();
  cleanup(t, marker);
  const slow = await sp.runWithTimeout(['sh', '-c', 'setsid sleep 1000 0.$0 & sleep 1000 0.$0', marker], 200);
  assert.equal(slow.outcome, 'timed_out');
  assert.equal(slow.signalSent, 'TERM');
  assert.equal(slow.exitStatus, 124);
  assert.equal(slow.signal, 15);
  if (slow.containment === 'cgroup_v2') assert.deepEqual(markedPids(marker), []);
});

test('concurrent Promises: waits, terminations, listings and walks at once', async (t) => {
  const N = 8; // more than libuv's 4 pool threads
  const marker = newMarker();
  cleanup(t, marker);
  const jobs = [];
  for (let i = 0; i < N; i += 1) {
    const job = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${marker}`] });
    cleanup(t, marker, job);
    jobs.push(job);
  }
  // Half are waited for through their Job, half through waitPid (one reaper per process).
  const owned = jobs.slice(0, N / 2);
  const free = jobs.slice(N / 2);
  const waits = [...owned.map((j) => j.wait()), ...free.map((j) => sp.waitPid(j.pid, { timeoutMs: 600000 }))];
  const [list, ...trees] = await Promise.all([
    sp.processList({ filter: { ppid: process.pid } }),
    ...jobs.map((j) => sp.descendants(j.pid)),
    ...jobs.map((j) => sp.listFds(j.pid)),
  ]);
  for (const j of jobs) assert.ok(list.processes.some((p) => p.pid === j.pid));
  assert.equal(trees.length, 2 * N);
  const ends = await Promise.all([
    ...owned.map((j) => j.terminate({ graceTimeoutMs: 5000 })),
    ...free.map((j) => sp.terminateTree(j.pid, { graceTimeoutMs: 5000 })),
  ]);
  assert.ok(ends.every((e) => e.exited && !e.escalated), JSON.stringify(ends));
  const exits = await Promise.all(waits);
  assert.ok(exits.every((e) => e.exited && e.signal === 15), JSON.stringify(exits));
  assert.deepEqual(markedPids(marker), []);
});

test('an AbortSignal during the grace period escalates at once (terminateTree, Job.terminate)', async (t) => {
  for (const via of ['terminateTree', 'Job.terminate']) {
    const marker = newMarker();
    const out = fifo(t);
    const job = sp.spawnInGroup({ argv: ['sh', '-c', TERM_REPORTER, 'sh', marker], stdout: { path: out.path } });
    cleanup(t, marker, job);
    assert.equal(await out.line(), 'up');
    const ac = new AbortController();
    const options = { graceTimeoutMs: 600000, signal: ac.signal };
    const ending = via === 'terminateTree' ? sp.terminateTree(job.pid, options) : job.terminate(options);
    // The job got TERM and survived it: the grace period (10 minutes) has begun.
    assert.equal(await out.line(), 'term');
    ac.abort();
    const r = await ending;
    assert.equal(r.escalated, true, via);
    assert.equal(r.exited, true, via);
    assert.ok(r.warnings.includes('cancelled'), `${via}: ${r.warnings}`);
    assert.deepEqual(markedPids(marker), []);
  }
});

test('an AbortSignal ends a waitPid (process untouched) and a runWithTimeout (job killed)', async (t) => {
  const marker = newMarker();
  const job = sp.spawnInGroup({ argv: ['sleep', '1000', `0.${marker}`] });
  cleanup(t, marker, job);
  const ac = new AbortController();
  const waiting = sp.waitPid(job.pid, { signal: ac.signal });
  ac.abort();
  const w = await waiting;
  assert.deepEqual({ exited: w.exited, timedOut: w.timedOut }, { exited: false, timedOut: true });
  assert.ok(w.warnings.includes('cancelled'));
  assert.equal((await job.tryWait()).timedOut, true, 'still running');
  // An already aborted signal: the same, at once.
  const early = await sp.waitPid(job.pid, { signal: AbortSignal.abort() });
  assert.ok(early.warnings.includes('cancelled'));

  const m2 = newMarker();
  cleanup(t, m2);
  const out = fifo(t);
  const ac2 = new AbortController();
  const running = sp.runWithTimeout(['sh', '-c', 'echo up; sleep 1000 0.$0', m2], 600000, {
    stdout: { path: out.path },
    signal: ac2.signal,
  });
  assert.equal(await out.line(), 'up');
  ac2.abort();
  const o = await running;
  assert.equal(o.outcome, 'timed_out');
  assert.equal(o.escalated, true);
  assert.ok(o.warnings.includes('cancelled'));
  assert.deepEqual(markedPids(m2), []);
});
