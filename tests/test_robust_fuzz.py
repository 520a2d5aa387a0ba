"""Issue 9: the monitor fuzz test.

Hypothesis writes a guest program: a loop of SBI calls with random extension and function ids
and edge-case register values, and loads and stores of every width to every device register
(and beside them).  Two or more VMs run it while a second thread drives the lifecycle API at
them at random (pause, resume, step, restart, kill, remove, create, typed input), and a victim
VM, which filled 16 pages with a pattern, spins beside them.  Whatever happens:

* no exception escapes (the API refuses with EngineError at most), and no VM crashes with an
  internal error of the monitor, nothing is logged at ERROR;
* the victim's pages hash the same at the end as at the start;
* no worker thread dies;
* when every VM has ended, every host page is back on the free list, zeroed.

The default run is a few seconds; `-m slow` runs the same for minutes.
"""
import hashlib
import logging
import random
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypervisor.devices.layout import FINISHER_BASE, PLIC_BASE, UART_BASE
from hypervisor.engine import Engine, EngineError
from hypervisor.vm import RUNNING
from guestbuild import build

MEM = 8 << 20                   # RAM 0x80000000..0x80800000, the images at 0x80400000
HOST = 40 << 20                 # room for the victim and a few fuzzers, not for all they touch
RAM_BASE, RAM_END = 0x80000000, 0x80000000 + MEM

VICTIM = """
    li t0, 0x80500000       # fill 16 pages with a pattern
    li t1, 0x80510000
    li t2, 0x5a5a0000
1:  sw t2, 0(t0)
    addi t2, t2, 1
    addi t0, t0, 4
    bltu t0, t1, 1b
    li a7, 1
    li a0, 'R'
    ecall
2:  j 2b
"""

EDGE = [0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 0x5555, 0x3333, 0x7777, 0x73333, 4095, 4096,
        0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0xF0000000, 0xE0000000, 0x10000000,
        RAM_BASE, RAM_BASE + 0x1000, RAM_END - 1, RAM_END - 2, RAM_END, 0x80400000,
        0x80600000, 0x80000000 - 1]
EIDS = list(range(0x10)) + [0x10, 0x54494D45, 0x53525354, 0x4442434E, 0x48534D, 0x735049,
                            0x52464E43, 0x504D55, 0x0A000000, 0xFFFFFFFF]
DEVICE_REGS = (
    [UART_BASE + i for i in range(8)] + [UART_BASE + 0xFC, UART_BASE + 0xFF] +
    [PLIC_BASE + 4 * i for i in (0, 1, 10, 31, 32)] +
    [PLIC_BASE + o for o in (0x1000, 0x1004, 0x2000, 0x2080, 0x2100, 0x200000, 0x200004,
                             0x201000, 0x201004, 0x202000, 0x202004, 0x3FFFFC)] +
    [FINISHER_BASE + o for o in (0, 4, 0xFFC)])
LOADS = ["lb", "lh", "lw", "lbu", "lhu"]
STORES = ["sb", "sh", "sw"]

word = st.one_of(st.sampled_from(EDGE), st.sampled_from(EDGE), st.integers(0, 0xFFFFFFFF))
# a0..a5: six values, or one edge value in all six (a 64-bit all-ones deadline is a0 = a1 = -1)
args = st.one_of(st.lists(word, min_size=6, max_size=6),
                 st.sampled_from(EDGE).map(lambda v: [v] * 6))
sbi_op = st.tuples(st.just("sbi"), st.one_of(st.sampled_from(EIDS), st.sampled_from(EIDS),
                                             st.integers(0, 0xFFFFFFFF)),
                   st.one_of(st.integers(0, 7), st.sampled_from([0xFFFFFFFF, 0x80000000])),
                   args)
mmio_op = st.tuples(st.just("mmio"), st.sampled_from(LOADS + STORES),
                    st.one_of(st.sampled_from(DEVICE_REGS),
                              st.sampled_from(DEVICE_REGS).map(lambda a: a + 1)),
                    word)
other_op = st.sampled_from([("wfi",), ("timer_irq_on",), ("ext_irq_on",)])
program = st.lists(st.one_of(sbi_op, sbi_op, mmio_op, mmio_op, other_op), min_size=1,
                   max_size=24)
LIFECYCLE = ["pause", "resume", "step", "restart", "kill", "remove", "create", "input",
             "start", "sleep"]
lifecycle = st.lists(st.tuples(st.sampled_from(LIFECYCLE), st.integers(0, 7),
                               st.integers(1, 300)), max_size=40)


