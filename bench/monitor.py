"""Benchmark the monitor: the compute guest under the full monitor against the bare hart,
aggregate MIPS of many VMs, host bytes per VM, and the time from create to the first console
byte.  Ratios are printed beside the absolute figures.

    python bench/monitor.py [--quick]
"""
import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # this checkout's hypervisor
import peers  # noqa: E402
from hypervisor.memory import resident_bytes  # noqa: E402

from hypervisor import catalog  # noqa: E402
from hypervisor.asm import assemble_text  # noqa: E402
from hypervisor.engine import Engine  # noqa: E402
from hypervisor.memory import PAGE_SIZE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "hypervisor" / "guest_images"

# A compute loop small enough for 64 KiB of RAM (linked at the start of RAM): it runs until
# the monitor stops it, so the aggregate rate is measured over a fixed wall time.
SPIN_COMPUTE = """
    .globl _start
_start:
    li t0, 0
    li t2, 0x9e3779b9
1:  addi t0, t0, 1
    mul t1, t0, t2
    xor t3, t3, t1
    srli t4, t3, 7
    add t3, t3, t4
    andi t5, t0, 255
    bnez t5, 1b
    j 1b
"""


def _spin_elf():
    return assemble_text(SPIN_COMPUTE, base=0x80000000)


def full_monitor(image, rounds):
    """The compute guest under the whole monitor, in the scheduler's worker thread."""
    rates = []
    for _ in range(rounds):
        engine = Engine(128 << 20, threads=1)
        vm = engine.create(image, mem=64 << 20)
        engine.start(vm)
        engine.wait()
        engine.shutdown()
        assert vm.exit_code == 0, vm.reason
        rates.append(vm.stats()["instructions"] / (vm.host_ns / 1e9) / 1e6)
    return statistics.median(rates), vm


def aggregate(count, mem, seconds, threads):
    """Aggregate MIPS of ``count`` VMs running the spin guest for ``seconds`` of wall time."""
    engine = Engine(max(64 << 20, count * (mem + 2 * PAGE_SIZE) + (1 << 20)), threads=threads)
    elf = _spin_elf()
    vms = [engine.create(elf, mem=mem, prealloc=True) for _ in range(count)]
    for vm in vms:
        engine.start(vm)
    time.sleep(0.3)                                 # let every VM run once (warm-up)
    i0 = sum(int(vm.st[46]) for vm in vms)
    t0 = time.perf_counter()
    time.sleep(seconds)
    i1 = sum(int(vm.st[46]) for vm in vms)
    dt = time.perf_counter() - t0
    engine.shutdown()
    return (i1 - i0) / dt / 1e6


def bytes_per_vm(count=1024, mem=64 << 10):
    """Host memory a VM costs beyond its guest pages (numpy arrays and Python objects)."""
    engine = Engine(count * (mem + 2 * PAGE_SIZE) + (1 << 20))
    elf = _spin_elf()
    engine.create(elf, mem=mem)                     # first-use costs (imports, caches) first
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    vms = [engine.create(elf, mem=mem) for _ in range(count)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # the TLB + predecode array is an anonymous mapping (icache.new_tlb) that tracemalloc
    # does not see: its resident pages are added
    tlbs = sum(resident_bytes(vm.tlb) for vm in vms)
    return (after - before + tlbs) / count


def first_byte(rounds=20, parsed=True):
    """Seconds from Engine.create(hello) to its first console byte, engine already warm.
    parsed=False empties the parsed-image cache first: the ELF is read and checked again."""
    engine = Engine(256 << 20, threads=1)
    hello = IMAGES / "hello.elf"
    times = []
    for _ in range(rounds + 1):
        if not parsed:
            catalog._cache.clear()
        t0 = time.perf_counter()
        vm = engine.create(str(hello), mem=64 << 20)
        while vm.console.total == 0 and not vm.done:
            engine.step(vm, 10_000)
        times.append(time.perf_counter() - t0)
        engine.kill(vm)
        engine.remove(vm)
    return statistics.median(times[1:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs")
    args = ap.parse_args(argv)
    rounds, secs = (1, 1.0) if args.quick else (5, 3.0)

    bench = IMAGES / "bench.elf"
    full_image = IMAGES / "bench-full.elf"
    peers.hart_bare(bench)                          # warm the compiled code
    image = full_image if full_image.exists() else IMAGES / "bench-sv32.elf"
    bares, fulls = [], []
    for _ in range(rounds):                         # alternated, round by round
        seconds, _, insns = peers.hart_bare(bench)
        bares.append(insns / seconds / 1e6)
        rate, vm = full_monitor(str(image), 1)
        fulls.append(rate)
    bare, full = statistics.median(bares), statistics.median(fulls)
    ratio = statistics.median(f / b for f, b in zip(fulls, bares))
    print(f"(a) bare hart, bench.elf, paging off:           {bare:8.1f} MIPS")
    exits = {k: v for k, v in vm.stats()["exits"].items() if v}
    print(f"    full monitor, {image.name} (S-mode, Sv32{', 100 Hz timer' if full_image.exists() else ''}): "
          f"{full:8.1f} MIPS  = {ratio:.2f} x bare (median per-round ratio)   exits {exits}")

    pairs = [(aggregate(1, 64 << 10, secs, threads=1), aggregate(2, 64 << 10, secs, threads=2))
             for _ in range(rounds)]             # alternated: this machine's speed drifts
    one = statistics.median(p[0] for p in pairs)
    two = statistics.median(p[1] for p in pairs)
    scaling = statistics.median(b / a for a, b in pairs)
    print(f"(b) aggregate, 1 VM:    {one:8.1f} MIPS")
    print(f"    aggregate, 2 VMs on 2 threads: {two:8.1f} MIPS; per-round scaling "
          f"{scaling:.2f} x (range {min(b / a for a, b in pairs):.2f}.."
          f"{max(b / a for a, b in pairs):.2f})")
    for n in (64, 1024):
        agg = aggregate(n, 64 << 10, secs, threads=None)
        print(f"    aggregate, {n} VMs of 64 KiB: {agg:8.1f} MIPS = {agg / one:.2f} x one VM, "
              f"{agg / two:.2f} x 2 VMs")
    print(f"(c) host bytes per VM beyond guest pages (64 KiB RAM): {bytes_per_vm():,.0f}")
    print(f"(d) create to first console byte (hello, warm): {first_byte() * 1e3:.2f} ms; "
          f"{first_byte(parsed=False) * 1e3:.2f} ms when the ELF is parsed again")


if __name__ == "__main__":
    main()
