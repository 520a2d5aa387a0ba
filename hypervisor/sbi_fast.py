"""The frequent SBI calls, answered inside the compiled hart without returning to Python.

An SBI call that reaches Python (sbi.py) costs ~5 us; these need nothing but the VM's own state,
so the hart answers them in place (cpu.py calls ``fast_call`` at the ecall) and they cost what
a CSR exit does.  They are still counted as SBI exits, and a guest cannot tell the difference:
the results are sbi.py's, register for register (tests/test_linux_sbi.py checks both against
the SBI specification v2.0).

    legacy set_timer (EID 0x00), TIME set_timer (EID "TIME", FID 0)   the deadline, a0 = 0
    legacy console_putchar (EID 0x01), DBCN console_write_byte (FID 2)  one byte to the ring
    DBCN console_write (FID 0)      bytes from guest-physical memory to the ring, a1 = count
    legacy console_getchar (EID 0x02)   -1 when no byte waits (else Python pops it)

Console bytes go into a per-VM ring in the VM's control block (the ``stop`` array the hart
already receives: element 0 is the stop flag); the monitor drains it into the console before
it handles any exit (``drain``), so output keeps its order with the UART's.  Anything unusual
(a full ring, a buffer outside RAM, input waiting, --trace or --trap-via-monitor on) is left to
sbi.py: the fast path only ever declines.
"""
import numpy as np

from .jit import callee, njit
from .mmu import gpa_to_host
from .state import TIMECMP, TRAP_VIA_MONITOR

IO_HEAD = 1         # bytes ever put into the ring (written by the hart)
IO_TAIL = 2         # bytes ever taken out (written by the monitor)
IO_RX = 3           # bytes waiting at the console input (written by the monitor)
IO_RING = 8         # the ring: one byte per int64
RING_SIZE = 4096
IO_SIZE = IO_RING + RING_SIZE

A0, A1, A2, A6, A7 = 10, 11, 12, 16, 17
EID_LEGACY_SET_TIMER, EID_LEGACY_PUTCHAR, EID_LEGACY_GETCHAR = 0x00, 0x01, 0x02
EID_TIME = 0x54494D45
EID_DBCN = 0x4442434E
DBCN_MAX = 4096     # as sbi.py: bytes per console_write call
M32 = 0xFFFFFFFF


def control_block():
    """A VM's stop flag (element 0) and its SBI console ring."""
    return np.zeros(IO_SIZE, dtype=np.int64)


@callee
def _put(io, byte):
    head = io[IO_HEAD]
    io[IO_RING + head % RING_SIZE] = byte & 0xFF
    io[IO_HEAD] = head + 1


@njit(cache=True, nogil=True, no_rewrites=True)
def fast_call(st, ram, gmap, io):
    """Answer the SBI call in a7/a6/a0.. if it is one of the above; True when answered (the
    caller then steps past the ecall), False to let the monitor answer it."""
    if io.size < IO_SIZE or st[TRAP_VIA_MONITOR] != 0:
        return False
    eid = st[A7]
    free = RING_SIZE - (io[IO_HEAD] - io[IO_TAIL])
    if eid == EID_LEGACY_SET_TIMER or (eid == EID_TIME and st[A6] == 0):
        # stime_value in a0 (low) and a1 (high) on RV32; a value past 2**63 never fires
        value = st[A0] | (st[A1] << 32)
        st[TIMECMP] = value if (st[A1] >> 31) == 0 else -1
        st[A0] = 0
        if eid == EID_TIME:
            st[A1] = 0
        return True
    if eid == EID_LEGACY_PUTCHAR:
        if free < 1:
            return False
        _put(io, st[A0])
        st[A0] = 0
        return True
    if eid == EID_LEGACY_GETCHAR:
        if io[IO_RX] != 0:
            return False
        st[A0] = M32                            # -1: nothing to read
        return True
    if eid == EID_DBCN:
        fid = st[A6]
        if fid == 2:                            # console_write_byte(byte)
            if free < 1:
                return False
            _put(io, st[A0])
            st[A0] = 0
            st[A1] = 0
            return True
        if fid == 0:                            # console_write(num_bytes, base_lo, base_hi)
            count = min(st[A0], DBCN_MAX)
            gpa = st[A1] | (st[A2] << 32)
            if count == 0 or count > free:
                return False
            for i in range(count):              # all inside RAM, or sbi.py gives the error
                if gpa_to_host(st, gmap, gpa + i) == -1:
                    return False
            for i in range(count):
                h = gpa_to_host(st, gmap, gpa + i)
                _put(io, ram[h] if h >= 0 else 0)   # a page never touched reads as zero
            st[A0] = 0
            st[A1] = count
            return True
    return False


def drain(io):
    """The bytes the hart put into the ring since the last drain (the monitor's side)."""
    if io.size < IO_SIZE:
        return b""
    head, tail = int(io[IO_HEAD]), int(io[IO_TAIL])
    if head == tail:
        return b""
    idx = np.arange(tail, head) % RING_SIZE + IO_RING
    io[IO_TAIL] = head
    return io[idx].astype(np.uint8).tobytes()
