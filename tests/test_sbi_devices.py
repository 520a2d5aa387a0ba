"""SBI calls, the device tree, the UART with receive interrupts through the PLIC, the timer."""
import time

import fdt
import pytest

from hypervisor import state as S
from hypervisor.engine import Engine
from hypervisor.vm import HALTED
from guestbuild import SHUTDOWN, build

MEM = 8 << 20


def _vm_at_ecall(engine):
    """A VM whose first instruction is an ecall, for poking SBI calls with registers set."""
    return engine.create(build("ecall\n1: j 1b\n"), mem=MEM)


def _sbi(engine, vm, eid, fid, *args):
    for r in range(1, 32):
        vm.st[r] = 0x1000 + r                   # recognisable values in every register
    vm.st[17], vm.st[16] = eid, fid
    for i, a in enumerate(args):
        vm.st[10 + i] = a
    vm.st[S.PC] = vm.image.entry
    assert engine.step(vm) == 1
    return [int(v) for v in vm.st[:32]]


@pytest.mark.parametrize("eid, fid, args, a0, a1", [
    (0x10, 0, (), 0, 2 << 24),                  # base: get_spec_version -> 2.0
    (0x10, 3, (0x54494D45,), 0, 1),             # base: probe_extension(TIME) -> present
    (0x10, 3, (0x48534D,), 0, 0),               # base: probe_extension(HSM) -> absent
    (0x10, 4, (), 0, 0),                        # base: get_mvendorid
    (0x735049, 0, (), 0xFFFFFFFE, 0),           # unknown extension -> SBI_ERR_NOT_SUPPORTED
    (0x10, 99, (), 0xFFFFFFFE, 0),              # unknown function -> SBI_ERR_NOT_SUPPORTED
    (0x53525354, 0, (7, 0), 0xFFFFFFFD, 0),     # SRST with a reserved type -> INVALID_PARAM
])
def test_sbi_results_and_preserved_registers(eid, fid, args, a0, a1):
    engine = Engine(16 << 20)
    vm = _vm_at_ecall(engine)
    regs = _sbi(engine, vm, eid, fid, *args)
    assert regs[10] == a0 and regs[11] == a1
    assert regs[16] == fid and regs[17] == eid
    for r in list(range(1, 10)) + list(range(12, 16)) + list(range(18, 32)):
        if r - 10 not in range(len(args)):
            assert regs[r] == 0x1000 + r, f"x{r} changed"
    assert vm.st[S.PC] == vm.image.entry + 4
    assert vm.st[S.CNT_SBI] == 1


def test_legacy_calls_return_only_a0():
    engine = Engine(16 << 20)
    vm = _vm_at_ecall(engine)
    regs = _sbi(engine, vm, 0x01, 0, ord("x"))  # console_putchar('x')
    assert vm.console.text() == "x" and regs[10] == 0 and regs[11] == 0x1000 + 11
    regs = _sbi(engine, vm, 0x02, 0)            # console_getchar: nothing typed -> -1
    assert regs[10] == 0xFFFFFFFF and regs[11] == 0x1000 + 11
    vm.send_input(b"z")
    assert _sbi(engine, vm, 0x02, 0)[10] == ord("z")


def test_dbcn_write_reads_guest_physical_memory_and_rejects_outside():
    engine = Engine(16 << 20)
    vm = _vm_at_ecall(engine)
    vm.write_guest(0x80600000, b"hello")
    regs = _sbi(engine, vm, 0x4442434E, 0, 5, 0x80600000, 0)
    assert vm.console.text() == "hello" and regs[10] == 0 and regs[11] == 5
    regs = _sbi(engine, vm, 0x4442434E, 0, 5, 0x10000000, 0)     # a device, not RAM
    assert regs[10] == 0xFFFFFFFD
    regs = _sbi(engine, vm, 0x4442434E, 0, 5, 0x80600000, 1)     # above 4 GiB
    assert regs[10] == 0xFFFFFFFD


def test_device_tree_describes_the_vm():
    engine = Engine(16 << 20)
    vm = engine.create(build("1: j 1b\n"), mem=MEM, bootargs="size=2M quiet")
    a1 = int(vm.st[11])
    blob = vm.read_guest(a1, 4096 - (a1 & 0xFFF))
    tree = fdt.parse_dtb(blob)
    assert tree.get_property("reg", "/memory@80000000").data == [0, 0x80000000, 0, MEM]
    assert tree.get_property("bootargs", "/chosen").value == "size=2M quiet"
    assert tree.get_property("timebase-frequency", "/cpus").value == 10_000_000
    assert tree.get_property("compatible", "/soc/serial@10000000").value == "ns16550a"
    assert "sifive,test0" in tree.get_property("compatible", "/soc/test@100000").data
    assert vm.st[10] == 0 and 0x80000000 <= a1 < 0x80000000 + MEM   # a0 = hart id 0


