"""Where the hart's cold compile time goes: per compiled function and per phase.

    python bench/compile.py                   # cold `hv run hello`, one table
    python bench/compile.py --passes          # ... and LLVM's own timings of _run's library
    python bench/compile.py --vs /tmp/base --rounds 3      # and another checkout, alternated
    python bench/compile.py --one-process    # the warm-up's helper process off: every function
                                             # compiled, and listed, in the measured process

Runs the command once in a child process with an empty numba cache (a fresh NUMBA_CACHE_DIR,
so this tree's own __pycache__ is left alone) and numba's event API listening
(numba.core.event: "numba:compile" for each function compiled, "numba:llvm_lock" for the time
spent inside LLVM).  For each compiled function it prints how many signatures it got, the
seconds of its compile with and without the functions compiled from inside it (its callees),
and the part of those spent in LLVM (optimisation passes, linking, machine code) against the
rest (numba: bytecode analysis, type inference, lowering to LLVM IR).  ``--passes`` adds, for
the biggest library, LLVM's pass timings (NUMBA_LLVM_PASS_TIMINGS): the function passes run
on each new module, the module passes run after the callees are linked in, and code
generation.  Process CPU time is reported too: the machine is shared, compare side by side.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, resource, sys, time
sys.argv = ["hv"] + sys.argv[1:]
from numba.core import event as ev

class Recorder(ev.Listener):
    '''Exclusive times: a stack of open compiles and compiler passes; the time of an entry
    less that of the entries opened inside it (a callee's compile starts while its caller's
    type inference runs), and the LLVM time charged to the innermost open entry.'''
    def __init__(self):
        self.stack, self.rows, self.passes, self.depth, self.llvm_t0 = [], [], {}, 0, 0.0
    def on_start(self, event):
        now = time.process_time()
        if event.kind == "numba:llvm_lock":
            self.depth += 1
            if self.depth == 1:
                self.llvm_t0 = now
            return
        if event.kind == "numba:run_pass":
            name = event.data["name"]
        else:
            d = event.data["dispatcher"]
            name = d.py_func.__module__.split(".")[-1] + "." + d.py_func.__name__
        self.stack.append(dict(kind=event.kind, name=name, args=str(event.data.get("args")),
                               t0=now, child=0.0, llvm=0.0))
    def on_end(self, event):
        now = time.process_time()
        if event.kind == "numba:llvm_lock":
            self.depth -= 1
            if self.depth == 0 and self.stack:
                self.stack[-1]["llvm"] += now - self.llvm_t0
            return
        f = self.stack.pop()
        f["incl"] = now - f["t0"]
        f["excl"] = f["incl"] - f["child"]
        if self.stack:
            self.stack[-1]["child"] += f["incl"]
        if f["kind"] == "numba:run_pass":      # charge the pass to the compile around it
            fn = next((e for e in reversed(self.stack) if e["kind"] == "numba:compile"),
                      dict(name="(none)", child=0.0, llvm=0.0))
            fn["child"] -= f["excl"]           # (its exclusive time stays the function's)
            fn["llvm"] += f["llvm"]
            key = (fn["name"], f["name"].split(" ")[0].split("_", 1)[-1])
            p = self.passes.setdefault(key, [0.0, 0.0])
            p[0] += f["excl"]
            p[1] += f["llvm"]
        else:
            self.rows.append(f)

rec = Recorder()
ev.register("numba:compile", rec)
ev.register("numba:llvm_lock", rec)
ev.register("numba:run_pass", rec)
t0 = time.perf_counter()
from hypervisor import cli
if os.environ.get("HV_COMPILE_ONE_PROCESS") == "1":
    from hypervisor.commands import warmup
    warmup._two_processes = lambda: None     # everything compiled here (see --one-process)
import contextlib, io
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = cli.main(sys.argv[1:])
    except SystemExit as e:
        code = e.code
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
ch = resource.getrusage(resource.RUSAGE_CHILDREN)   # (a helper process the warm-up waited for)
info = {}
try:
    from hypervisor import cpu
    for sig, cres in cpu._run.overloads.items():
        lib = cres.library
        info["run_ir_lines"] = lib.get_llvm_str().count("\n")
        info["run_asm_lines"] = lib.get_asm_str().count("\n")
        info["run_functions"] = sum(1 for _ in lib.get_defined_functions())
        if os.environ.get("NUMBA_LLVM_PASS_TIMINGS") == "1":
            info["passes"] = [(r.name, r.timings.get_total_time(),
                               r.timings.summary(topn=8))
                              for r in lib.recorded_timings]
except Exception as e:  # noqa: BLE001
    info["error"] = repr(e)
json.dump(dict(rows=[{k: v for k, v in r.items() if k != "t0"} for r in rec.rows],
               passes=[[f, p, t, l] for (f, p), (t, l) in rec.passes.items()],
               code=code, wall=wall, cpu=ru.ru_utime + ru.ru_stime + ch.ru_utime + ch.ru_stime,
               helper_cpu=ch.ru_utime + ch.ru_stime, info=info),
          sys.stderr)
"""


