"""sysprims against psutil, in the same run, on the same processes, reported as ratios
(sysprims time / psutil time; below 1 is faster).

1. process_iter(['pid', 'name', 'cmdline', 'create_time', 'exe']) over ~2,000 processes:
   2,000 `sleep` processes are started as one job (cgroup where possible, else one process
   group) and ended whole afterwards.
2. Process(pid).create_time() + exe() + cmdline() for one process, repeated.

Each measurement is the median of several rounds, the two libraries alternating.
Usage: python bench/bench_vs_psutil.py [--sleepers N] [--rounds R]
"""

import argparse
import os
import statistics
import time

import psutil

import sysprims

ATTRS = ["pid", "name", "cmdline", "create_time", "exe"]


def median_time(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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

        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(median_time(lambda: list(sysprims.process_iter(ATTRS)), 1))
            theirs.append(median_time(lambda: list(psutil.process_iter(ATTRS)), 1))
        o, t = statistics.median(ours), statistics.median(theirs)
        print(f"process_iter({ATTRS}): sysprims {o * 1e3:.1f} ms, psutil {t * 1e3:.1f} ms, ratio {o / t:.2f}x")

        pid = sysprims.Process(job.pid).children()[0].pid

        def one(cls):
            def run():
                for _ in range(args.calls):
                    p = cls(pid)
                    p.create_time()
                    p.exe()
                    p.cmdline()

            return run

        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(median_time(one(sysprims.Process), 1) / args.calls)
            theirs.append(median_time(one(psutil.Process), 1) / args.calls)
        o, t = statistics.median(ours), statistics.median(theirs)
        print(f"Process(pid).create_time()+exe()+cmdline(): sysprims {o * 1e6:.1f} us, psutil {t * 1e6:.1f} us, ratio {o / t:.2f}x")
    finally:
        job.kill()


if __name__ == "__main__":
    main()
