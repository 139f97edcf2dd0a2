// Type-checked against index.d.ts and compiled by tsc (which lowers `await using`, so it runs
// on Node 20, where the syntax does not parse yet). Run by types.test.js with a marker:
// starts the four-process tree.sh job in a scope with `await using`, and prints the job's
// PID once the scope has ended.
import {
  spawnInGroup,
  processGet,
  terminateTree,
  SysprimsError,
  type Job,
  type ProcessInfo,
  type TerminateTreeResult,
  type SpawnResult,
} from '../..';

async function main(marker: string, tree: string): Promise<void> {
  let pid = 0;
  {
    await using job: Job = spawnInGroup({ argv: ['sh', tree, marker], stdout: 'null' });
    pid = job.pid;
    const reliability: SpawnResult['treeKillReliability'] = job.treeKillReliability;
    const me: ProcessInfo = processGet(process.pid);
    console.log(`started ${pid} ${reliability} ${me.name}`);
    const exit = await job.wait({ timeoutMs: 0 });
    if (!exit.timedOut) throw new Error('the job ended early');
  }
  console.log(`disposed ${pid}`);
  try {
    const r: TerminateTreeResult = await terminateTree(pid);
    console.log(`unexpected ${r.exited}`);
  } catch (e) {
    if (e instanceof SysprimsError) console.log(`after ${e.code}`);
    else throw e;
  }
  // @ts-expect-error: a PID is a number
  void (() => processGet('12'));
  // @ts-expect-error: not a containment
  void (() => spawnInGroup({ argv: ['true'], containment: 'vm' }));
}

main(process.argv[2], process.argv[3]).catch((e) => {
  console.error(e);
  process.exit(1);
});
