'use strict';
// The Node binding's benchmark, both sides in the same run, ratios printed:
//  1. terminateTree of a 200-process job (bench/tree.sh: 190 in the tree, 10 double-forked
//     out of it) against the `tree-kill` npm package on the same shape, counting the
//     processes tree-kill leaves alive;
//  2. processList() against the `ps-list` npm package.
// Every job runs in a sysprims job (a cgroup where one can be made), so whatever a side
// leaves behind is ended afterwards through the job, never by name.

const path = require('node:path');
const sp = require('..');
const treeKill = require('tree-kill');
const { newMarker, markedPids, killMarked } = require('../test/helpers');

const ROUNDS = Number(process.env.ROUNDS || 5);
const LISTS = Number(process.env.LISTS || 20);
const SHAPE = path.join(__dirname, 'tree.sh');

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startShape(containment = 'auto') {
  const marker = newMarker();
  const job = sp.spawnInGroup({ argv: ['sh', SHAPE, marker], containment });
  // Setup only: wait until all 200 are up.
  while (markedPids(marker).length < 200) await new Promise((r) => setTimeout(r, 5));
  return { job, marker };
}

async function end({ job, marker }) {
  await job[Symbol.asyncDispose]();
  killMarked(marker);
}

async function sysprimsRound(containment) {
  const shape = await startShape(containment);
  const t0 = now();
  const r = await sp.terminateTree(shape.job.pid, { graceTimeoutMs: 5000 });
  const ms = now() - t0;
  const survivors = markedPids(shape.marker).length;
  await end(shape);
  return { ms, survivors, exited: r.exited, reliability: r.treeKillReliability };
}

async function treeKillRound() {
  const shape = await startShape();
  const inTree = (await sp.descendants(shape.job.pid)).nodes.map((n) => n.process.pid);
  const t0 = now();
  await new Promise((resolve, reject) => treeKill(shape.job.pid, 'SIGTERM', (e) => (e ? reject(e) : resolve())));
  const signalled = now() - t0;
  // tree-kill returns once the signals are sent; wait for what it signalled to be gone.
  await Promise.all(inTree.map((pid) => sp.waitPid(pid, { timeoutMs: 5000 }).catch(() => null)));
  const gone = now() - t0;
  const survivors = markedPids(shape.marker).length;
  await end(shape);
  return { ms: signalled, gone, survivors };
}

async function main() {
  const { default: psList } = await import('ps-list');
  const ours = [];
  const pgOnly = [];
  const theirs = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    ours.push(await sysprimsRound('auto'));
    pgOnly.push(await sysprimsRound('process_group'));
    theirs.push(await treeKillRound());
  }
  const a = median(ours.map((r) => r.ms));
  const b = median(theirs.map((r) => r.ms));
  const bGone = median(theirs.map((r) => r.gone));
  console.log(`terminate a 200-process job (${ROUNDS} rounds each, alternated; medians)`);
  console.log(
    `  sysprims terminateTree: ${a.toFixed(1)} ms until every process is gone; survivors ${ours
      .map((r) => r.survivors)
      .join(',')} (${ours[0].reliability})`,
  );
  console.log(
    `  sysprims, no cgroup:    ${median(pgOnly.map((r) => r.ms)).toFixed(1)} ms; survivors ${pgOnly
      .map((r) => r.survivors)
      .join(',')} (${pgOnly[0].reliability}: the double-forked are out of reach)`,
  );
  console.log(
    `  tree-kill:              ${b.toFixed(1)} ms until its signals were sent, ${bGone.toFixed(1)} ms until those were gone; survivors ${theirs
      .map((r) => r.survivors)
      .join(',')}`,
  );
  console.log(`  ratio sysprims / tree-kill: ${(a / b).toFixed(2)}x (to signals sent), ${(a / bGone).toFixed(2)}x (to gone)`);

  const listOurs = [];
  const listTheirs = [];
  let nOurs = 0;
  let nTheirs = 0;
  for (let i = 0; i < LISTS; i += 1) {
    let t0 = now();
    nOurs = (await sp.processList()).processes.length;
    listOurs.push(now() - t0);
    t0 = now();
    nTheirs = (await psList()).length;
    listTheirs.push(now() - t0);
  }
  const c = median(listOurs);
  const d = median(listTheirs);
  console.log(`list every process (${LISTS} calls each, alternated; medians)`);
  console.log(`  sysprims processList: ${c.toFixed(2)} ms (${nOurs} processes)`);
  console.log(`  ps-list:              ${d.toFixed(2)} ms (${nTheirs} processes)`);
  console.log(`  ratio sysprims / ps-list: ${(c / d).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
