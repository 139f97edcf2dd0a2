'use strict';
// Bad input: every number is checked before it is converted, every error is a SysprimsError
// with the library's code naming the bad value, and nothing is sent.

const test = require('node:test');
const assert = require('node:assert/strict');
const sp = require('..');
const { SysprimsError } = sp;

const BAD_PIDS = [
  [0, /PID "0"/],
  [-1, /PID "-1"/],
  [2 ** 32 - 1, /PID "4294967295".*-1/],
  [2 ** 31, /PID "2147483648"/],
  [1.5, /PID "1.5": must be an integer/],
  [NaN, /PID "NaN"/],
  [Infinity, /PID "Infinity"/],
  [2 ** 53, /PID "9007199254740992"/],
];

function isInvalid(re) {
  return (err) => {
    assert.ok(err instanceof SysprimsError, `a SysprimsError, got ${err}`);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'SysprimsError');
    assert.equal(err.code, 'InvalidArgument');
    if (re) assert.match(err.message, re);
    return true;
  };
}

test('bad PIDs are refused by every function, naming the value', async () => {
  for (const [pid, re] of BAD_PIDS) {
    assert.throws(() => sp.processGet(pid), isInvalid(re));
    assert.throws(() => sp.processIdentity(pid), isInvalid(re));
    assert.throws(() => sp.kill(pid, 'TERM'), isInvalid(re));
    assert.throws(() => sp.kill(pid, 0), isInvalid(re));
    assert.throws(() => sp.signalIf({ pid, startTimeUnixMs: 1 }, 'TERM'), isInvalid(re));
    assert.throws(() => sp.verifyIdentity({ pid, startTimeUnixMs: 1 }), isInvalid(re));
    await assert.rejects(sp.descendants(pid), isInvalid(re));
    await assert.rejects(sp.waitPid(pid, { timeoutMs: 0 }), isInvalid(re));
    await assert.rejects(sp.terminateTree(pid), isInvalid(re));
    await assert.rejects(sp.killDescendants(pid), isInvalid(re));
    await assert.rejects(sp.listFds(pid), isInvalid(re));
    await assert.rejects(sp.listeningPorts({ pid }), isInvalid(re));
    await assert.rejects(sp.processList({ filter: { pids: [pid] } }), isInvalid(re));
  }
});

test('values of the wrong type are InvalidArgument too', async () => {
  assert.throws(() => sp.processGet('12'), isInvalid(/PID "12" \(string\): must be a number/));
  assert.throws(() => sp.processGet(), isInvalid(/PID undefined/));
  assert.throws(() => sp.processGet(12n), isInvalid(/PID 12n/));
  await assert.rejects(sp.waitPid('12'), isInvalid(/PID "12"/));
  await assert.rejects(sp.terminateTree(null), isInvalid(/PID null/));
  await assert.rejects(sp.listFds([1]), isInvalid(/PID \[1\]/));
  assert.throws(() => sp.kill(process.pid, { name: 'TERM' }), isInvalid());
  assert.throws(() => sp.spawnInGroup({ argv: 'sleep 1' }), isInvalid());
  await assert.rejects(sp.waitPid(process.ppid, { signal: 'not an AbortSignal' }), isInvalid());
});

test('bad signals, durations, enums and commands are refused by name', async () => {
  assert.throws(() => sp.kill(process.pid, 'NOPE'), isInvalid(/NOPE/));
  assert.throws(() => sp.kill(process.pid, 32), isInvalid(/32/));
  assert.throws(() => sp.kill(process.pid, 15.5), isInvalid(/15.5/));
  assert.throws(() => sp.kill(process.pid, -15), isInvalid(/-15/));
  await assert.rejects(sp.waitPid(process.ppid, { timeoutMs: -1 }), isInvalid(/timeoutMs "-1"/));
  await assert.rejects(sp.waitPid(process.ppid, { timeoutMs: 0.5 }), isInvalid(/timeoutMs "0.5"/));
  await assert.rejects(
    sp.terminateTree(process.ppid, { graceTimeoutMs: -5 }),
    isInvalid(/graceTimeoutMs "-5"/),
  );
  await assert.rejects(sp.terminateTree(process.ppid, { termSignal: 'BOGUS' }), isInvalid(/BOGUS/));
  await assert.rejects(sp.processList({ sort: 'size' }), isInvalid(/size/));
  await assert.rejects(sp.processList({ filter: { state: 'asleep' } }), isInvalid(/asleep/));
  await assert.rejects(sp.processList({ filter: { cpuAbove: -1 } }), isInvalid());
  await assert.rejects(sp.processList({ limit: -1 }), isInvalid(/limit "-1"/));
  await assert.rejects(sp.processList({ limit: 2.5 }), isInvalid(/limit "2.5"/));
  await assert.rejects(sp.listFds(process.pid, { kinds: ['sock'] }), isInvalid(/sock/));
  await assert.rejects(sp.listeningPorts({ port: 0 }), isInvalid());
  await assert.rejects(sp.listeningPorts({ port: 65536 }), isInvalid(/65536/));
  await assert.rejects(sp.listeningPorts({ protocol: 'sctp' }), isInvalid(/sctp/));
  await assert.rejects(sp.descendants(process.pid, { maxLevels: -1 }), isInvalid(/maxLevels/));
  assert.throws(() => sp.spawnInGroup({ argv: [] }), isInvalid(/argv/));
  assert.throws(() => sp.spawnInGroup({ argv: ['true'], env: { 'A=B': '1' } }), isInvalid(/A=B/));
  assert.throws(() => sp.spawnInGroup({ argv: ['true'], containment: 'vm' }), isInvalid(/vm/));
  assert.throws(() => sp.spawnInGroup({ argv: ['true'], stdout: 'pipe' }), isInvalid(/pipe/));
  assert.throws(
    () => sp.spawnInGroup({ argv: ['/nonexistent/program-sysprims'] }),
    (err) => err instanceof SysprimsError && err.code === 'SpawnFailed' && /nonexistent/.test(err.message),
  );
  await assert.rejects(sp.runWithTimeout([], 1000), isInvalid(/argv/));
  await assert.rejects(sp.runWithTimeout(['true'], -1), isInvalid(/timeoutMs/));
  assert.throws(() => sp.verifyIdentity({ pid: process.pid }), isInvalid());
});

