'use strict';
// processGet, processIdentity, processList, descendants, verifyIdentity, listFds and
// listeningPorts against real processes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const sp = require('..');
const { newMarker, markedPids, killMarked, fifo } = require('./helpers');

const TREE = `${__dirname}/tree.sh`;

test('processGet describes this process as /proc does', () => {
  const me = sp.processGet(process.pid);
  assert.equal(me.pid, process.pid);
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.exePath, fs.realpathSync(process.execPath));
  assert.equal(me.cmdline.join(' '), fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').filter(Boolean).join(' '));
  assert.equal(typeof me.startTimeUnixMs, 'number');
  assert.ok(Math.abs(me.startTimeUnixMs - (Date.now() - process.uptime() * 1000)) < 2000);
  assert.equal(me.env, undefined);
  // The start time is the same on every read: comparable with !==.
  assert.equal(sp.processGet(process.pid).startTimeUnixMs, me.startTimeUnixMs);
  process.env.SYSPRIMS_NODE_TEST_ENV = 'yes';
  const withEnv = sp.processGet(process.pid, { includeEnv: true });
  // /proc/PID/environ is the environment at exec; PATH was there.
  assert.equal(withEnv.env.PATH, process.env.PATH);
});

test('processList lists a marked child, filters by PID and name, sorts and limits', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({
    argv: ['sh', '-c', 'echo up; exec sleep 1000 0.$1', 'sh', marker],
    stdout: { path: out.path },
  });
  t.after(async () => {
    await job[Symbol.asyncDispose]();
    killMarked(marker);
  });
  assert.equal(await out.line(), 'up');
  const all = await sp.processList();
  assert.ok(all.processes.length > 2);
  assert.ok(all.processes.some((p) => p.pid === process.pid));
  assert.ok(all.processes.some((p) => p.pid === job.pid));
  const pids = all.processes.map((p) => p.pid);
  assert.deepEqual(pids, [...pids].sort((a, b) => a - b));

  const one = await sp.processList({ filter: { pids: [job.pid] } });
  assert.deepEqual(one.processes.map((p) => p.pid), [job.pid]);

  const byParent = await sp.processList({ filter: { ppid: process.pid } });
  assert.ok(byParent.processes.some((p) => p.pid === job.pid));

  const top = await sp.processList({ sort: 'memory', limit: 3 });
  assert.equal(top.processes.length, 3);
  assert.ok(top.processes[0].memoryKb >= top.processes[2].memoryKb);

  const sampled = await sp.processList({ filter: { pids: [process.pid] }, cpuSampleMs: 50 });
  assert.equal(sampled.cpuSampleMs, 50);
});

test('descendants walks a tree with a setsid grandchild; verifyIdentity sees it end', async (t) => {
  const marker = newMarker();
  const out = fifo(t);
  const job = sp.spawnInGroup({ argv: ['sh', TREE, marker], stdout: { path: out.path } });
  t.after(async () => {
    await job[Symbol.asyncDispose]();
    killMarked(marker);
  });
  assert.deepEqual([await out.line(), await out.line()].sort(), ['forked', 'setsid']);
  let tree = await sp.descendants(job.pid);
  assert.equal(tree.rootPid, job.pid);
  assert.equal(tree.nodes[0].process.pid, job.pid);
  assert.equal(tree.nodes[0].depth, 0);
  const depths = tree.nodes.map((n) => n.depth);
  assert.deepEqual(depths, [0, 1, 2, 2]);
  // The setsid sleep is a child of the inner sh in a session of its own.
  const grand = tree.nodes.filter((n) => n.depth === 2).map((n) => n.process);
  assert.ok(grand.some((p) => p.sid === p.pid), 'a setsid grandchild');
  const shallow = await sp.descendants(job.pid, { maxLevels: 1 });
  assert.ok(shallow.nodes.every((n) => n.depth <= 1));
  assert.equal(shallow.maxLevels, 1);

  const identity = sp.processIdentity(job.pid);
  assert.equal(identity.pid, job.pid);
  assert.deepEqual(sp.verifyIdentity(identity), { status: 'same' });
  // A stored start time that differs is reported as reuse, with the evidence.
  const wrong = { pid: job.pid, startTimeUnixMs: identity.startTimeUnixMs - 10 };
  const check = sp.verifyIdentity(wrong);
  assert.equal(check.status, 'reused');
  assert.equal(check.reason.kind, 'start_time_mismatch');
  const ended = await job.terminate({ graceTimeoutMs: 2000 });
  assert.ok(ended.exited);
  assert.deepEqual(markedPids(marker), []);
  assert.deepEqual(sp.verifyIdentity(identity), { status: 'gone' });
});

test('listFds shows an open file, a pipe and a listening socket of this process', async (t) => {
  const file = `/tmp/sysprims-node-fds-${process.pid}`;
  const fd = fs.openSync(file, 'w');
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    server.close();
  });
  const snap = await sp.listFds(process.pid);
  assert.equal(snap.pid, process.pid);
  const mine = snap.fds.find((f) => f.fd === fd);
  assert.equal(mine.kind, 'file');
  assert.equal(mine.path, file);
  assert.equal(mine.access, 'write');
  const port = server.address().port;
  const sockets = await sp.listFds(process.pid, { kinds: ['socket'] });
  assert.ok(sockets.fds.every((f) => f.kind === 'socket'));
  const listener = sockets.fds.find((f) => f.socket?.localPort === port);
  assert.ok(listener, `a socket on port ${port}`);
  assert.equal(listener.socket.protocol, 'tcp');
  assert.equal(listener.socket.state, 'listen');

  const ports = await sp.listeningPorts({ port });
  assert.equal(ports.bindings.length, 1);
  const b = ports.bindings[0];
  assert.equal(b.localPort, port);
  assert.equal(b.protocol, 'tcp');
  assert.equal(b.localAddress, '127.0.0.1');
  assert.ok(b.processes.some((p) => p.pid === process.pid && p.fds.includes(listener.fd)));
  const ofMe = await sp.listeningPorts({ pid: process.pid, protocol: 'tcp' });
  assert.ok(ofMe.bindings.some((x) => x.localPort === port));
  const none = await sp.listeningPorts({ port, protocol: 'udp' });
  assert.deepEqual(none.bindings, []);
});
