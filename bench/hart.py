"""Benchmark the hart against its peers on the compute guest, side by side in one run.

    python bench/hart.py [--rounds 5] [--image hypervisor/guest_images/bench.elf]
                         [--baseline DIR] [--full]

Prints, per system: instructions, median seconds, MIPS and the ratio to hvlab; hvlab is run
bare (paging off), with the guest's own Sv32 page tables (bench-sv32.elf) and on the same
kernel compiled with compressed instructions (bench-c.elf).  ``--baseline DIR`` adds the hart
of another checkout (e.g. the previous main: ``git worktree add /tmp/base main``), run in a
child process per round and timed there, so two versions of the hart run side by side.
``--full`` adds bench-full.elf under the whole monitor (S-mode kernel, Sv32, 100 Hz timer, SBI;
the engine's worker thread, VM host time), for this checkout and for the baseline's.
Rounds alternate the systems, so a busy machine slows all of them alike.  Every time excludes
start-up (Unicorn's emu_start only; QEMU's whole process, its empty run's start-up reported).
Also measures the warm start: a fresh process, compiled code already cached, until the first
guest instruction has run.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # this checkout's hypervisor
import peers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WARM_START = """
import time; t0 = time.perf_counter()
import numpy as np
from hypervisor import cpu, icache, state as S
st = np.zeros(S.STATE_SIZE, np.int64); st[S.RAM_BASE] = 0x80000000; st[S.RAM_SIZE] = 4096
st[S.TIME_DIV] = 10; st[S.TIMECMP] = -1; st[S.PRIV] = 1; st[S.PC] = 0x80000000
ram = np.zeros(8192, np.uint8); ram[4096:4100] = [0x13, 0, 0, 0]   # nop
cpu.run(st, ram, np.array([1], np.int32), icache.new_tlb(1), 1,
        np.zeros(1, np.int64))
assert st[S.INSTRET] == 1
print(time.perf_counter() - t0)
"""


def warm_start(python=sys.executable):
    """Seconds from interpreter start-up to the first guest instruction (cache warm)."""
    subprocess.run([python, "-c", WARM_START], check=True, capture_output=True)  # fill cache
    t0 = time.perf_counter()
    out = subprocess.run([python, "-c", WARM_START], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, float(out.stdout)


BASELINE = """
import sys; sys.path.insert(0, "bench"); import peers
peers.hart_bare(sys.argv[1])                         # load (or compile) the cache first
seconds, outcome, insns = peers.hart_bare(sys.argv[1])
print(seconds, outcome, insns)
"""


FULL = """
import sys; sys.path.insert(0, "bench"); import monitor
rate, vm = monitor.full_monitor(sys.argv[1], 1)
print(vm.host_ns / 1e9, "pass" if vm.exit_code == 0 else "fail")
"""


def baseline(tree, image, child=BASELINE):
    """(seconds, outcome) of the hart of checkout ``tree`` on ``image``, in a child process."""
    out = subprocess.run([sys.executable, "-c", child, str(Path(image).resolve())],
                         cwd=tree, capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(tree)})
    seconds, outcome = out.stdout.split()[:2]
    return float(seconds), outcome


def full_monitor(image):
    """(VM host seconds, outcome) of ``image`` under this checkout's whole monitor."""
    import monitor
    _rate, vm = monitor.full_monitor(str(image), 1)
    return vm.host_ns / 1e9, "pass" if vm.exit_code == 0 else "fail"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--image", default=ROOT / "hypervisor/guest_images/bench.elf", type=Path)
    ap.add_argument("--sv32-image", default=ROOT / "hypervisor/guest_images/bench-sv32.elf", type=Path)
    ap.add_argument("--rvc-image", default=ROOT / "hypervisor/guest_images/bench-c.elf", type=Path)
    ap.add_argument("--baseline", type=Path, metavar="DIR",
                    help="another checkout whose hart runs beside this one")
    ap.add_argument("--full", action="store_true",
                    help="also bench-full.elf under the whole monitor (and the baseline's)")
    ap.add_argument("--full-image", default=ROOT / "hypervisor/guest_images/bench-full.elf",
                    type=Path)
    args = ap.parse_args(argv)

    peers.hart_bare(args.image)                         # compile / load the cache first
    systems = [("hvlab (paging off)", lambda: peers.hart_bare(args.image)[:2])]
    if args.sv32_image.exists():
        systems.append(("hvlab (guest Sv32)", lambda: peers.hart_bare(args.sv32_image)[:2]))
    if args.rvc_image.exists():
        peers.hart_bare(args.rvc_image)
        systems.append(("hvlab (bench-c, RVC)", lambda: peers.hart_bare(args.rvc_image)[:2]))
    if args.baseline:
        systems.append((f"baseline {args.baseline.name}",
                        lambda: baseline(args.baseline, args.image)))
    if args.full:
        full_monitor(args.full_image)                   # (the monitor's code warm too)
        systems.append(("full monitor, bench-full", lambda: full_monitor(args.full_image)))
        if args.baseline:
            systems.append((f"full, baseline {args.baseline.name}",
                            lambda: baseline(args.baseline, args.full_image, FULL)))
    if peers.unicorn(args.image) is not None:
        systems.append(("unicorn 2 (no hooks)", lambda: peers.unicorn(args.image)))
    if peers.qemu(args.image) is not None:
        systems.append(("qemu-system-riscv32", lambda: peers.qemu(args.image)))
    insns = peers.hart_bare(args.image)[2]
    times = {name: [] for name, _ in systems}
    for r in range(args.rounds):
        for name, fn in systems:
            seconds, outcome = fn()
            if outcome != "pass":
                sys.exit(f"{name}: the guest did not pass ({outcome})")
            times[name].append(seconds)
    base = times[systems[0][0]]
    print(f"guest: {args.image.name}, {insns:,} instructions, median of {args.rounds} rounds")
    print("time ratio: this system's time / hvlab's (paging off) in the same round, median;"
          " > 1 means hvlab is faster")
    print(f"{'system':<24} {'seconds':>8} {'MIPS':>8} {'best MIPS':>10} {'ratio':>7}")
    for name, _ in systems:
        med = statistics.median(times[name])
        ratio = statistics.median(t / b for t, b in zip(times[name], base))
        print(f"{name:<24} {med:>8.3f} {insns / med / 1e6:>8.1f} "
              f"{insns / min(times[name]) / 1e6:>10.1f} {ratio:>7.2f}")
    pairs = [("hvlab (paging off)", f"baseline {args.baseline.name}" if args.baseline else None),
             ("full monitor, bench-full",
              f"full, baseline {args.baseline.name}" if args.baseline else None)]
    for this, other in pairs:
        if this in times and other in times:
            r = [o / t for o, t in zip(times[other], times[this])]
            print(f"{this}: {statistics.median(r):.2f}x the baseline's speed (per-round "
                  f"time ratio, range {min(r):.2f}..{max(r):.2f})")
    total, inside = warm_start()
    print(f"warm start to first guest instruction: {inside:.3f} s in-process, "
          f"{total:.3f} s for the whole process")


if __name__ == "__main__":
    main()
