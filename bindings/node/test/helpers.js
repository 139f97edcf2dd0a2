'use strict';
// Test helpers: markers in command lines (processes are found by marker, never by name),
// FIFOs to synchronise on what a job prints, and capability checks that skip, or fail under
// SYSPRIMS_REQUIRE_ALL=1.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { execFileSync } = require('node:child_process');

let counter = 0;

/** A marker made of digits, so that `sleep 1000 0.MARKER` is a valid sleep. */
function newMarker() {
  counter += 1;
  return `${process.pid}${String(counter).padStart(3, '0')}${Math.floor(Math.random() * 1e6)}`;
}

/** PIDs of live (non-zombie) processes whose command line contains `marker`. */
function markedPids(marker) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (!cmdline.includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** KILL every process carrying `marker` (cleanup, also after a failed assertion). */
function killMarked(marker) {
  for (let round = 0; round < 10; round += 1) {
    const pids = markedPids(marker);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** A FIFO to hand to a job as its stdout: read lines from it as the job writes them. Opened
 * read-write here, so neither side's open blocks. */
function fifo(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysprims-node-'));
  const file = path.join(dir, 'out');
  execFileSync('mkfifo', [file]);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  // A pipe handle (epoll), not a file stream: a file read of an empty FIFO would hold a
  // libuv pool thread until something is written.
  const stream = new net.Socket({ fd, readable: true, writable: false });
  stream.setEncoding('utf8');
  let buffer = '';
  const waiting = [];
  stream.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0 && waiting.length > 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      waiting.shift()(line);
    }
  });
  t?.after(() => {
    stream.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    path: file,
    /** The next line the job writes. */
    line() {
      const nl = buffer.indexOf('\n');
      if (nl >= 0 && waiting.length === 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return Promise.resolve(line);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const REQUIRE_ALL = process.env.SYSPRIMS_REQUIRE_ALL === '1';

/** True when `available`; otherwise skips the test with `what` (fails under
 * SYSPRIMS_REQUIRE_ALL=1). */
function requireCapability(t, what, available) {
  if (available) return true;
  if (REQUIRE_ALL) throw new Error(`SYSPRIMS_REQUIRE_ALL=1 but ${what} is not available`);
  t.skip(`needs ${what}`);
  return false;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function have(program) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process's /proc/PID/status shows `sig` (a number) pending. */
function sigPending(pid, sig) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  const bit = 1n << BigInt(sig - 1);
  for (const key of ['ShdPnd', 'SigPnd']) {
    const m = status.match(new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm'));
    if (m && (BigInt(`0x${m[1]}`) & bit) !== 0n) return true;
  }
  return false;
}

module.exports = { newMarker, markedPids, killMarked, fifo, requireCapability, isRoot, have, sigPending };
