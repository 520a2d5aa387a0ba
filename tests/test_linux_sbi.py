"""The SBI calls the hart answers itself (sbi_fast.py), against the SBI specification v2.0 and
against sbi.py, the monitor's answer, register for register: each case sets the registers of
two VMs alike, lets sbi.py answer one and the fast path the other, and compares every state
word and the console bytes.  Expected values from the spec: set_timer (legacy EID 0x00, TIME
EID 0x54494D45 FID 0) returns SBI_SUCCESS and programs the deadline; legacy putchar returns 0;
legacy getchar returns -1 with no input; DBCN (EID 0x4442434E) console_write returns the number
of bytes written in a1, console_write_byte writes one."""
import numpy as np
import pytest
from test_loader import GOOD

from hypervisor import sbi
from hypervisor.engine import Engine
from hypervisor.sbi_fast import IO_RX, RING_SIZE, drain, fast_call
from hypervisor.state import CNT_SBI, INSTRET, TIMECMP

A0, A1, A2, A6, A7 = 10, 11, 12, 16, 17
TIME, DBCN, BASE_EID, SRST = 0x54494D45, 0x4442434E, 0x10, 0x53525354
BUF = 0x80100000                    # a guest-physical buffer in RAM
UNBACKED = 0x80200000               # RAM whose pages were never touched (reads as zero)


def pair(engine):
    return [engine.create(GOOD, mem=8 << 20) for _ in range(2)]


def answer(regs, memory=b"", typed=b""):
    """(monitor VM, fast VM, answered by the fast path?) after the same call on both."""
    engine = Engine(64 << 20)
    slow, fast = pair(engine)
    for vm in (slow, fast):
        for r, v in regs.items():
            vm.st[r] = v & 0xFFFFFFFF
        vm.write_guest(BUF, memory or b"hello, DBCN")
        if typed:
            vm.send_input(typed)
    sbi.call(slow)
    done = fast_call(fast.st, engine.memory.ram, fast.gmap, fast.stop)
    return slow, fast, done


CASES = {
    "legacy set_timer": {A7: 0x00, A0: 0x12345, A1: 0},
    "legacy set_timer, far": {A7: 0x00, A0: 0xFFFFFFFF, A1: 0xFFFFFFFF},
    "TIME set_timer": {A7: TIME, A6: 0, A0: 0x89ABCDEF, A1: 0x12},
    "TIME set_timer, never": {A7: TIME, A6: 0, A0: 0xFFFFFFFF, A1: 0xFFFFFFFF},
    "legacy putchar": {A7: 0x01, A0: 0x141},
    "legacy getchar, no input": {A7: 0x02},
    "DBCN write_byte": {A7: DBCN, A6: 2, A0: ord("Z")},
    "DBCN write": {A7: DBCN, A6: 0, A0: 11, A1: BUF, A2: 0},
    "DBCN write, never touched": {A7: DBCN, A6: 0, A0: 4, A1: UNBACKED, A2: 0},
}
DECLINED = {
    "TIME FID 1": {A7: TIME, A6: 1},
    "legacy getchar, input waiting": ({A7: 0x02}, b"q"),
    "DBCN write outside RAM": {A7: DBCN, A6: 0, A0: 8, A1: 0x10000000, A2: 0},
    "DBCN write past the end of RAM": {A7: DBCN, A6: 0, A0: 8, A1: 0x807FFFFC, A2: 0},
    "DBCN write of 0 bytes": {A7: DBCN, A6: 0, A0: 0, A1: 0x10, A2: 0},
    "DBCN read": {A7: DBCN, A6: 1, A0: 4, A1: BUF, A2: 0},
    "base": {A7: BASE_EID, A6: 0},
    "SRST": {A7: SRST, A6: 0},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_path_answers_as_the_monitor_does(name):
    slow, fast, done = answer(CASES[name])
    assert done
    assert np.array_equal(slow.st, fast.st)
    assert drain(fast.stop) == slow.console.tail(64)


def test_the_spec_values():
    _, vm, _ = answer(CASES["TIME set_timer"])
    assert (vm.st[A0], vm.st[A1], vm.st[TIMECMP]) == (0, 0, 0x12_89ABCDEF)   # SBI_SUCCESS
    _, vm, _ = answer(CASES["TIME set_timer, never"])
    assert vm.st[TIMECMP] == -1                     # no deadline: past 2**63 never comes
    _, vm, _ = answer(CASES["legacy getchar, no input"])
    assert vm.st[A0] == 0xFFFFFFFF                  # -1
    _, vm, _ = answer(CASES["DBCN write"])
    assert (vm.st[A0], vm.st[A1], drain(vm.stop)) == (0, 11, b"hello, DBCN")
    _, vm, _ = answer(CASES["DBCN write, never touched"])
    assert (vm.st[A1], drain(vm.stop)) == (4, bytes(4))
    _, vm, _ = answer(CASES["legacy putchar"])
    assert (vm.st[A0], drain(vm.stop)) == (0, b"A")


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_fast_path_leaves_the_rest_to_the_monitor(name):
    case = DECLINED[name]
    regs, typed = case if isinstance(case, tuple) else (case, b"")
    before = None
    engine = Engine(64 << 20)
    vm, = pair(engine)[:1]
    for r, v in regs.items():
        vm.st[r] = v
    if typed:
        vm.send_input(typed)
        assert vm.stop[IO_RX] == 1
    before = vm.st.copy()
    assert not fast_call(vm.st, engine.memory.ram, vm.gmap, vm.stop)
    assert np.array_equal(vm.st, before) and drain(vm.stop) == b""


def test_a_full_ring_declines_and_wraps_in_order():
    engine = Engine(64 << 20)
    vm, = pair(engine)[:1]
    vm.st[A7] = 0x01
    sent = bytearray()
    for i in range(RING_SIZE):
        vm.st[A0] = i & 0xFF
        assert fast_call(vm.st, engine.memory.ram, vm.gmap, vm.stop)
        sent.append(i & 0xFF)
    assert not fast_call(vm.st, engine.memory.ram, vm.gmap, vm.stop)     # full: the monitor
    got = drain(vm.stop)
    for i in range(300):                                                   # across the wrap
        vm.st[A0] = (i * 7) & 0xFF
        assert fast_call(vm.st, engine.memory.ram, vm.gmap, vm.stop)
        sent.append((i * 7) & 0xFF)
    assert got + drain(vm.stop) == bytes(sent)


def test_a_guest_sees_the_same_with_and_without_the_fast_path():
    """hello prints through legacy putchar, DBCN and the UART: with --trap-via-monitor the
    fast path is off (every SBI call goes to sbi.py); instructions, SBI counts and the console
    (in order) are the same."""
    results = []
    for via_monitor in (False, True):
        engine = Engine(128 << 20)
        vm = engine.create("hello", mem=64 << 20, trap_via_monitor=via_monitor)
        engine.start(vm)
        assert engine.wait(30)
        engine.shutdown()
        results.append((vm.console.text(), int(vm.st[INSTRET]), int(vm.st[CNT_SBI])))
    assert results[0] == results[1]
    assert results[0][2] > 100 and "DBCN" in results[0][0]