def assemble(ops):
    """The guest: a trap handler that steps over whatever faults, then the ops in a loop."""
    lines = ["    la t0, handler", "    csrw stvec, t0", "loop:"]
    for op in ops:
        if op[0] == "sbi":
            _, eid, fid, args = op
            lines += [f"    li a{i}, {v:#x}" for i, v in enumerate(args)]
            lines += [f"    li a6, {fid:#x}", f"    li a7, {eid:#x}", "    ecall"]
        elif op[0] == "mmio":
            _, insn, addr, value = op
            lines += [f"    li t0, {addr:#x}", f"    li t1, {value:#x}",
                      f"    {insn} t1, 0(t0)"]
        elif op[0] == "wfi":
            lines += ["    wfi"]
        elif op[0] == "timer_irq_on":
            lines += ["    li t0, 0x20", "    csrs sie, t0", "    csrsi sstatus, 2"]
        elif op[0] == "ext_irq_on":
            lines += ["    li t0, 0x200", "    csrs sie, t0", "    csrsi sstatus, 2"]
    lines += ["    j loop", "handler:",
              "    csrr t0, scause",
              "    bltz t0, 1f",                     # an interrupt: return to where it was
              "    csrr t0, sepc", "    addi t0, t0, 4", "    csrw sepc, t0",
              "1:  li t0, 0x20",                     # timer: push the deadline far away
              "    csrc sie, t0",
              "    sret"]
    return "\n".join(lines) + "\n"


def _hash(engine, vm):
    h = hashlib.sha256()
    for p in np.sort(vm.gmap[vm.gmap >= 0]):
        h.update(engine.memory.page(int(p)).tobytes())
    return h.hexdigest(), int((vm.gmap >= 0).sum())


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _drive(engine, elf, fuzzers, ops, seed, errors):
    """The second thread: lifecycle operations at random fuzzers."""
    rnd = random.Random(seed)
    for op, index, n in ops:
        vm = fuzzers[index % len(fuzzers)]
        try:
            if op == "pause":
                engine.pause(vm)
            elif op == "resume":
                engine.resume(vm)
            elif op == "start":
                engine.start(vm)
            elif op == "step":
                got = engine.step(vm, n)
                if not 0 <= got <= n:
                    errors.append(AssertionError(f"step({n}) ran {got} instructions"))
            elif op == "restart":
                engine.restart(vm)
            elif op == "kill":
                engine.kill(vm)
            elif op == "remove":
                engine.remove(vm)
            elif op == "create":
                new = engine.create(elf, name=f"f{len(fuzzers)}", mem=MEM)
                fuzzers.append(new)
                engine.start(new)
            elif op == "input":
                engine.send_input(vm, bytes(rnd.randrange(256) for _ in range(n % 40)))
            else:
                time.sleep(n / 100_000)
        except EngineError:
            pass                        # a refusal in one line (out of memory, removed, ...)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        time.sleep(rnd.random() * 0.002)


def check_one_run(ops, life, seed, seconds):
    log_errors = _Errors()
    logging.getLogger("hvlab").addHandler(log_errors)
    engine = Engine(HOST, threads=2)
    try:
        victim = engine.create(build(VICTIM), name="victim", mem=MEM)
        engine.start(victim)
        end = time.perf_counter() + 20
        while "R" not in victim.console.text():
            assert time.perf_counter() < end, "the victim never got ready"
            time.sleep(0.002)
        engine.pause(victim)
        before = _hash(engine, victim)
        engine.resume(victim)

        elf = build(assemble(ops))
        fuzzers = [engine.create(elf, name=f"f{i}", mem=MEM) for i in range(2)]
        everyone = [victim]
        for vm in fuzzers:
            engine.start(vm)
        errors = []
        driver = threading.Thread(target=_drive, args=(engine, elf, fuzzers, life, seed, errors))
        driver.start()
        driver.join(30)
        assert not driver.is_alive(), "the lifecycle thread is stuck"
        time.sleep(seconds)             # let the fuzzers run a while after the last operation
        everyone += fuzzers
        alive = all(t.is_alive() for t in engine.scheduler.workers)
        assert victim.status == RUNNING, victim.outcome
        engine.pause(victim)
        after = _hash(engine, victim)
        for vm in everyone:
            engine.kill(vm)
        assert engine.wait(10, everyone), [vm.outcome for vm in everyone if not vm.done]
        assert not errors, errors
        assert alive, "a worker thread died"
        assert before == after, "the victim's pages changed"
        internal = [vm.outcome for vm in everyone if "internal error" in vm.reason]
        assert not internal, internal
        assert not log_errors.records, [r.getMessage() for r in log_errors.records]
        mem = engine.memory
        assert mem.free_pages == mem.npages - 1 and (mem.owner[1:] == -1).all()
        assert not mem.ram.any()
    finally:
        engine.shutdown()
        logging.getLogger("hvlab").removeHandler(log_errors)


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])


@settings(max_examples=8, derandomize=True, **COMMON)
@given(ops=program, life=lifecycle, seed=st.integers(0, 2**32))
def test_monitor_fuzz(ops, life, seed):
    check_one_run(ops, life, seed, seconds=0.05)


@pytest.mark.slow
@settings(max_examples=400, **COMMON)
@given(ops=program, life=lifecycle, seed=st.integers(0, 2**32))
def test_monitor_fuzz_long(ops, life, seed):
    check_one_run(ops, life, seed, seconds=0.2)
