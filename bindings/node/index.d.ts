// Types of the sysprims Node.js API (index.js). The data types come from native.d.ts, which
// `napi build` generates from src/lib.rs (test.sh fails when it drifts); this file types the
// thin JavaScript layer on top: SysprimsError, AbortSignal options and Job.

import type {
  DisposeResult,
  FdFilter,
  FdSnapshot,
  GuardedSignal,
  IdentityCheck,
  KillDescendantsOptions,
  KillReport,
  PortBindings,
  PortFilter,
  ProcessGetOptions,
  ProcessIdentity,
  ProcessInfo,
  ProcessListOptions,
  ProcessSnapshot,
  ProcessTree,
  KillOptions,
  SpawnOptions,
  SpawnResult,
  TerminateTreeOptions as NativeTerminateTreeOptions,
  TerminateTreeResult,
  TimeoutOptions as NativeTimeoutOptions,
  TimeoutOutcome,
  WaitPidResult,
} from './native';

export type * from './native';

/** A signal: a name (`'TERM'`, `'SIGTERM'`, `'term'`, `'RTMIN+1'`) or a number. */
export type SignalLike = string | number;

/** The library's error codes. */
export type ErrorCodeName =
  | 'InvalidArgument'
  | 'SpawnFailed'
  | 'Timeout'
  | 'PermissionDenied'
  | 'NotFound'
  | 'NotSupported'
  | 'System'
  | 'Internal';

/** Every error sysprims throws or rejects with. */
export declare class SysprimsError extends Error {
  readonly name: 'SysprimsError';
  /** The library's name for the error. */
  readonly code: ErrorCodeName;
  /** The process the error is about, when there is one. */
  readonly pid: number | undefined;
}

/** Options of the calls that an AbortSignal can cut short. */
export interface Abortable {
  signal?: AbortSignal;
}

/** How to end a tree. `termSignal` is the first signal (default TERM); `signal` is an
 * AbortSignal: an abort during the grace period sends `killSignal` at once. */
export interface TerminateTreeOptions
  extends Omit<NativeTerminateTreeOptions, 'signal'>,
    Abortable {
  termSignal?: SignalLike;
}

/** How to run a command under a deadline. `termSignal` is sent at the deadline (default
 * TERM); `signal` is an AbortSignal: an abort KILLs the whole job at once. */
export interface TimeoutOptions extends Omit<NativeTimeoutOptions, 'signal'>, Abortable {
  termSignal?: SignalLike;
}

export interface WaitOptions extends Abortable {
  /** Give up after this many milliseconds (`timedOut: true`); no limit when omitted. */
  timeoutMs?: number;
}

/** A job started by `spawnInGroup`: `await using job = spawnInGroup(...)` ends its whole tree
 * when the scope ends (on Node 20, call `await job[Symbol.asyncDispose]()`). */
export declare class Job implements AsyncDisposable {
  readonly pid: number;
  readonly pgid: number | undefined;
  /** Store it to recognise the process later (`verifyIdentity`, `signalIf`). */
  readonly identity: ProcessIdentity;
  readonly treeKillReliability: SpawnResult['treeKillReliability'];
  readonly containment: SpawnResult['containment'];
  readonly cgroup: string | undefined;
  readonly warnings: string[];
  /** Wait for the first process to exit and reap it; later waits return the same exit. */
  wait(options?: { timeoutMs?: number }): Promise<WaitPidResult>;
  /** `timedOut: true` while the first process runs. */
  tryWait(): Promise<WaitPidResult>;
  /** End the whole job: every process it started (in a cgroup, even after the first exited). */
  terminate(options?: TerminateTreeOptions): Promise<TerminateTreeResult>;
  /** End the whole job with KILL at once. */
  kill(): Promise<TerminateTreeResult>;
  /** Ends the job's tree (TERM, 5 s, KILL), once; nothing left to end is not an error. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Who PID `pid` is now. Throws `NotFound` when no process has it. */
export declare function processGet(pid: number, options?: ProcessGetOptions): ProcessInfo;
/** The identity of PID `pid` now, with the strongest evidence the kernel has. */
export declare function processIdentity(pid: number): ProcessIdentity;
/** Every process that matches, read off the event loop. */
export declare function processList(options?: ProcessListOptions): Promise<ProcessSnapshot>;
/** What runs below `pid`: the root first, then its descendants, parents before children. */
export declare function descendants(
  pid: number,
  options?: { maxLevels?: number },
): Promise<ProcessTree>;
/** Whether `identity.pid` still names the process `identity` was taken from. */
export declare function verifyIdentity(identity: ProcessIdentity): IdentityCheck;
/** Send `signal` (default TERM) to PID `pid`. PID 1, the caller and its group need
 * `allowProtected`. */
export declare function kill(pid: number, signal?: SignalLike, options?: KillOptions): void;
/** Send `signal` only if `identity.pid` is still that process (one pidfd: check and send). */
export declare function signalIf(
  identity: ProcessIdentity,
  signal?: SignalLike,
  options?: KillOptions,
): GuardedSignal;
/** Signal what `pid` started (never `pid`), each only if still the process listed. */
export declare function killDescendants(
  pid: number,
  signal?: SignalLike,
  options?: KillDescendantsOptions,
): Promise<KillReport>;
/** Start a job in a process group, and a cgroup of its own where one can be made. */
export declare function spawnInGroup(options: SpawnOptions): Job;
/** Wait for any process to end; the caller's own child is reaped. An abort resolves at once
 * with `timedOut: true` and `'cancelled'` among the warnings. */
export declare function waitPid(pid: number, options?: WaitOptions): Promise<WaitPidResult>;
/** End `pid` and everything it started. */
export declare function terminateTree(
  pid: number,
  options?: TerminateTreeOptions,
): Promise<TerminateTreeResult>;
/** Run `argv` under a deadline; on a timeout the whole job dies. */
export declare function runWithTimeout(
  argv: string[],
  timeoutMs: number,
  options?: TimeoutOptions,
): Promise<TimeoutOutcome>;
/** The open fds of `pid`. */
export declare function listFds(pid: number, filter?: FdFilter): Promise<FdSnapshot>;
/** Listening TCP and bound UDP sockets with every process that holds each. */
export declare function listeningPorts(filter?: PortFilter): Promise<PortBindings>;

export type { DisposeResult };