test('PID 1, the caller and its group are protected; NotFound carries the PID', async () => {
  assert.throws(() => sp.kill(1, 'TERM'), isInvalid(/1/));
  assert.throws(() => sp.kill(process.pid, 'KILL'), isInvalid());
  await assert.rejects(sp.terminateTree(1), isInvalid());
  await assert.rejects(sp.terminateTree(process.pid), isInvalid());
  // The probe is not destructive: allowed on PID 1.
  sp.kill(1, 0);
  // A PID nobody has (above pid_max).
  const max = Number(require('node:fs').readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const missing = Math.min(max + 1, 2 ** 31 - 1);
  assert.throws(
    () => sp.processGet(missing),
    (err) => err instanceof SysprimsError && err.code === 'NotFound' && err.pid === missing,
  );
  await assert.rejects(
    sp.waitPid(missing),
    (err) => err instanceof SysprimsError && err.code === 'NotFound' && err.pid === missing,
  );
  assert.deepEqual(sp.verifyIdentity({ pid: missing, startTimeUnixMs: 1 }), { status: 'gone' });
  assert.equal(sp.signalIf({ pid: missing, startTimeUnixMs: 1 }, 'TERM').status, 'gone');
});

test('misspelt or unknown option keys are refused by name, nothing is done', async () => {
  const isKey = (key) => isInvalid(new RegExp(`key "${key}"`));
  assert.throws(() => sp.processGet(process.pid, { includeEnvironment: true }), isKey('includeEnvironment'));
  await assert.rejects(sp.processList({ limt: 3 }), isKey('limt'));
  await assert.rejects(sp.processList({ filter: { name: 'node' } }), isKey('name'));
  await assert.rejects(sp.descendants(process.pid, { depth: 1 }), isKey('depth'));
  assert.throws(() => sp.verifyIdentity({ pid: process.pid, startTime: 1 }), isKey('startTime'));
  assert.throws(() => sp.kill(process.ppid, 0, { force: true }), isKey('force'));
  assert.throws(() => sp.signalIf(sp.processIdentity(process.ppid), 0, { force: true }), isKey('force'));
  await assert.rejects(sp.killDescendants(process.pid, 0, { preview: true }), isKey('preview'));
  assert.throws(() => sp.spawnInGroup({ argv: ['true'], workdir: '/' }), isKey('workdir'));
  assert.throws(() => sp.spawnInGroup({ argv: ['true'], stdout: { file: '/dev/null' } }), isKey('file'));
  await assert.rejects(sp.waitPid(process.ppid, { timeout: 0 }), isKey('timeout'));
  await assert.rejects(sp.terminateTree(process.ppid, { graceTimeout: 1 }), isKey('graceTimeout'));
  await assert.rejects(sp.runWithTimeout(['true'], 1000, { killAfter: 1 }), isKey('killAfter'));
  await assert.rejects(sp.listFds(process.pid, { kind: ['file'] }), isKey('kind'));
  await assert.rejects(sp.listeningPorts({ ports: [80] }), isKey('ports'));
  // The Unix signal of terminateTree is termSignal; `signal` must be an AbortSignal.
  await assert.rejects(sp.terminateTree(process.ppid, { signal: 'KILL' }), isInvalid(/AbortSignal/));
});

test('the option key lists match the generated native.d.ts interfaces', () => {
  const dts = require('node:fs').readFileSync(`${__dirname}/../native.d.ts`, 'utf8');
  for (const [iface, keys] of Object.entries(sp._optionKeys)) {
    const body = dts.match(new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`))?.[1];
    assert.ok(body, `interface ${iface} in native.d.ts`);
    const fields = [...body.matchAll(/^  (\w+)\??:/gm)].map((m) => m[1]);
    assert.deepEqual([...keys].sort(), fields.sort(), iface);
  }
});
