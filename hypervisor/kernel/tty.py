"""The container's terminal: its console as a tty (``-t``) or as plain stdin/stdout streams.

Without ``-t`` (Docker's default) fd 0 reads the bytes sent to the container and ends at end of
input, fds 1 and 2 write to its log: no terminal, so isatty(3) is false and ioctl(TCGETS)
fails with ENOTTY.  With ``-t`` it is a terminal (termios(3)): canonical input with erase and
echo, ICRNL and ONLCR, ISIG (^C sends SIGINT and ^Z SIGTSTP to the foreground process group),
non-canonical reads for shells that edit lines themselves, window size, process groups.
"""
import struct

from .errno import EAGAIN, EINVAL, ENOTTY, ESPIPE, SysError
from .file import O_NONBLOCK, OpenFile
from .proc import Block, WaitQueue
from .signal import SIGWINCH
from .vfs import S_IFCHR, Node

TCGETS, TCSETS, TCSETSW, TCSETSF = 0x5401, 0x5402, 0x5403, 0x5404
TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCGWINSZ, TIOCSWINSZ = 0x540E, 0x540F, 0x5410, 0x5413, 0x5414
FIONREAD, FIONBIO, TIOCNOTTY, TIOCGSID = 0x541B, 0x5421, 0x5422, 0x5429
ICRNL, IXON = 0o400, 0o2000
OPOST, ONLCR = 1, 4
ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHONL, IEXTEN, ECHOCTL, ECHOKE = \
    1, 2, 0o10, 0o20, 0o40, 0o100, 0o100000, 0o1000, 0o4000
VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSUSP = 0, 1, 2, 3, 4, 5, 6, 10
DEFAULT_CC = bytes([3, 0x1C, 0x7F, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1A, 0, 0x12, 0x0F, 0x17,
                    0x16, 0, 0, 0])


class Terminal:
    def __init__(self, container, is_tty, sink=None):
        self.container = container
        self.is_tty = is_tty
        self.sink = sink                    # where output goes (default: the container's log)
        self.node = Node(S_IFCHR | 0o620)
        self.node.rdev = (136 << 8)         # /dev/pts/0
        self.iflag, self.oflag, self.cflag = ICRNL | IXON, OPOST | ONLCR, 0o277
        self.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL | ECHOKE
        self.cc = bytearray(DEFAULT_CC)
        self.rows, self.cols = 24, 80
        self.raw = bytearray()              # bytes typed, not yet a finished line
        self.ready = bytearray()            # bytes a read may return
        self.eof_marks = 0                  # ^D seen at the start of a line
        self.closed = False                 # no more input (stdin closed)
        self.readq = WaitQueue()
        self.fg_pgrp = 1
        self.sid = 1

    # ---------------------------------------------------------------- input from outside
    def resize(self, rows, cols):
        """The window changed size (hv top's pane, a client's terminal): as Linux's
        tty_do_resize, a new size sends SIGWINCH to the foreground process group, so vi or top
        lays itself out again (tty_ioctl(4), TIOCSWINSZ)."""
        if (rows, cols) == (self.rows, self.cols):
            return
        self.rows, self.cols = rows, cols
        if self.is_tty:
            self.container.kernel.signals.send_group(self.container, self.fg_pgrp, SIGWINCH)

    def feed(self, data):
        for b in data:
            self._byte(b)
        self.readq.wake()

    def hangup_input(self):
        self.closed = True
        self.ready += self.raw
        self.raw.clear()
        self.readq.wake()

    def _byte(self, b):
        if not self.is_tty:
            self.ready.append(b)
            return
        if b == 13 and self.iflag & ICRNL:
            b = 10
        if self.lflag & ISIG and b in (self.cc[VINTR], self.cc[VQUIT], self.cc[VSUSP]) and b:
            signo = {self.cc[VINTR]: 2, self.cc[VQUIT]: 3, self.cc[VSUSP]: 20}[b]
            self._echo(b"^" + bytes([b + 64]) + b"\n" if self.lflag & ECHO else b"")
            self.raw.clear()
            self.container.kernel.signals.send_group(self.container, self.fg_pgrp, signo)
            return
        if not self.lflag & ICANON:
            self.ready.append(b)
            if self.lflag & ECHO:
                self._echo(bytes([b]))
            return
        if b in (self.cc[VERASE], 8):
            if self.raw:
                self.raw.pop()
                self._echo(b"\b \b" if self.lflag & ECHO else b"")
            return
        if b == self.cc[VKILL]:
            self._echo(b"\b \b" * len(self.raw) if self.lflag & ECHO else b"")
            self.raw.clear()
            return
        if b == self.cc[VEOF]:
            if not self.raw:
                self.eof_marks += 1
            self.ready += self.raw
            self.raw.clear()
            return
        self.raw.append(b)
        if self.lflag & ECHO:
            self._echo(bytes([b]))
        if b == 10:
            self.ready += self.raw
            self.raw.clear()

    def _echo(self, data):
        if data:
            self.write_out(data)

    # ---------------------------------------------------------------- output
    def write_out(self, data):
        c = self.container
        if self.is_tty and self.oflag & OPOST and self.oflag & ONLCR:
            data = bytes(data).replace(b"\n", b"\r\n")
        if self.sink is not None:
            self.sink(bytes(data))
            return
        if c.first_output_at is None:
            import time
            c.first_output_at = time.perf_counter()
        c.console.write(bytes(data))


