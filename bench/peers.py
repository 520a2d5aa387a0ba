"""Running one bare guest image on hvlab's hart and on its peers, for side-by-side timing.

Each runner loads an RV32 ELF that computes, then writes 0x5555 (pass) or 0x3333|code<<16 (fail)
to the sifive-test finisher at 0x10_0000, and returns (seconds, outcome).  hvlab counts the
instructions; the peers run the very same instructions.
"""
import os
import shutil
import subprocess
import time

import numpy as np

from hypervisor import cpu, icache
from hypervisor import state as S
from hypervisor.devices.layout import FINISHER_BASE, RAM_BASE
from hypervisor.loader import load_image

RAM = 64 << 20


def _finisher_outcome(value):
    if value & 0xFFFF == 0x5555:
        return "pass"
    if value & 0xFFFF == 0x3333:
        return f"fail {value >> 16}"
    return f"finisher wrote {value:#x}"


def hart_bare(path):
    """The hart alone: S-mode, RAM pre-mapped, only the finisher handled (in Python)."""
    image = load_image(path, RAM_BASE, RAM)
    ram = np.zeros(RAM + 4096, dtype=np.uint8)
    st = np.zeros(S.STATE_SIZE, dtype=np.int64)
    st[S.PRIV], st[S.RAM_BASE], st[S.RAM_SIZE] = S.PRIV_S, RAM_BASE, RAM
    st[S.TIME_DIV], st[S.TIMECMP], st[S.RES_ADDR] = 10, -1, -1
    gmap = np.arange(1, RAM // 4096 + 1, dtype=np.int32)      # host page 0 stays unused
    tlb = icache.new_tlb(RAM // 4096)
    stop = np.zeros(1, dtype=np.int64)
    for seg in image.segments:
        h = 4096 + seg.paddr - RAM_BASE
        ram[h:h + len(seg.data)] = np.frombuffer(seg.data, dtype=np.uint8)
    st[S.PC] = image.entry
    t0 = time.perf_counter()
    while True:
        code = cpu.run(st, ram, gmap, tlb, 1 << 40, stop)
        if code == S.RUN_GSTAGE and st[S.EXIT_GPA] == FINISHER_BASE:
            ins = int(st[S.EXIT_INSN])
            value = int(st[(ins >> 20) & 31])
            break
        if code != S.RUN_BUDGET:
            value = -1
            break
    seconds = time.perf_counter() - t0
    outcome = _finisher_outcome(value) if value >= 0 else f"stopped: {S.RUN_NAMES[code]}"
    return seconds, outcome, int(st[S.INSTRET])


def unicorn(path):
    """Unicorn 2 (QEMU's TCG as a library) with no hooks but the finisher.  The finisher's
    page is left unmapped and caught by an unmapped-write hook, which costs nothing until the
    guest writes there (a UC_HOOK_MEM_WRITE, even on one page, slows every store)."""
    try:
        from unicorn import UC_ARCH_RISCV, UC_HOOK_MEM_WRITE_UNMAPPED, UC_MODE_RISCV32, Uc
        from unicorn import UcError
    except ImportError:
        return None
    image = load_image(path, RAM_BASE, RAM)
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(RAM_BASE, RAM)
    for seg in image.segments:
        uc.mem_write(seg.paddr, seg.data)
    result = {}

    def finisher(uc, access, address, size, value, data):
        if address == FINISHER_BASE:
            result["value"] = value
            uc.emu_stop()
        return False                    # not handled: the emulation stops here
    uc.hook_add(UC_HOOK_MEM_WRITE_UNMAPPED, finisher)
    t0 = time.perf_counter()
    try:
        uc.emu_start(image.entry, 0)
    except UcError:
        pass                            # the unmapped write itself, after the hook saw it
    seconds = time.perf_counter() - t0
    return seconds, _finisher_outcome(result.get("value", 0))


def qemu(path):
    """qemu-system-riscv32 -machine virt -bios none: the guest runs in M-mode, paging off.
    Timed as a whole process; an empty run's start-up time is measured and reported apart."""
    exe = shutil.which("qemu-system-riscv32")
    if exe is None:
        return None
    cmd = [exe, "-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none",
           "-serial", "none", "-kernel", os.fspath(path)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    seconds = time.perf_counter() - t0
    return seconds, "pass" if proc.returncode == 0 else f"exit {proc.returncode}"
