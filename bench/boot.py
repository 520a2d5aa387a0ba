"""The Linux boot (`hv run linux-batch`: boot, `primes 20000`, power-off) on this checkout's hart
beside another checkout's, whole processes, alternated round by round.

    python bench/boot.py --vs /tmp/base [--rounds 7]

Each round runs both trees' `python -m hypervisor.cli run linux-batch --stats` (warm numba
caches: one unmeasured run of each first) and takes the VM's host seconds and MIPS from
--stats (the hart and the monitor at work, no start-up) and the whole process's wall time.
Printed: medians, and the per-round ratio other/this of the VM host time (> 1: this tree is
faster).  The machine is shared: only the ratios of runs side by side mean much.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def boot(tree):
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "hypervisor.cli", "run", "linux-batch",
                          "--stats"], cwd=tree, env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=600)
    wall = time.perf_counter() - t0
    if run.returncode != 0 or "2262" not in run.stdout:
        sys.exit(f"{tree}: the boot failed: {run.stderr[-500:]}")
    lines = run.stderr.splitlines()         # the row after the table's rule: older trees
    row = lines[next(i for i, x in enumerate(lines) if x.startswith("----")) + 1]   # name it vm1
    cols = row.split()
    return wall, float(cols[4]), float(cols[3]), int(cols[2].replace(",", ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vs", type=Path, required=True, metavar="DIR")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    trees = [ROOT, args.vs.resolve()]
    for t in trees:
        boot(t)                                     # fill (or load) the numba cache
    res = {t: [] for t in trees}
    for _ in range(args.rounds):
        for t in trees:
            res[t].append(boot(t))
    for t in trees:
        wall, host, mips, insns = (statistics.median(r[i] for r in res[t]) for i in range(4))
        print(f"{str(t):<32} VM host {host:.3f} s  {mips:6.1f} MIPS  process {wall:.3f} s  "
              f"({insns:,.0f} instructions)")
    ratio = [o[1] / s[1] for s, o in zip(res[trees[0]], res[trees[1]])]
    print(f"VM host time, other / this, per round: median {statistics.median(ratio):.2f} "
          f"(range {min(ratio):.2f}..{max(ratio):.2f}, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
