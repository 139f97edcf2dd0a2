'use strict';
// Run by reuse.test.js as PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`),
// where writing /proc/sys/kernel/ns_last_pid decides the next PID. Each round stores an old
// process's identity, ends it, and starts a newcomer with the same PID; then signalIf and
// verifyIdentity with the stored identity must refuse, and the newcomer, which blocks TERM,
// must have no TERM pending. The newcomer's own identity is the positive control.
// In the rounds without a pidfs inode, terminateTree with the stored start time as its guard
// must refuse (NotFound) as well. Prints "REUSE rounds=R wrong=W refused=F control=C guarded=G".

const fs = require('node:fs');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const sp = require('..');
const { sigPending } = require('./helpers');

const ROUNDS = Number(process.env.SYSPRIMS_REUSE_ROUNDS || 20);
const PERL = 'use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTERM)); $| = 1; print "ready\\n"; sleep 1000';

/** A process that blocks TERM, once it says it does. */
async function blocker() {
  const child = spawn('perl', ['-e', PERL], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = readline.createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    new Promise((resolve) => lines.once('line', (l) => resolve([l]))),
    exited.then(() => ['exited']),
  ]);
  if (line !== 'ready') throw new Error(`newcomer did not start: ${line}`);
  return {
    pid: child.pid,
    async end() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function main() {
  if (process.pid !== 1) throw new Error('must run as PID 1 of its own PID namespace');
  let wrong = 0;
  let refused = 0;
  let control = 0;
  let guarded = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const keepInode = round % 2 === 0;
    const old = await blocker();
    const stored = sp.processIdentity(old.pid);
    if (!keepInode) delete stored.pidfsInode;
    await old.end();
    let newcomer;
    for (let tries = 0; ; tries += 1) {
      fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(stored.pid - 1));
      newcomer = await blocker();
      if (newcomer.pid !== stored.pid) throw new Error(`ns_last_pid did not force reuse: ${newcomer.pid} != ${stored.pid}`);
      // Without a pidfs inode only the start time tells them apart: it needs a later tick.
      const ticks = sp.processIdentity(newcomer.pid).startTimeBootTicks;
      if (keepInode || ticks !== stored.startTimeBootTicks) break;
      await newcomer.end();
      if (tries > 1000) throw new Error('the clock did not tick');
    }
    const sent = sp.signalIf(stored, 'TERM');
    const check = sp.verifyIdentity(stored);
    if (sent.status === 'reused' && check.status === 'reused') refused += 1;
    if (!keepInode) {
      // The newcomer started in a later tick: the start-time guard of terminateTree refuses
      // too (NotFound), before anything is sent.
      try {
        await sp.terminateTree(stored.pid, { requireStartTimeMs: stored.startTimeUnixMs, graceTimeoutMs: 0 });
      } catch (e) {
        if (e.code === 'NotFound') guarded += 1;
        else throw e;
      }
    }
    if (sigPending(newcomer.pid, 15)) wrong += 1;
    const own = sp.signalIf(sp.processIdentity(newcomer.pid), 'TERM');
    if (own.status === 'signalled' && sigPending(newcomer.pid, 15)) control += 1;
    await newcomer.end();
  }
  console.log(`REUSE rounds=${ROUNDS} wrong=${wrong} refused=${refused} control=${control} guarded=${guarded}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
