"""The monitor's answer to each exit the hart cannot finish by itself.

The compiled hart emulates CSR accesses, sret, wfi and sfence.vma on its own.  What reaches
Python is what needs the monitor's authority: SBI calls, a guest-physical page that is not
backed yet (allocate it), a device access (emulate it), an access to a hole (inject an access
fault), a guest exception the VM asked to see (TRAP_VIA_MONITOR), and crashes.  ``handle()``
returns False when the VM must leave the host core (halted, crashed, idle).
"""
from . import sbi, sbi_fast
from . import state as S
from .cpu import M32
from .devices.layout import RAM_BASE
from .memory import PAGE_SIZE, OutOfMemory
from .trap import (CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, INTERRUPT,
                   trap_enter)

CAUSE_NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault",
    2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
    5: "load access fault", 6: "store/AMO address misaligned", 7: "store/AMO access fault",
    8: "environment call from U-mode", 9: "environment call from S-mode",
    12: "instruction page fault", 13: "load page fault", 15: "store/AMO page fault",
}


def cause_name(cause):
    if cause & INTERRUPT:
        return {1: "supervisor software interrupt", 5: "supervisor timer interrupt",
                9: "supervisor external interrupt"}.get(cause & 0xFF, f"interrupt {cause & 0xFF}")
    return CAUSE_NAMES.get(cause, f"cause {cause}")


def retire(st):
    """Step past an instruction the monitor emulated (2 bytes for a compressed one: the hart
    says how long it was in EXIT_ILEN)."""
    st[S.PC] = (st[S.PC] + (2 if st[S.EXIT_ILEN] == 2 else 4)) & M32
    st[S.INSTRET] += 1
    st[S.CYCLE] += 1


def handle(vm, code):
    """Act on the RUN_* code the hart returned.  True: the VM may go on running.

    Any other exception escaping from here is a bug in the monitor: the caller (the scheduler,
    Engine.step) crashes this VM with it and goes on (Engine.internal_error)."""
    pending = sbi_fast.drain(vm.stop)   # console bytes of SBI calls the hart answered itself
    if pending:
        vm.console_write(pending)
    try:
        go_on = _handle(vm, code)
    except OutOfMemory:                 # a page for an SBI buffer, a device's write, ...
        vm.crash(f"out of memory: the host has no free page left while serving its "
                 f"{S.RUN_NAMES[code] if 0 <= code < len(S.RUN_NAMES) else code} exit "
                 f"({vm.pages} pages allocated)")
        return False
    if vm.reboot_pending and not vm.done:   # SBI system_reset (reboot) or the finisher's reset
        vm.engine.reboot_now(vm)
        return not vm.done
    return go_on


def _handle(vm, code):
    st = vm.st
    if code == S.RUN_BUDGET or code == S.RUN_STOP:
        return not vm.done
    if code == S.RUN_SBI:
        _trace(vm, "sbi", int(st[S.PC]), int(st[17]), int(st[16]))
        sbi.call(vm)
        if vm.done:
            return False
        retire(st)
        return True
    if code == S.RUN_GSTAGE:
        return _guest_physical(vm)
    if code == S.RUN_TRAP:
        st[S.CNT_EXC_MONITOR] += 1
        _trace(vm, "trap", int(st[S.EXIT_PC]), int(st[S.EXIT_CAUSE]), int(st[S.EXIT_TVAL]))
        return inject(vm, int(st[S.EXIT_CAUSE]), int(st[S.EXIT_TVAL]), int(st[S.EXIT_PC]))
    if code == S.RUN_IDLE:
        vm.idle = True
        vm.update_irq()         # an interrupt may have come while it was deciding to sleep
        return not vm.idle
    if code == S.RUN_CRASH:
        _crash_unhandled(vm)
        return False
    vm.crash(f"hart returned unknown code {code}")
    return False


def inject(vm, cause, tval, pc):
    """Deliver an exception into the guest's virtual S-mode (or crash it if it has no vector)."""
    st = vm.st
    target = trap_enter(st, vm.tlb, cause, tval, pc)
    if target < 0:
        _crash_unhandled(vm)
        return False
    st[S.PC] = target
    return True


