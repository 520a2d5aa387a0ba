"""Start-up time of `hv run hello`, whole process: to the first guest byte and to the exit.

    python bench/start.py              # warm: 7 rounds (the compiled-code cache is kept)
    python bench/start.py --cold 2     # also cold rounds: every __pycache__ under hypervisor/
                                       # removed first (numba's cache lives there too)
    python bench/start.py --argv "run hello" --rounds 9
    python bench/start.py --vs /work/main   # this tree and another, alternated round by round

Each round runs `python -m hypervisor.cli ARGV` from the repository root (this worktree's
code) and times, from just before the spawn, the first byte the guest writes on stdout and the
process's exit, and takes the process's CPU time (user + system: the figure least moved by a
busy machine).  Medians and the range are printed; the machine is shared, so compare only
figures taken side by side.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clear_caches(root=ROOT):
    for top, dirs, _files in os.walk(os.path.join(root, "hypervisor")):
        if "__pycache__" in dirs:
            shutil.rmtree(os.path.join(top, "__pycache__"))
            dirs.remove("__pycache__")


def one_round(argv, root=ROOT):
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "hypervisor.cli", *argv], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    first = proc.stdout.read(1)
    t_first = time.perf_counter() - t0
    proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    t_exit = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if not first or code != 0:
        raise SystemExit(f"hv {' '.join(argv)}: status {code}: {err.decode()[-300:]}")
    return t_first, t_exit, usage.ru_utime + usage.ru_stime


def show(label, rounds):
    parts = []
    for i, what in enumerate(("first byte", "exit", "CPU")):
        xs = [r[i] for r in rounds]
        parts.append(f"{what} {statistics.median(xs):.3f} s [{min(xs):.3f}-{max(xs):.3f}]")
    print(f"{label:<5} " + "   ".join(parts) + f"   (medians, {len(rounds)} rounds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="warm rounds (default 7)")
    ap.add_argument("--cold", type=int, default=0, metavar="N", help="cold rounds first")
    ap.add_argument("--argv", default="run hello", help="the hv command (default: run hello)")
    ap.add_argument("--vs", metavar="DIR", help="another source tree, run alternately")
    args = ap.parse_args()
    argv = args.argv.split()
    roots = [ROOT] + ([os.path.abspath(args.vs)] if args.vs else [])
    for kind, rounds in (("cold", args.cold), ("warm", args.rounds)):
        results = {root: [] for root in roots}
        for _ in range(rounds):
            for root in roots:
                if kind == "cold":
                    clear_caches(root)
                elif not results[root]:
                    one_round(argv, root)       # fills the cache if it was empty
                results[root].append(one_round(argv, root))
        for root in roots:
            if results[root]:
                show(kind, results[root])
                print(f"      ({root})")


if __name__ == "__main__":
    main()
