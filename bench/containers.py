"""Containers on the shared kernel beside VMs: the figures of issue 13.

    python bench/containers.py [--rounds 5] [--calls 200000]

Per round, alternating the kinds side by side in one process:
  * host bytes per container beyond its pages (tracemalloc over 50 containers made, not run),
    next to the same for 50 VMs of the bundled hello guest;
  * time from create to the first instruction and to the first byte of output, for a
    container (guests/containers/tool cat) and for a VM (hello.elf);
  * system calls per second in a syscall-heavy loop (tool syscalls N: getppid N times) and
    the exits to Python per system call (a syscall is one exit; page faults add a few).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypervisor import state as S                      # noqa: E402
from hypervisor.engine import Engine                   # noqa: E402
from hypervisor.kernel import runtime                  # noqa: E402
from kernelhelp import make_rootfs                     # noqa: E402


def bytes_per_instance(kind, root, n=50):
    e = Engine(host_mem=512 << 20)
    try:
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        made = []
        for i in range(n):
            if kind == "container":
                made.append(runtime.create(e, root, ["/bin/tool", "cat", "/etc/hostname"],
                                           memory=8 << 20))
            else:
                made.append(e.create("hello", mem=8 << 20))
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in snap.compare_to(base, "filename"))
        pages = sum(m.pages for m in made)
        return grown / n, pages / n
    finally:
        e.shutdown()


def bytes_per_process(root, n=100):
    """Python-side bytes of one more process (fork bomb held at --pids-limit n + 1)."""
    e = Engine(host_mem=512 << 20)
    try:
        c = runtime.create(e, root, ["/bin/tool", "ticker", "1000000"], memory=64 << 20)
        e.start(c)
        time.sleep(0.3)
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        with c.lock:
            from hypervisor.kernel import fork
            parent = c.procs[1]
            for _ in range(n):
                c.switch_to(parent)
                fork.fork(c, parent, 17, 0, 0, 0, 0)
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(x.size_diff for x in snap.compare_to(base, "filename"))
        return grown / n
    finally:
        e.shutdown()


def first_output(kind, root):
    e = Engine(host_mem=64 << 20)
    try:
        got = []
        t0 = time.perf_counter()
        if kind == "container":
            c = runtime.create(e, root, ["/bin/tool", "cat", "/etc/hostname"], memory=8 << 20)
        else:
            c = e.create("hello", mem=8 << 20)
        c.console.listeners.append(lambda d: got.append(time.perf_counter()) if not got else 0)
        e.start(c)
        e.wait(timeout=30, vms=[c])
        first_insn = getattr(c, "first_insn_at", None)
        return ((first_insn - t0) if first_insn else float("nan")), got[0] - t0
    finally:
        e.shutdown()


def syscall_rate(root, calls):
    e = Engine(host_mem=64 << 20)
    try:
        c = runtime.create(e, root, ["/bin/tool", "syscalls", str(calls)], memory=8 << 20)
        t0 = time.perf_counter()
        e.start(c)
        e.wait(timeout=600, vms=[c])
        dt = time.perf_counter() - t0
        exits = int(c.st[S.CNT_EXC_MONITOR]) + int(c.st[S.CNT_GSTAGE])
        return c.syscalls / dt, exits / c.syscalls, c.syscalls
    finally:
        e.shutdown()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    root = str(make_rootfs(Path(tempfile.mkdtemp()) / "root"))
    first_output("container", root)                     # warm numba's cache and the tree
    first_output("vm", root)
    rows = {k: [] for k in ("c_bytes", "vm_bytes", "c_insn", "c_out", "vm_insn", "vm_out",
                            "rate", "exits", "proc_bytes")}
    for r in range(args.rounds):
        order = ("container", "vm") if r % 2 == 0 else ("vm", "container")
        for kind in order:
            b, _ = bytes_per_instance(kind, root)
            rows["c_bytes" if kind == "container" else "vm_bytes"].append(b)
            i, o = first_output(kind, root)
            rows["c_insn" if kind == "container" else "vm_insn"].append(i)
            rows["c_out" if kind == "container" else "vm_out"].append(o)
        rows["proc_bytes"].append(bytes_per_process(root))
        rate, exits, n = syscall_rate(root, args.calls)
        rows["rate"].append(rate)
        rows["exits"].append(exits)
        print(f"round {r + 1}: container {rows['c_bytes'][-1] / 1024:.1f} KiB/instance, "
              f"first output {rows['c_out'][-1] * 1e3:.2f} ms; VM {rows['vm_bytes'][-1] / 1024:.1f}"
              f" KiB, {rows['vm_out'][-1] * 1e3:.2f} ms; {rate:,.0f} syscalls/s, "
              f"{exits:.4f} exits/syscall", flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print("\nmedians over rounds")
    print(f"  host bytes beyond its pages: container {med['c_bytes'] / 1024:.1f} KiB, "
          f"VM {med['vm_bytes'] / 1024:.1f} KiB")
    print(f"  host bytes of one more process (forked, pages shared copy-on-write): "
          f"{med['proc_bytes'] / 1024:.1f} KiB")
    print(f"  create -> first instruction: container {med['c_insn'] * 1e3:.2f} ms")
    print(f"  create -> first output: container {med['c_out'] * 1e3:.2f} ms, "
          f"VM {med['vm_out'] * 1e3:.2f} ms (ratio {med['c_out'] / med['vm_out']:.2f})")
    print(f"  syscalls per second (getppid loop): {med['rate']:,.0f}; "
          f"exits per syscall {med['exits']:.4f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