def _crash_unhandled(vm):
    st = vm.st
    cause, tval, pc = int(st[S.EXIT_CAUSE]), int(st[S.EXIT_TVAL]), int(st[S.EXIT_PC])
    if (st[S.STVEC] & ~3) == 0:
        why = "no trap vector (stvec = 0)"
    else:
        # the fault is the fetch of the handler itself: the trap that was being delivered is
        # the one scause/sepc/stval were just set to (trap.trap_enter)
        first = int(st[S.SCAUSE])
        why = (f"the trap vector faults; it was entered for: {cause_name(first)} "
               f"(scause {first:#x}) at pc {int(st[S.SEPC]):#010x}, "
               f"stval {int(st[S.STVAL]):#010x}")
    vm.crash(f"unhandled trap: {cause_name(cause)} (scause {cause:#x}) at pc {pc:#010x}, "
             f"stval {tval:#010x}; {why}")


def _guest_physical(vm):
    """An access to a guest-physical address with no host page behind it."""
    st = vm.st
    gpa, access = int(st[S.EXIT_GPA]), int(st[S.EXIT_ACCESS])
    pc, va = int(st[S.EXIT_PC]), int(st[S.EXIT_VADDR])
    if vm.in_ram(gpa):
        st[S.CNT_GSTAGE] += 1
        try:
            vm.map_page((gpa - RAM_BASE) // PAGE_SIZE)
        except OutOfMemory:
            vm.crash(f"out of memory: the host has no free page for guest-physical {gpa:#x} "
                     f"({vm.pages} pages allocated)")
            return False
        return True             # the instruction runs again, now with its page
    dev, offset = vm.device_at(gpa)
    if dev is not None and access != S.ACCESS_EXEC:
        st[S.CNT_MMIO] += 1
        _mmio(vm, dev, offset, int(st[S.EXIT_INSN]))
        return not vm.done
    cause = {S.ACCESS_READ: CAUSE_LOAD_ACCESS, S.ACCESS_WRITE: CAUSE_STORE_ACCESS,
             S.ACCESS_EXEC: CAUSE_FETCH_ACCESS}[access]
    _trace(vm, "fault", pc, cause, va)
    if st[S.TRAP_VIA_MONITOR]:
        st[S.CNT_EXC_MONITOR] += 1
    else:
        st[S.CNT_EXC_DELEGATED] += 1
    return inject(vm, cause, va, pc)


def _mmio(vm, dev, offset, ins):
    """Emulate one load or store to a device register, then step past it."""
    st = vm.st
    f3 = (ins >> 12) & 7
    size = 1 << (f3 & 3)
    if ins & 0x7F == 0x03:                      # lb lh lw lbu lhu
        value = dev.read(offset, size) & ((1 << (8 * size)) - 1)
        if f3 < 4 and value >> (8 * size - 1):
            value -= 1 << (8 * size)            # sign-extend lb, lh
        rd = (ins >> 7) & 31
        if rd:
            st[rd] = value & M32
    else:                                       # sb sh sw
        value = int(st[(ins >> 20) & 31]) & ((1 << (8 * size)) - 1)
        dev.write(offset, size, value)
    _trace(vm, "mmio", int(st[S.PC]), offset, ins)
    vm.update_irq()
    if not vm.done:
        retire(st)


def _trace(vm, kind, pc, a, b):
    if vm.trace is not None:
        st = vm.st
        if kind in ("trap", "fault"):
            text = f"{kind:5} pc={pc:#010x} cause={a:#x} ({cause_name(a)}) tval={b:#010x}"
        elif kind == "sbi":
            text = f"{kind:5} pc={pc:#010x} eid={a:#x} fid={b} ({sbi.NAMES.get(a, '?')})"
        else:
            text = f"{kind:5} pc={pc:#010x} offset={a:#x} insn={b:#010x}"
        try:
            vm.trace.write(f"{int(st[S.INSTRET]):>12} {text}\n")
        except (OSError, ValueError) as exc:    # a full disk, a closed file: this VM only
            trace, vm.trace = vm.trace, None
            try:
                trace.close()
            except (OSError, ValueError):
                pass
            vm.crash(f"cannot write its trace ({getattr(trace, 'name', 'the trace file')}): "
                     f"{getattr(exc, 'strerror', None) or exc}")