ECHO = """
    la t0, handler
    csrw stvec, t0
    li t0, 0x0c000028       # PLIC priority of source 10 = 1
    li t1, 1
    sw t1, 0(t0)
    li t0, 0x0c002080       # enable source 10 for context 1 (hart 0, S-mode)
    li t1, 1 << 10
    sw t1, 0(t0)
    li t0, 0x0c201000       # context 1 threshold = 0
    sw zero, 0(t0)
    li t0, 0x10000001       # UART IER: receive data interrupt
    li t1, 1
    sb t1, 0(t0)
    li t0, 1 << 9           # sie.SEIE
    csrs sie, t0
    csrsi sstatus, 2        # sstatus.SIE
1:  wfi
    j 1b
handler:
    li t0, 0x0c201004       # claim
    lw s1, 0(t0)
    li t2, 0x10000000
2:  lbu a0, 5(t2)           # LSR: data ready?
    andi a0, a0, 1
    beqz a0, 3f
    lbu a0, 0(t2)           # RBR
    mv s2, a0
    li a7, 1
    ecall                   # echo it
    li t1, 'q'
    bne s2, t1, 2b
    li a1, 0
""" + SHUTDOWN + """
3:  sw s1, 0(t0)            # complete
    sret
"""


def test_uart_receive_interrupts_through_the_plic():
    engine = Engine(16 << 20)
    vm = engine.create(build(ECHO), mem=MEM)
    engine.start(vm)
    deadline = 200
    while not vm.idle and deadline:             # it sleeps in wfi: nothing to do
        engine.wait(0.01, [vm])
        deadline -= 1
    assert vm.idle and vm.console.text() == ""
    engine.send_input(vm, b"hi")
    while "hi" not in vm.console.text() and deadline:
        engine.wait(0.01, [vm])
        deadline -= 1
    engine.send_input(vm, b" q")
    assert engine.wait(10, [vm])
    engine.shutdown()
    assert vm.status == HALTED and vm.exit_code == 0
    assert vm.console.text() == "hi q"
    assert vm.st[S.CNT_IRQ] >= 2 and vm.st[S.CNT_MMIO] > 10


TIMER = """
    la t0, handler
    csrw stvec, t0
    li s0, 0                # ticks
    call arm
    li t0, 1 << 5           # sie.STIE
    csrs sie, t0
    csrsi sstatus, 2
1:  wfi
    li t0, 5
    bltu s0, t0, 1b
    li a1, 0
""" + SHUTDOWN + """
arm:
    rdtime a0
    addi a0, a0, 1000       # 1000 ticks of 10 MHz = 100 us from now
    li a1, 0
    li a6, 0
    li a7, 0x54494D45       # SBI TIME set_timer
    ecall
    ret
handler:
    addi s0, s0, 1
    mv s1, ra
    call arm
    mv ra, s1
    sret
"""


def test_timer_interrupts_and_wfi_skip_virtual_time():
    engine = Engine(16 << 20)
    vm = engine.create(build(TIMER), mem=MEM)
    engine.start(vm)
    assert engine.wait(10, [vm])
    engine.shutdown()
    assert vm.status == HALTED and vm.exit_code == 0
    assert vm.st[S.CNT_IRQ] == 5 and vm.st[S.CNT_WFI] >= 5
    # five periods of 1000 ticks passed in virtual time, at 10 cycles a tick, while the guest
    # itself retired only a few hundred instructions: the rest was skipped idle time
    assert vm.st[S.CYCLE] >= 5 * 1000 * 10 and vm.st[S.INSTRET] < 1000


def test_wall_clock_mode_waits_in_host_time():
    # the bundled timer guest counts 10 ticks at 100 Hz: 0.1 s of guest time.  Instruction-driven
    # time skips the idle waits; --wall-clock sleeps through them on the host's clock.
    timings = {}
    for wall in (False, True):
        engine = Engine(64 << 20, wall_clock=wall)
        vm = engine.create("timer", mem=16 << 20)
        t0 = time.perf_counter()
        engine.start(vm)
        assert engine.wait(10, [vm])
        timings[wall] = time.perf_counter() - t0
        engine.shutdown()
        assert vm.exit_code == 0 and "10 ticks" in vm.console.text()
        assert vm.host_ns / 1e9 < 0.09          # asleep, not spinning, between the ticks
    assert timings[True] >= 0.1 and timings[False] < 0.1