class TtyFile(OpenFile):
    """fd 0/1/2 of a container's processes, and /dev/tty, /dev/console."""
    seekable = False

    def __init__(self, term, flags):
        super().__init__(term.node, flags)
        self.term = term

    def read(self, proc, n):
        t = self.term
        if t.ready:
            data = bytes(t.ready[:n])
            del t.ready[:n]
            return data
        if t.eof_marks:
            t.eof_marks -= 1
            return b""
        if t.closed:
            return b""
        if self.flags & O_NONBLOCK:
            raise SysError(EAGAIN)
        raise Block(t.readq)

    def write(self, proc, data):
        self.term.write_out(data)
        return len(data)

    def seek(self, off, whence):
        raise SysError(ESPIPE)

    def poll(self):
        t = self.term
        return bool(t.ready) or t.closed or t.eof_marks > 0, True, False

    def wait_queue(self):
        return self.term.readq

    def ioctl(self, proc, req, arg):
        t = self.term
        mm = proc.mm
        if not t.is_tty:
            raise SysError(ENOTTY)
        if req == TCGETS:
            mm.write(arg, struct.pack("<IIIIB19s", t.iflag, t.oflag, t.cflag, t.lflag, 0,
                                      bytes(t.cc)))
        elif req in (TCSETS, TCSETSW, TCSETSF):
            t.iflag, t.oflag, t.cflag, t.lflag, _, cc = struct.unpack("<IIIIB19s",
                                                                      mm.read(arg, 36))
            t.cc[:] = cc
            if req == TCSETSF:
                t.ready.clear()
            if not t.lflag & ICANON:
                t.ready += t.raw
                t.raw.clear()
        elif req == TIOCGWINSZ:
            mm.write(arg, struct.pack("<HHHH", t.rows, t.cols, 0, 0))
        elif req == TIOCSWINSZ:
            t.resize(*struct.unpack("<HH", mm.read(arg, 4)))
        elif req == TIOCGPGRP:
            mm.write_u32(arg, t.fg_pgrp)
        elif req == TIOCSPGRP:
            t.fg_pgrp = mm.read_u32(arg)
        elif req == TIOCGSID:
            mm.write_u32(arg, t.sid)
        elif req == FIONREAD:
            mm.write_u32(arg, len(t.ready))
        elif req in (TIOCSCTTY, TIOCNOTTY):
            pass
        else:
            raise SysError(EINVAL)
        return 0
