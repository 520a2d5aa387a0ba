"""eventfd(2): a file that is a 64-bit counter, for waking a waiter (eventfd2).

man 2 eventfd: read(2) returns the counter as 8 bytes and sets it to 0 (EFD_SEMAPHORE: returns
1 and takes 1), sleeping (EAGAIN with EFD_NONBLOCK) while it is 0; write(2) adds an 8-byte
value, sleeping (EAGAIN) while the sum would exceed 0xfffffffffffffffe; a buffer of fewer than
8 bytes, or writing 0xffffffffffffffff, is EINVAL.  Readable while the counter is above 0,
writable while a write of 1 would not block; poll/select/epoll see it through ``poll()`` and
its wait queues, as every open file (file.py).
"""
import struct

from .errno import EAGAIN, EINVAL, ESPIPE, SysError
from .file import O_CLOEXEC, O_NONBLOCK, O_RDWR, OpenFile
from .proc import Block, WaitQueue
from .syscalls import syscall
from .vfs import Node

EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC = 1, O_NONBLOCK, O_CLOEXEC
MAX = 0xFFFF_FFFF_FFFF_FFFE             # the largest value the counter can hold


class EventFd(OpenFile):
    seekable = False

    def __init__(self, count, flags):
        # an anonymous inode ("anon_inode:[eventfd]"): mode 0600, no file type bits
        super().__init__(Node(0o600), O_RDWR | (flags & O_NONBLOCK))
        self.count = count
        self.semaphore = bool(flags & EFD_SEMAPHORE)
        self.readq = WaitQueue()        # readers waiting for a count; woken by each write
        self.writeq = WaitQueue()       # writers waiting for room; woken by each read

    def read(self, proc, n):
        if n < 8:
            raise SysError(EINVAL)
        if self.count == 0:
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(self.readq)
        value = 1 if self.semaphore else self.count
        self.count -= value
        self.writeq.wake()
        return struct.pack("<Q", value)

    def write(self, proc, data):
        if len(data) < 8:
            raise SysError(EINVAL)
        value = struct.unpack_from("<Q", data)[0]
        if value > MAX:
            raise SysError(EINVAL)
        if self.count + value > MAX:
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(self.writeq)
        self.count += value
        self.readq.wake()
        return 8

    def seek(self, off, whence):
        raise SysError(ESPIPE)

    def poll(self):
        return self.count > 0, self.count < MAX, False

    def wait_queue(self):
        return self.readq

    def wait_queues(self, readable, writable):
        """The queues woken by a change of the asked readiness (epoll.py)."""
        return ([self.readq] if readable else []) + ([self.writeq] if writable else [])


@syscall("eventfd2")
def sys_eventfd2(c, p, initval, flags, *_):
    if flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC):
        raise SysError(EINVAL)
    return p.fds.install(EventFd(initval & 0xFFFF_FFFF, flags), bool(flags & EFD_CLOEXEC))
