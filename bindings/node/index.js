'use strict';
// The sysprims Node.js API: the native addon (sysprims.node, built from src/lib.rs) behind a
// thin layer that
//  - turns the addon's errors into SysprimsError (code: the library's name, pid),
//  - maps an AbortSignal onto the library's CancelToken (a native Canceller),
//  - wraps jobs in Job, which has Symbol.asyncDispose: `await using job = spawnInGroup(...)`
//    ends the job's whole tree when the scope ends.

const native = require('./sysprims.node');

// Node 20 has Symbol.asyncDispose; older runtimes get the registered symbol TypeScript's
// helpers fall back on.
const asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

const TAG = 'sysprims\u001f';
const NAPI_TYPE_ERRORS = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected',
]);

// The keys each options object may have, by the native.d.ts interface it becomes (plus the
// JavaScript layer's own `signal`/`termSignal`). napi-rs ignores unknown keys; a misspelt
// option (`graceTimeout`) must be an error instead, as the library's JSON inputs make it.
// test/input.test.js checks these lists against native.d.ts.
const OPTION_KEYS = {
  ProcessGetOptions: ['includeEnv'],
  ProcessListOptions: ['filter', 'sort', 'reverse', 'limit', 'cpuSampleMs', 'includeEnv'],
  ProcessFilter: ['nameContains', 'nameEquals', 'user', 'ppid', 'pids', 'state', 'cpuAbove', 'memoryAboveKb', 'runningForMs'],
  ProcessIdentity: ['pid', 'startTimeUnixMs', 'startTimeBootTicks', 'bootId', 'exePath', 'pidfsInode'],
  KillOptions: ['allowProtected'],
  KillDescendantsOptions: ['filter', 'cpuSampleMs', 'dryRun', 'allowProtected'],
  SpawnOptions: ['argv', 'cwd', 'env', 'envClear', 'stdin', 'stdout', 'stderr', 'containment', 'cgroupParent', 'killOnParentDeath'],
  TerminateTreeOptions: ['signal', 'graceTimeoutMs', 'killSignal', 'killTimeoutMs', 'requireStartTimeMs', 'requireExePath', 'allowProtected'],
  TimeoutOptions: ['signal', 'killAfterMs', 'containment', 'cgroupParent', 'preserveStatus', 'foreground', 'cleanup', 'cwd', 'env', 'envClear', 'stdin', 'stdout', 'stderr', 'killOnParentDeath'],
  FdFilter: ['kinds'],
  PortFilter: ['protocol', 'port', 'pid'],
  StdioFile: ['path', 'append'],
};

