"""Pipes (pipe(7)): a 64 KiB buffer between a read end and a write end.

Reading an empty pipe sleeps while a writer exists and returns 0 (end of file) when none
does; writing a full pipe sleeps (PIPE_BUF-sized writes are atomic); writing with no reader
left raises SIGPIPE and fails with EPIPE.  O_NONBLOCK turns each sleep into EAGAIN.
"""
from .errno import EAGAIN, EPIPE, ESPIPE, SysError
from .file import O_NONBLOCK, O_RDONLY, O_WRONLY, OpenFile
from .proc import Block, WaitQueue
from .vfs import S_IFIFO, Node

PIPE_SIZE = 65536
PIPE_BUF = 4096


class Pipe:
    def __init__(self):
        self.buf = bytearray()
        self.readers = self.writers = 0
        self.readq = WaitQueue()        # readers waiting for data
        self.writeq = WaitQueue()       # writers waiting for room
        self.node = Node(S_IFIFO | 0o600)


class PipeEnd(OpenFile):
    seekable = False

    def __init__(self, pipe, flags):
        super().__init__(pipe.node, flags)
        self.pipe = pipe
        if self.writable:
            pipe.writers += 1
        else:
            pipe.readers += 1

    def read(self, proc, n):
        p = self.pipe
        if not p.buf:
            if p.writers == 0:
                return b""
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(p.readq)
        data = bytes(p.buf[:n])
        del p.buf[:n]
        p.writeq.wake()
        return data

    def write(self, proc, data):
        p = self.pipe
        if p.readers == 0:
            proc.container.kernel.signals.send(proc.container, proc, 13)   # SIGPIPE
            raise SysError(EPIPE)
        room = PIPE_SIZE - len(p.buf)
        if room <= 0 or (len(data) <= PIPE_BUF and room < len(data)):
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(p.writeq)
        n = min(room, len(data))
        p.buf += data[:n]
        p.readq.wake()
        return n

    def seek(self, off, whence):
        raise SysError(ESPIPE)

    def poll(self):
        p = self.pipe
        if self.writable:
            return False, len(p.buf) < PIPE_SIZE, p.readers == 0
        return bool(p.buf), False, p.writers == 0

    def wait_queue(self):
        return self.pipe.writeq if self.writable else self.pipe.readq

    def close(self):
        p = self.pipe
        if self.writable:
            p.writers -= 1
            p.readq.wake()
        else:
            p.readers -= 1
            p.writeq.wake()


def make_pipe(flags):
    p = Pipe()
    return PipeEnd(p, O_RDONLY | (flags & O_NONBLOCK)), PipeEnd(p, O_WRONLY | (flags & O_NONBLOCK))
