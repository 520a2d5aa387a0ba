"""The SBI: what an `ecall` from the guest's virtual S-mode asks of the monitor.

RISC-V SBI specification v2.0: a7 = extension ID (EID), a6 = function ID (FID), arguments in
a0..a5; the result comes back as a0 = error code, a1 = value, and every other register is
preserved.  The legacy extensions (EID 0x00-0x0F) return a single value in a0 and leave a1 alone.
"""
from .state import TIMECMP

A0, A1, A2, A6, A7 = 10, 11, 12, 16, 17

SBI_SUCCESS = 0
SBI_ERR_FAILED = -1
SBI_ERR_NOT_SUPPORTED = -2
SBI_ERR_INVALID_PARAM = -3

SPEC_VERSION = 2 << 24          # SBI v2.0: major in bits 30:24, minor in 23:0
IMPL_ID = 0x6876                # "hv"; not an assigned ID: this is hvlab's own
IMPL_VERSION = 1

EID_LEGACY_SET_TIMER = 0x00
EID_LEGACY_PUTCHAR = 0x01
EID_LEGACY_GETCHAR = 0x02
EID_LEGACY_SHUTDOWN = 0x08
EID_BASE = 0x10
EID_TIME = 0x54494D45           # "TIME"
EID_SRST = 0x53525354           # "SRST"
EID_DBCN = 0x4442434E           # "DBCN"

EXTENSIONS = {EID_LEGACY_SET_TIMER, EID_LEGACY_PUTCHAR, EID_LEGACY_GETCHAR, EID_LEGACY_SHUTDOWN,
              EID_BASE, EID_TIME, EID_SRST, EID_DBCN}
NAMES = {EID_LEGACY_SET_TIMER: "legacy set_timer", EID_LEGACY_PUTCHAR: "legacy putchar",
         EID_LEGACY_GETCHAR: "legacy getchar", EID_LEGACY_SHUTDOWN: "legacy shutdown",
         EID_BASE: "base", EID_TIME: "time", EID_SRST: "srst", EID_DBCN: "dbcn"}

SRST_SHUTDOWN, SRST_COLD_REBOOT, SRST_WARM_REBOOT = 0, 1, 2
SRST_REASON_NONE, SRST_REASON_FAILURE = 0, 1
DBCN_MAX = 4096                 # bytes per console_write/read call


def _u32(v):
    return v & 0xFFFFFFFF


def _deadline(st):
    """The timer deadline in a0/a1 as the state row keeps it: -1 (off) past int64's range."""
    value = (int(st[A0]) & 0xFFFFFFFF) | ((int(st[A1]) & 0xFFFFFFFF) << 32)
    return value if value < 1 << 63 else -1


def call(vm):
    """Answer the SBI call the VM's registers describe.  The caller steps past the ecall."""
    st = vm.st
    eid, fid = int(st[A7]), int(st[A6])
    if eid < 0x10:
        _legacy(vm, eid)
        return
    error, value = _dispatch(vm, eid, fid)
    st[A0] = _u32(error)
    st[A1] = _u32(value)


def _legacy(vm, eid):
    st = vm.st
    if eid == EID_LEGACY_PUTCHAR:
        vm.console_write(bytes((int(st[A0]) & 0xFF,)))
        st[A0] = 0
    elif eid == EID_LEGACY_GETCHAR:
        st[A0] = _u32(vm.console_read(1)[0] if vm.has_input() else -1)
    elif eid == EID_LEGACY_SET_TIMER:          # (sbi_fast.py answers it in the hart)
        # the 64-bit deadline in a0 (low) and a1 (high), clamped as the TIME extension does:
        # all ones is how an SBI v0.1 kernel stops its timer, and the int64 row cannot hold it
        st[TIMECMP] = _deadline(st)
        st[A0] = 0
    elif eid == EID_LEGACY_SHUTDOWN:
        vm.power_off("pass", 0, "SBI legacy shutdown")
    else:
        st[A0] = _u32(SBI_ERR_NOT_SUPPORTED)


