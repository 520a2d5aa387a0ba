"""Containers on the shared kernel beside a process in a Linux VM and a whole Linux VM: the
figures of issue 13, side by side.

    python bench/containers.py [--rounds 5] [--calls 100000]

The same binaries everywhere: the bundled userland (BusyBox, the demo `hello`) with
guests/containers/tool at /opt/tool (a layer over userland.tar for the container, an extra
--initrd for the VM).  Each round measures the three systems, alternating which one goes
first, and the per-round ratios are kept; the medians of rounds are printed.

* host memory: the Python-side bytes (tracemalloc) beyond the instance's host pages, and those
  pages -- for a container running `sh` and a Linux VM booted to its shell prompt; for one
  more process (10 `sleep`s started from the shell), the host bytes and pages it adds and what
  the kernel itself accounts (MemAvailable of the kernel's own /proc/meminfo).
* time from run to the first instruction (the scheduler first gives the instance the hart)
  and to the first output: a container running `hello`; a whole Linux VM (its first console
  byte, and `hello`'s output with run="hello"); a process in a booted VM (the line typed at
  the shell until `hello`'s output; its first instruction cannot be seen from the host).
* system calls per second in a loop (`tool syscalls N`: getppid N times), marginal over two
  loop lengths so start-up costs cancel, and exits per system call: a container's every call
  is an exit to the shared kernel in Python; in the VM a call is an ecall delegated to the
  guest kernel (no exit), and the exits per call are read from the VM's exit counters over the
  same loop.
"""
import argparse
import os
import stat
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypervisor import state as S                      # noqa: E402
from hypervisor import scheduler as sched              # noqa: E402
from hypervisor.catalog import rootfs_path              # noqa: E402
from hypervisor.engine import Engine                   # noqa: E402
from hypervisor.kernel import runtime                  # noqa: E402
from hypervisor.memory import resident_bytes           # noqa: E402
from kernelhelp import PROGS, layer, newc              # noqa: E402

PROMPT = b"hvlab:~# "
FILES = {"opt": (stat.S_IFDIR | 0o755, b""),
         "opt/tool": (stat.S_IFREG | 0o755, (PROGS / "tool").read_bytes())}
SLEEPERS = 10

# ------------------------------------------------------------------ instruments
_first_slice = {}
_real_slice = sched.Scheduler.run_slice


def _run_slice(self, vm, *a, **kw):
    """The moment the hart is first given an instance: its first instruction follows."""
    _first_slice.setdefault(id(vm), time.perf_counter())
    return _real_slice(self, vm, *a, **kw)


sched.Scheduler.run_slice = _run_slice


class Watch:
    """Timestamps of console output: when ``pattern`` first appears after ``mark``."""

    def __init__(self, inst):
        self.inst, self.buf, self.lock = inst, bytearray(), threading.Lock()
        self.first_byte = None
        self.hits = {}
        inst.console.listeners.append(self)

    def __call__(self, data):
        now = time.perf_counter()
        with self.lock:
            if self.first_byte is None:
                self.first_byte = now
            self.buf += data
            for pat in list(self.hits):
                if self.hits[pat][0] is None and self.buf.find(pat, self.hits[pat][2]) >= 0:
                    self.hits[pat] = (now, vm_exits(self.inst), self.hits[pat][2])

    def expect(self, pattern):
        with self.lock:
            self.hits[pattern] = (None, None, len(self.buf))

    def wait(self, pattern, timeout=120):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            with self.lock:
                t, exits, _ = self.hits[pattern]
            if t is not None:
                return t, exits
            if self.inst.done:
                break
            time.sleep(0.001)
        raise RuntimeError(f"{self.inst.name}: no {pattern!r}: {self.inst.console.text()[-300:]}")

    def text_between(self, a, b):
        with self.lock:
            data = bytes(self.buf)
        return data[data.rfind(a) + len(a):data.rfind(b)].decode("latin-1")


def vm_exits(inst):
    """(exits of any kind but delegated exceptions, delegated exceptions, exits to Python,
    the counters by kind)."""
    st = inst.st
    counts = {n: int(st[S.COUNTERS + i]) for i, n in enumerate(S.EXIT_NAMES)}
    delegated = counts.get("exc_delegated", 0)
    total = sum(v for k, v in counts.items() if k != "exc_delegated")
    # answered in Python: a container's every exit (exceptions to the monitor, first touches);
    # a VM's CSR, sret, wfi and sfence exits are emulated in the compiled hart, its MMIO and
    # SBI calls (some of them fast-pathed in the hart: an upper bound) come to Python
    python = sum(counts.get(k, 0) for k in ("exc_monitor", "gstage", "mmio", "sbi"))
    return total, delegated, python, counts


