"""Linux boot to power-off: hvlab beside QEMU, whole processes, alternated round by round.

    python bench/linux.py [--rounds N]

Each round runs, in turn, `hv run linux-batch` (this checkout, warm numba cache) and
`qemu-system-riscv32` booting the same linux.Image under hvlab's test SBI
(guests/build/sbishim.elf, made by `make -C guests build/sbishim.elf`), both to power-off with
`primes 20000`.  Printed: each round's wall times, the medians, the per-round ratio's median,
and hvlab's guest instructions and MIPS (VM time, from --stats).  The machine is shared: only
the ratio of systems run side by side means much.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = ROOT / "hypervisor" / "guest_images" / "linux.Image"
SHIM = ROOT / "guests" / "build" / "sbishim.elf"
APPEND = 'console=ttyS0 quiet run="primes 20000"'


def timed(argv, **kw):
    t = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t, run


def hv():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    dt, run = timed([sys.executable, "-m", "hypervisor.cli", "run", "linux-batch", "--stats"],
                    env=env, cwd=ROOT)
    assert run.returncode == 0 and "2262" in run.stdout, run.stderr[-500:]
    row = run.stderr.strip().splitlines()[-1].split()
    return dt, int(row[2].replace(",", "")), float(row[4])


def qemu():
    dt, run = timed(["qemu-system-riscv32", "-machine", "virt", "-cpu",
                     "rv32,c=false,f=false,d=false,sstc=false", "-m", "64M", "-nographic",
                     "-bios", str(SHIM), "-kernel", str(IMAGE), "-append", APPEND], timeout=120)
    assert "2262" in run.stdout, run.stdout[-500:]
    return dt


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    have_qemu = shutil.which("qemu-system-riscv32") and SHIM.exists()
    if not have_qemu:
        print("no qemu-system-riscv32 or guests/build/sbishim.elf: hvlab only")
    hv()                                            # warm numba's cache
    hvs, qs, ratios = [], [], []
    for r in range(args.rounds):
        dt, insns, vm_s = hv()
        hvs.append(dt)
        line = f"round {r + 1}: hv run {dt:.2f} s (VM {vm_s:.2f} s, {insns / vm_s / 1e6:.0f} MIPS)"
        if have_qemu:
            q = qemu()
            qs.append(q)
            ratios.append(dt / q)
            line += f"  qemu {q:.2f} s  ratio {dt / q:.2f}"
        print(line, flush=True)
    print(f"median: hv run {statistics.median(hvs):.2f} s (best {min(hvs):.2f}), "
          f"{insns:,} guest instructions")
    if qs:
        print(f"median: qemu {statistics.median(qs):.2f} s (best {min(qs):.2f}); "
              f"hv/qemu per-round ratio median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    sys.exit(main())
