'use strict';
// The sysprims Node.js API: the native addon (sysprims.node, built from src/lib.rs) behind a
// thin layer that
//  - turns the addon's errors into SysprimsError (code: the library's name, pid),
//  - maps an AbortSignal onto the library's CancelToken (a native Canceller),
//  - wraps jobs in Job, which has Symbol.asyncDispose: `await using job = spawnInGroup(...)`
//    ends the job's whole tree when the scope ends.

const native = require('./sysprims.node');

const TAG = 'sysprims\u001f';
const NAPI_TYPE_ERRORS = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected',
]);

/** An error from sysprims: `code` is the library's name ('NotFound', 'InvalidArgument', ...),
 * `pid` the process it was about, when there is one. */
class SysprimsError extends Error {
  constructor(code, message, pid) {
    super(message);
    this.name = 'SysprimsError';
    this.code = code;
    this.pid = pid;
  }
}

function convert(err) {
  if (err && typeof err.message === 'string' && err.message.startsWith(TAG)) {
    const [code, pid, ...rest] = err.message.slice(TAG.length).split('\u001f');
    return new SysprimsError(code, rest.join('\u001f'), pid === '' ? undefined : Number(pid));
  }
  // napi-rs's own conversion errors: a value of the wrong type (a string for a PID, ...).
  if (err && NAPI_TYPE_ERRORS.has(err.code)) {
    return new SysprimsError('InvalidArgument', `invalid argument: ${err.message}`);
  }
  return err;
}

function sync(fn) {
  return function (...args) {
    try {
      return fn.apply(this, args);
    } catch (err) {
      throw convert(err);
    }
  };
}

function checkOptions(what, options) {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new SysprimsError('InvalidArgument', `invalid ${what} ${JSON.stringify(options)}: must be an object`);
  }
}

function abortReason(signal) {
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw new SysprimsError('InvalidArgument', 'invalid signal option: must be an AbortSignal');
  }
  return signal;
}

/** Run a native cancellable call with `signal` (an AbortSignal) mapped onto a Canceller. */
async function cancellable(signal, start) {
  signal = abortReason(signal);
  if (!signal) {
    try {
      return await start(undefined);
    } catch (err) {
      throw convert(err);
    }
  }
  const canceller = new native.Canceller();
  const onAbort = () => canceller.cancel();
  if (signal.aborted) canceller.cancel();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await start(canceller);
  } catch (err) {
    throw convert(err);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function promised(fn, ...args) {
  try {
    return await fn(...args);
  } catch (err) {
    throw convert(err);
  }
}

function splitSignal(options) {
  checkOptions('options', options);
  if (!options) return [undefined, undefined];
  const { signal, ...rest } = options;
  return [signal, rest];
}

/** A job started by spawnInGroup. `await using job = spawnInGroup(...)` (or
 * `await job[Symbol.asyncDispose]()`) ends the whole tree: TERM, 5 s, KILL. */
class Job {
  #native;
  #disposed = false;

  constructor(nativeJob) {
    this.#native = nativeJob;
    const r = nativeJob.result;
    this.pid = r.pid;
    this.pgid = r.pgid;
    this.identity = r.identity;
    this.treeKillReliability = r.treeKillReliability;
    this.containment = r.containment;
    this.cgroup = r.cgroup;
    this.warnings = r.warnings;
  }

  /** Wait for the first process to exit and reap it. */
  wait(options) {
    checkOptions('options', options);
    return promised(() => this.#native.wait(options?.timeoutMs));
  }

  /** Whether the first process has exited (timedOut: true while it runs). */
  tryWait() {
    return promised(() => this.#native.wait(0));
  }

  /** End the whole job. `options.signal` is an AbortSignal: an abort during the grace
   * period escalates to the kill signal at once. `options.termSignal` is the first signal. */
  terminate(options) {
    const [abort, rest] = splitSignal(options);
    const config = rest ? { ...rest, signal: rest.termSignal } : undefined;
    if (config) delete config.termSignal;
    return cancellable(abort, (c) => this.#native.terminate(config, c));
  }

  /** End the whole job with KILL at once. */
  kill() {
    return promised(() => this.#native.terminate({ signal: 'KILL', graceTimeoutMs: 2000 }));
  }

  /** Ends the job's tree (once); nothing left to end is not an error. */
  async [Symbol.asyncDispose]() {
    if (this.#disposed) return;
    this.#disposed = true;
    await promised(() => this.#native.dispose());
  }
}

function spawnInGroup(options) {
  checkOptions('options', options);
  return new Job(sync(native.spawnInGroup)(options));
}

function termConfig(rest) {
  if (!rest) return undefined;
  const config = { ...rest, signal: rest.termSignal };
  delete config.termSignal;
  return config;
}

module.exports = {
  SysprimsError,
  Job,
  processGet: sync(native.processGet),
  processIdentity: sync(native.processIdentity),
  processList: (options) => promised(native.processList, options),
  descendants: (pid, options) => {
    checkOptions('options', options);
    return promised(native.descendants, pid, options?.maxLevels);
  },
  verifyIdentity: sync(native.verifyIdentity),
  kill: sync(native.kill),
  signalIf: sync(native.signalIf),
  killDescendants: (pid, signal, options) => promised(native.killDescendants, pid, signal, options),
  spawnInGroup,
  waitPid: (pid, options) => {
    const [abort, rest] = splitSignal(options);
    return cancellable(abort, (c) => native.waitPid(pid, rest?.timeoutMs, c));
  },
  terminateTree: (pid, options) => {
    const [abort, rest] = splitSignal(options);
    return cancellable(abort, (c) => native.terminateTree(pid, termConfig(rest), c));
  },
  runWithTimeout: (argv, timeoutMs, options) => {
    const [abort, rest] = splitSignal(options);
    return cancellable(abort, (c) => native.runWithTimeout(argv, timeoutMs, termConfig(rest), c));
  },
  listFds: (pid, filter) => promised(native.listFds, pid, filter),
  listeningPorts: (filter) => promised(native.listeningPorts, filter),
};