def shell(inst, watch, command, timeout=120):
    """Type ``command`` at a shell between two markers; (t0, t1, exits0, exits1, output).
    The markers are computed by the shell, so its echo of the typed line never matches."""
    a, b = b"S42\r\n" if inst.kind == "vm" else b"S42\n", b"E42"
    watch.expect(a)
    watch.expect(b)
    inst.engine.send_input(inst, f"echo S$((6*7)); {command}; echo E$((6*7))\n".encode())
    t0, e0 = watch.wait(a, timeout)
    t1, e1 = watch.wait(b, timeout)
    return t0, t1, e0, e1, watch.text_between(a, b)


def mem_available(text):
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError(f"no MemAvailable in {text!r}")


# ------------------------------------------------------------------ the systems
class System:
    def __init__(self, image, initrd):
        self.image, self.initrd = image, initrd

    def container(self, engine, argv, **kw):
        c = runtime.create(engine, self.image, argv, memory=64 << 20, **kw)
        return c, Watch(c)

    def linux(self, engine, name="linux", append=""):
        vm = engine.create(name, mem=64 << 20, initrd=self.initrd, bootargs=append)
        return vm, Watch(vm)


def first_output(sysm):
    """Seconds from create to the first instruction and to the first output, per system."""
    out = {}
    e = Engine(host_mem=256 << 20)
    try:
        t = time.perf_counter()
        c, w = sysm.container(e, ["/usr/bin/hello"])
        w.expect(b"hello from")
        e.start(c)
        out["c_out"] = w.wait(b"hello from")[0] - t
        out["c_insn"] = _first_slice[id(c)] - t
        e.wait(vms=[c], timeout=60)
        t = time.perf_counter()
        vm, w = sysm.linux(e, "linux-batch", 'run="hello"')
        w.expect(b"hello from")
        e.start(vm)
        out["vm_out_prog"] = w.wait(b"hello from")[0] - t
        out["vm_out"] = w.first_byte - t
        out["vm_insn"] = _first_slice[id(vm)] - t
        e.wait(vms=[vm], timeout=120)
    finally:
        e.shutdown()
    return out


def boot_to_prompt(e, sysm):
    vm, w = sysm.linux(e)
    w.expect(PROMPT)
    e.start(vm)
    w.wait(PROMPT)
    time.sleep(0.2)
    return vm, w


def syscall_figures(sysm, calls, first):
    """(container rate, exits/call to Python), (VM-process rate, exits/call, delegated/call)."""
    small, big = calls // 10, calls // 10 + calls
    res = {}

    def in_container():
        e = Engine(host_mem=256 << 20)
        try:
            c, w = sysm.container(e, ["/bin/sh"])
            e.start(c)
            runs = [shell(c, w, f"/opt/tool syscalls {n}") for n in (small, big)]
            (t0, t1, e0, e1, _), (u0, u1, f0, f1, _) = runs
            res["c_rate"] = calls / ((u1 - u0) - (t1 - t0))
            res["c_exits"] = ((f1[2] - f0[2]) - (e1[2] - e0[2])) / calls
            e.kill(c)
        finally:
            e.shutdown()

    def in_vm():
        e = Engine(host_mem=256 << 20)
        try:
            vm, w = boot_to_prompt(e, sysm)
            runs = [shell(vm, w, f"/opt/tool syscalls {n}") for n in (small, big)]
            (t0, t1, e0, e1, _), (u0, u1, f0, f1, _) = runs
            res["vm_rate"] = calls / ((u1 - u0) - (t1 - t0))
            res["vm_exits"] = ((f1[0] - f0[0]) - (e1[0] - e0[0])) / calls
            res["vm_delegated"] = ((f1[1] - f0[1]) - (e1[1] - e0[1])) / calls
            res["vm_py_exits"] = ((f1[2] - f0[2]) - (e1[2] - e0[2])) / calls
            for k in f1[3]:
                res[f"vm_kind_{k}"] = ((f1[3][k] - f0[3][k]) - (e1[3][k] - e0[3][k])) / calls
            e.kill(vm)
        finally:
            e.shutdown()
    for f in ((in_container, in_vm) if first == "container" else (in_vm, in_container)):
        f()
    return res


def memory_figures(sysm, first):
    """Host bytes beyond pages, pages, and per extra process: host bytes, host pages and the
    kernel's own accounting (KiB of MemAvailable)."""
    res = {}
    start = f"for i in $(seq {SLEEPERS}); do sleep 1000 & done; cat /proc/meminfo"

    def measure(kind, make):
        e = Engine(host_mem=256 << 20, wall_clock=True)     # so the sleeps do sleep
        try:
            tracemalloc.start()
            base = tracemalloc.take_snapshot()
            inst, w = make(e)
            before = tracemalloc.take_snapshot()
            _, _, _, _, text0 = shell(inst, w, "cat /proc/meminfo")
            pages0 = inst.pages
            mid = tracemalloc.take_snapshot()
            _, _, _, _, text1 = shell(inst, w, start)
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            # the hart's TLB + predecode cache is an anonymous mapping (icache.new_tlb) that
            # tracemalloc does not see: its resident bytes (the slots used) are added
            tlb = resident_bytes(inst.tlb)
            res[f"{kind}_bytes"] = tlb + sum(
                s.size_diff for s in before.compare_to(base, "filename"))
            res[f"{kind}_tlb"] = tlb
            res[f"{kind}_pages"] = pages0
            res[f"{kind}_proc_bytes"] = sum(
                s.size_diff for s in after.compare_to(mid, "filename")) / SLEEPERS
            res[f"{kind}_proc_pages"] = (inst.pages - pages0) / SLEEPERS
            res[f"{kind}_proc_kib"] = (mem_available(text0) - mem_available(text1)) / SLEEPERS
            e.kill(inst)
        finally:
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            e.shutdown()

    def container(e):
        c, w = sysm.container(e, ["/bin/sh"])
        e.start(c)
        shell(c, w, "true")
        return c, w

    jobs = [("c", container), ("vm", lambda e: boot_to_prompt(e, sysm))]
    for kind, make in (jobs if first == "container" else jobs[::-1]):
        measure(kind, make)
    return res