function checkKeys(what, value, keys) {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SysprimsError('InvalidArgument', `invalid ${what} ${JSON.stringify(value)}: must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new SysprimsError(
        'InvalidArgument',
        `invalid ${what} key ${JSON.stringify(key)}: expected one of ${keys.join(', ')}`,
      );
    }
  }
}

function checkStdio(options) {
  for (const k of ['stdin', 'stdout', 'stderr']) {
    const v = options?.[k];
    if (v !== null && typeof v === 'object') checkKeys(`${k} option`, v, OPTION_KEYS.StdioFile);
  }
}

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

/** A PID must be a number: the native side checks it is an integer in 1..=2147483647. */
function pidArg(pid) {
  if (typeof pid !== 'number') {
    throw new SysprimsError('InvalidArgument', `invalid PID ${describe(pid)}: must be a number`);
  }
  return pid;
}

function describe(value) {
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (value === undefined) return 'undefined';
  try {
    return `${JSON.stringify(value)} (${value === null ? 'null' : typeof value})`;
  } catch {
    return `(${typeof value})`;
  }
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
    Object.freeze(this);
  }

  /** Wait for the first process to exit and reap it. */
  wait(options) {
    return promised(() => {
      checkKeys('wait option', options, ['timeoutMs']);
      return this.#native.wait(options?.timeoutMs);
    });
  }

  /** Whether the first process has exited (timedOut: true while it runs). */
  tryWait() {
    return promised(() => this.#native.wait(0));
  }

  /** End the whole job. `options.signal` is an AbortSignal: an abort during the grace
   * period escalates to the kill signal at once. `options.termSignal` is the first signal. */
  terminate(options) {
    return promised(() => {
      const [abort, rest] = splitSignal(options);
      return cancellable(abort, (c) => this.#native.terminate(termConfig(rest, 'TerminateTreeOptions'), c));
    });
  }

  /** End the whole job with KILL at once. */
  kill() {
    return promised(() => this.#native.terminate({ signal: 'KILL', graceTimeoutMs: 2000 }));
  }

  /** Ends the job's tree (once); nothing left to end is not an error. */
  async [asyncDispose]() {
    if (this.#disposed) return;
    this.#disposed = true;
    await promised(() => this.#native.dispose());
  }
}

function spawnInGroup(options) {
  checkKeys('spawnInGroup option', options, OPTION_KEYS.SpawnOptions);
  checkStdio(options);
  return new Job(sync(native.spawnInGroup)(options));
}

/** The JavaScript options (`termSignal`) as the native interface takes them (`signal`). */
function termConfig(rest, iface) {
  if (!rest) return undefined;
  const config = { ...rest };
  if ('termSignal' in config) {
    config.signal = config.termSignal;
    delete config.termSignal;
  }
  checkKeys(iface === 'TimeoutOptions' ? 'runWithTimeout option' : 'terminate option', config, OPTION_KEYS[iface]);
  checkStdio(config);
  return config;
}

function identityArg(identity) {
  checkKeys('identity', identity, OPTION_KEYS.ProcessIdentity);
  return identity;
}

function listOptions(options) {
  checkKeys('processList option', options, OPTION_KEYS.ProcessListOptions);
  checkKeys('filter', options?.filter, OPTION_KEYS.ProcessFilter);
  return options;
}

module.exports = {
  SysprimsError,
  Job,
  processGet: sync((pid, options) => {
    checkKeys('processGet option', options, OPTION_KEYS.ProcessGetOptions);
    return native.processGet(pidArg(pid), options);
  }),
  processIdentity: sync((pid) => native.processIdentity(pidArg(pid))),
  processList: (options) => promised(() => native.processList(listOptions(options))),
  descendants: (pid, options) =>
    promised(() => {
      checkKeys('descendants option', options, ['maxLevels']);
      return native.descendants(pidArg(pid), options?.maxLevels);
    }),
  verifyIdentity: sync((identity) => native.verifyIdentity(identityArg(identity))),
  kill: sync((pid, signal, options) => {
    checkKeys('kill option', options, OPTION_KEYS.KillOptions);
    return native.kill(pidArg(pid), signal, options);
  }),
  signalIf: sync((identity, signal, options) => {
    checkKeys('signalIf option', options, OPTION_KEYS.KillOptions);
    return native.signalIf(identityArg(identity), signal, options);
  }),
  killDescendants: (pid, signal, options) =>
    promised(() => {
      checkKeys('killDescendants option', options, OPTION_KEYS.KillDescendantsOptions);
      checkKeys('filter', options?.filter, OPTION_KEYS.ProcessFilter);
      return native.killDescendants(pidArg(pid), signal, options);
    }),
  spawnInGroup,
  waitPid: (pid, options) =>
    promised(() => {
      const [abort, rest] = splitSignal(options);
      return cancellable(abort, (c) => {
        checkKeys('waitPid option', rest, ['timeoutMs']);
        return native.waitPid(pidArg(pid), rest?.timeoutMs, c);
      });
    }),
  terminateTree: (pid, options) =>
    promised(() => {
      const [abort, rest] = splitSignal(options);
      return cancellable(abort, (c) => native.terminateTree(pidArg(pid), termConfig(rest, 'TerminateTreeOptions'), c));
    }),
  runWithTimeout: (argv, timeoutMs, options) =>
    promised(() => {
      const [abort, rest] = splitSignal(options);
      return cancellable(abort, (c) => native.runWithTimeout(argv, timeoutMs, termConfig(rest, 'TimeoutOptions'), c));
    }),
  listFds: (pid, filter) =>
    promised(() => {
      checkKeys('listFds filter', filter, OPTION_KEYS.FdFilter);
      return native.listFds(pidArg(pid), filter);
    }),
  listeningPorts: (filter) =>
    promised(() => {
      checkKeys('listeningPorts filter', filter, OPTION_KEYS.PortFilter);
      return native.listeningPorts(filter);
    }),
};

// For the tests' check of OPTION_KEYS against native.d.ts; not part of the API.
Object.defineProperty(module.exports, '_optionKeys', { value: OPTION_KEYS, enumerable: false });
