"""sysprims against psutil, in the same run, on the same processes, reported as ratios
(sysprims time / psutil time; below 1 is faster).

1. process_iter(['pid', 'name', 'cmdline', 'create_time', 'exe']) over ~2,000 processes:
   2,000 `sleep` processes are started as one job (cgroup where possible, else one process
   group) and ended whole afterwards.
2. Process(pid).create_time() + exe() + cmdline() for one process, repeated.

Each measurement is the median of several rounds, the two libraries alternating. Besides
the wall-clock time (what the targets are about), each round records the CPU time the
process used (all threads, user + system) and the calling thread's: on a machine shared with
other work the wall clock moves with the load, the CPU times much less. The load average is
printed before and after.
Usage: python bench/bench_vs_psutil.py [--sleepers N] [--rounds R] [--calls C]
"""

import argparse
import os
import resource
import statistics
import time

import psutil

import sysprims

ATTRS = ["pid", "name", "cmdline", "create_time", "exe"]


def measure(fn):
    """(wall seconds, process CPU seconds, calling thread's CPU seconds) of one call."""
    r0, m0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.thread_time(), time.perf_counter()
    fn()
    t1, m1, r1 = time.perf_counter(), time.thread_time(), resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return (t1 - t0, cpu, m1 - m0)


def compare(what, ours_fn, theirs_fn, rounds, per, unit, scale):
    """Alternate the two, `rounds` times each; print the medians and their ratios."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(measure(ours_fn))
        theirs.append(measure(theirs_fn))
    med = [[statistics.median(r[i] for r in runs) / per for i in range(3)] for runs in (ours, theirs)]
    (ow, oc, om), (tw, tc, _) = med
    print(
        f"{what}: sysprims {ow * scale:.1f} {unit}, psutil {tw * scale:.1f} {unit}, ratio {ow / tw:.2f}x"
        f" (CPU time: sysprims {oc * scale:.1f} {unit}, of which calling thread {om * scale:.1f},"
        f" psutil {tc * scale:.1f}, ratio {oc / tc:.2f}x)"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sleepers", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()

    r, w = os.pipe()
    os.set_inheritable(w, True)
    script = f"i=0; while [ $i -lt {args.sleepers} ]; do sleep 100000 & i=$((i+1)); done; echo ready >/dev/fd/{w}; wait"
    job = sysprims.spawn_in_group(["sh", "-c", script], stdout="null", grace=1)
    os.close(w)
    try:
        with os.fdopen(r) as f:
            assert f.readline() == "ready\n"
        n_ours = len(list(sysprims.process_iter(ATTRS)))
        n_theirs = len(list(psutil.process_iter(ATTRS)))
        print(f"processes listed: sysprims {n_ours}, psutil {n_theirs} ({job.containment})")

        print("load average before: %.2f %.2f %.2f" % os.getloadavg())
        compare(
            f"process_iter({ATTRS})",
            lambda: list(sysprims.process_iter(ATTRS)),
            lambda: list(psutil.process_iter(ATTRS)),
            args.rounds, 1, "ms", 1e3,
        )

        pid = sysprims.Process(job.pid).children()[0].pid

        def one(cls):
            def run():
                for _ in range(args.calls):
                    p = cls(pid)
                    p.create_time()
                    p.exe()
                    p.cmdline()

            return run

        compare(
            "Process(pid).create_time()+exe()+cmdline()",
            one(sysprims.Process),
            one(psutil.Process),
            args.rounds, args.calls, "us", 1e6,
        )
        print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        job.kill()


if __name__ == "__main__":
    main()