# ------------------------------------------------------------------ the report
ROWS = [
    ("host bytes beyond its pages (KiB)", "c_bytes", "-", "vm_bytes", 1 / 1024),
    ("  of which the hart's TLB + predecode slots, resident (KiB)", "c_tlb", "-", "vm_tlb", 1 / 1024),
    ("host pages (4 KiB)", "c_pages", "-", "vm_pages", 1),
    ("one more process: host bytes (KiB)", "c_proc_bytes", "vm_proc_bytes", "-", 1 / 1024),
    ("one more process: host pages", "c_proc_pages", "vm_proc_pages", "-", 1),
    ("one more process: kernel's MemAvailable (KiB)", "c_proc_kib", "vm_proc_kib", "-", 1),
    ("run to first instruction (ms)", "c_insn", "-", "vm_insn", 1e3),
    ("run to first output (ms)", "c_out", "-", "vm_out", 1e3),
    ("run to hello's output (ms)", "c_out", "vm_out_proc", "vm_out_prog", 1e3),
    ("system calls per second (getppid)", "c_rate", "vm_rate", "-", 1),
    ("exits per system call (to the monitor)", "c_exits", "vm_exits", "-", 1),
    ("exits to Python per system call", "c_exits", "vm_py_exits", "-", 1),
    ("ecalls delegated to the guest kernel per call", "-", "vm_delegated", "-", 1),
]


def fmt(v, scale):
    if v is None:
        return "-"
    v *= scale
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) >= 0.01 else f"{v:.4f}"


def report(rounds):
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    lo = {k: min(r[k] for r in rounds) for k in rounds[0]}
    hi = {k: max(r[k] for r in rounds) for k in rounds[0]}
    print(f"\nmedians of {len(rounds)} rounds [min-max]")
    print("| figure | container | process in a Linux VM | whole Linux VM |")
    print("|---|---|---|---|")
    for label, *keys, scale in ROWS:
        cells = []
        for k in keys:
            if k == "-":
                cells.append("-")
            else:
                cells.append(f"{fmt(med[k], scale)} [{fmt(lo[k], scale)}-{fmt(hi[k], scale)}]")
        print(f"| {label} | " + " | ".join(cells) + " |")
    kinds = {k[8:]: v for k, v in med.items() if k.startswith("vm_kind_") and abs(v) >= 0.005}
    print("\nin the VM, exits per system call by kind (median): " +
          ", ".join(f"{k} {v:.2f}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])))
    ratios = [r["vm_rate"] / r["c_rate"] for r in rounds]
    outs = [r["vm_out_proc"] / r["c_out"] for r in rounds]
    print(f"\nper-round ratios (median): syscalls/s VM process / container "
          f"{statistics.median(ratios):.2f}; hello's output, VM process / container "
          f"{statistics.median(outs):.2f}")


def process_first_output(sysm):
    """A process in an already booted VM: the line typed until `hello` prints."""
    e = Engine(host_mem=256 << 20)
    try:
        vm, w = boot_to_prompt(e, sysm)
        w.expect(b"hello from")
        t = time.perf_counter()
        e.send_input(vm, b"hello\n")
        out = w.wait(b"hello from")[0] - t
        e.kill(vm)
        return {"vm_out_proc": out}
    finally:
        e.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    sysm = System([str(rootfs_path("userland")), str(layer(FILES, tmp / "tool.tar"))],
                  newc(FILES))
    first_output(sysm)                                  # warm numba's cache and the trees
    rounds = []
    for r in range(args.rounds):
        first = "container" if r % 2 == 0 else "vm"
        row = {}
        row.update(first_output(sysm))
        row.update(process_first_output(sysm))
        row.update(memory_figures(sysm, first))
        row.update(syscall_figures(sysm, args.calls, first))
        rounds.append(row)
        print(f"round {r + 1} ({first} first): syscalls/s container {row['c_rate']:,.0f}, "
              f"VM process {row['vm_rate']:,.0f}; first output container "
              f"{row['c_out'] * 1e3:.1f} ms, VM {row['vm_out'] * 1e3:.0f} ms", flush=True)
    report(rounds)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