def measure(argv, tree=ROOT, passes=False, one_process=False):
    with tempfile.TemporaryDirectory(prefix="hv-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(tree)}
        if one_process:
            env["HV_COMPILE_ONE_PROCESS"] = "1"
        if passes:
            env["NUMBA_LLVM_PASS_TIMINGS"] = "1"
        proc = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=tree, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
    try:
        return json.loads(proc.stderr[proc.stderr.index('{"rows"'):])
    except ValueError:
        sys.exit(f"the child failed: {proc.stderr[-2000:]}")


def report(res, top=60):
    rows = res["rows"]
    per = {}
    for r in rows:
        p = per.setdefault(r["name"], dict(n=0, incl=0.0, excl=0.0, llvm=0.0, sigs=[]))
        p["n"] += 1
        p["excl"] += r["excl"]
        p["llvm"] += r["llvm"]
        p["incl"] = max(p["incl"], r["incl"])
        p["sigs"].append(r["args"])
    total_excl = sum(p["excl"] for p in per.values())
    total_llvm = sum(p["llvm"] for p in per.values())
    print(f"{'function':<28} {'sigs':>4} {'incl s':>7} {'excl s':>7} {'LLVM s':>7} "
          f"{'numba s':>7}")
    for name, p in sorted(per.items(), key=lambda kv: -kv[1]["excl"])[:top]:
        print(f"{name:<28} {p['n']:>4} {p['incl']:>7.2f} {p['excl']:>7.2f} {p['llvm']:>7.2f} "
              f"{p['excl'] - p['llvm']:>7.2f}")
    print(f"{'all ' + str(len(per)) + ' functions':<28} {len(rows):>4} {'':>7} "
          f"{total_excl:>7.2f} {total_llvm:>7.2f} {total_excl - total_llvm:>7.2f}")
    multi = {n: p["sigs"] for n, p in per.items() if p["n"] > 1}
    for n, sigs in multi.items():
        print(f"  {n}: {len(sigs)} signatures: " + "; ".join(sigs))
    phases = {}
    for fn, pss, t, llvm in res["passes"]:
        ph = phases.setdefault(pss, [0.0, 0.0, 0.0])
        ph[0] += t
        ph[1] += llvm
        if fn == "cpu._run":
            ph[2] += t
    print("numba's passes, all functions (exclusive s; of which in LLVM; of which in _run):")
    print("  " + ", ".join(f"{k} {v[0]:.2f} ({v[1]:.2f}; _run {v[2]:.2f})" for k, v in
                           sorted(phases.items(), key=lambda kv: -kv[1][0]) if v[0] >= 0.005))
    info = res["info"]
    print(f"process: wall {res['wall']:.2f} s, CPU {res['cpu']:.2f} s (of which a helper "
          f"process {res.get('helper_cpu', 0):.2f} s), exit {res['code']}; "
          f"_run's library: {info.get('run_functions')} functions, "
          f"{info.get('run_ir_lines')} lines of LLVM IR, {info.get('run_asm_lines')} of assembly")
    for name, seconds, summary in info.get("passes", []):
        print(f"  LLVM, _run's library, {name}: {seconds:.2f} s")
        print("    " + summary.replace("\n", "\n    ").rstrip())


def summary(res):
    """(process CPU s, wall s, compile s, of which LLVM s, functions compiled, signatures)"""
    rows = res["rows"]
    return (res["cpu"], res["wall"], sum(r["excl"] for r in rows), sum(r["llvm"] for r in rows),
            len({r["name"] for r in rows}), len(rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--argv", default="run hello", help="the hv command (default: run hello)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout to measure")
    ap.add_argument("--vs", type=Path, metavar="DIR",
                    help="another checkout: both measured, alternated, --rounds times")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--passes", action="store_true", help="LLVM pass timings of _run")
    ap.add_argument("--one-process", action="store_true",
                    help="no helper process in the warm-up: every function compiled (and "
                         "listed) in the measured process")
    ap.add_argument("--json", action="store_true", help="print the raw figures")
    args = ap.parse_args(argv)
    trees = [args.tree.resolve()] + ([args.vs.resolve()] if args.vs else [])
    results = {t: [] for t in trees}
    for _ in range(args.rounds):
        for t in trees:
            results[t].append(measure(args.argv.split(), t, args.passes, args.one_process))
    if args.json:
        print(json.dumps({str(t): r for t, r in results.items()}))
        return
    for t in trees:
        print(f"== {t}")
        report(sorted(results[t], key=lambda r: r["cpu"])[len(results[t]) // 2])
    if len(trees) > 1 or args.rounds > 1:
        print(f"{'tree':<28} {'CPU s':>6} {'wall s':>6} {'compile':>7} {'LLVM':>6} "
              f"{'numba':>6} {'funcs':>5} {'sigs':>5}   (medians of {args.rounds} rounds)")
        import statistics
        for t in trees:
            cols = list(zip(*(summary(r) for r in results[t])))
            med = [statistics.median(c) for c in cols]
            print(f"{str(t)[-28:]:<28} {med[0]:>6.2f} {med[1]:>6.2f} {med[2]:>7.2f} "
                  f"{med[3]:>6.2f} {med[2] - med[3]:>6.2f} {med[4]:>5.0f} {med[5]:>5.0f}")
            print(f"{'':<28} CPU per round: " + " ".join(f"{c:.2f}" for c in cols[0]))


if __name__ == "__main__":
    main()
