"""The system-call table: number -> handler, for the Linux RISC-V rv32 ABI.

Each handler is ``handler(container, process, a0, a1, a2, a3, a4, a5)`` and returns the
result (an int, -errno, or kernel.NORETURN when it set the registers itself), raises
errno.SysError, or raises proc.Block to sleep.  Handlers register themselves with
``@syscall("name")`` (names as in sysnames.py, so the numbers come from one place) in the
sys_*.py modules, grouped as the man pages' sections are: files, processes, memory, time.
"""
import importlib

from .sysnames import NUMBERS

TABLE = {}
NORETURN = object()     # a handler that set the registers itself (execve, sigreturn, exit)
MODULES = ("sys_fs", "sys_attr", "sys_file", "sys_proc", "sys_signal", "sys_mm", "sys_time", "sys_net",
           "futex", "eventfd", "epoll")


def syscall(*names):
    def register(fn):
        for name in names:
            TABLE[NUMBERS[name]] = fn
        return fn
    return register


def load():
    for m in MODULES:
        try:
            importlib.import_module(f"{__package__}.{m}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{m}":
                raise
    return TABLE


def signed(v):
    """A 32-bit register as a C int / long."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def u64(lo, hi):
    return (lo & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