def _dispatch(vm, eid, fid):
    st = vm.st
    if eid == EID_BASE:
        if fid == 0:
            return SBI_SUCCESS, SPEC_VERSION
        if fid == 1:
            return SBI_SUCCESS, IMPL_ID
        if fid == 2:
            return SBI_SUCCESS, IMPL_VERSION
        if fid == 3:
            return SBI_SUCCESS, 1 if int(st[A0]) in EXTENSIONS else 0
        if fid in (4, 5, 6):            # mvendorid, marchid, mimpid
            return SBI_SUCCESS, 0
    elif eid == EID_TIME and fid == 0:
        # set_timer(stime_value): on RV32 the 64-bit value comes in a0 (low) and a1 (high);
        # it also clears a pending timer interrupt until the new deadline
        st[TIMECMP] = _deadline(st)
        return SBI_SUCCESS, 0
    elif eid == EID_SRST and fid == 0:
        return _system_reset(vm, int(st[A0]), int(st[A1]))
    elif eid == EID_DBCN:
        return _debug_console(vm, fid)
    return SBI_ERR_NOT_SUPPORTED, 0


def _system_reset(vm, kind, reason):
    """SBI v2.0, "System Reset Extension": types 0 shutdown, 1 cold and 2 warm reboot; reasons
    0 none and 1 system failure.  Everything else is reserved (0x3-0xEFFFFFFF types,
    0x2-0xDFFFFFFF reasons), SBI-implementation specific (0xE0000000-0xEFFFFFFF reasons) or
    vendor/platform specific (0xF0000000-: both); hvlab implements none of those, and the
    spec's answer is SBI_ERR_INVALID_PARAM ("reserved or is platform-specific and
    unimplemented").  On success the call does not return."""
    if kind not in (SRST_SHUTDOWN, SRST_COLD_REBOOT, SRST_WARM_REBOOT) or \
            reason not in (SRST_REASON_NONE, SRST_REASON_FAILURE):
        return SBI_ERR_INVALID_PARAM, 0
    if kind in (SRST_COLD_REBOOT, SRST_WARM_REBOOT):
        vm.power_off("reset", 0, "SBI system_reset (reboot)")
    elif reason == SRST_REASON_NONE:
        vm.power_off("pass", 0, "SBI system_reset (shutdown)")
    else:
        vm.power_off("fail", reason, f"SBI system_reset (shutdown, reason {reason:#x})")
    return SBI_SUCCESS, 0


def _debug_console(vm, fid):
    """DBCN: the buffer is given by its guest-physical address (a1 low, a2 high).  At most
    DBCN_MAX bytes per call (the spec lets a call do a partial write or read).  The buffer is
    checked before anything happens: a failing call neither prints nor consumes input."""
    st = vm.st
    if fid == 2:                                    # console_write_byte(byte)
        vm.console_write(bytes((int(st[A0]) & 0xFF,)))
        return SBI_SUCCESS, 0
    if fid not in (0, 1):
        return SBI_ERR_NOT_SUPPORTED, 0
    count = min(int(st[A0]), DBCN_MAX)
    if count == 0:                                  # no memory is named: nothing to check
        return SBI_SUCCESS, 0
    gpa = int(st[A1]) | (int(st[A2]) << 32)
    if not vm.in_ram(gpa, count):
        return SBI_ERR_INVALID_PARAM, 0
    if fid == 0:                                    # console_write(num_bytes, base)
        data = vm.read_guest(gpa, count)
        vm.console_write(data)
        return SBI_SUCCESS, len(data)
    # console_read(num_bytes, base): back the pages the bytes will land in first (this may
    # run out of host memory: the monitor then crashes this VM), then take the input
    n = min(count, vm.input_waiting())
    vm.back_pages(gpa, n)
    data = vm.console_read(n)
    vm.write_guest(gpa, data)
    return SBI_SUCCESS, len(data)
