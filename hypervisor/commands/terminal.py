"""The keyboard of `hv run` on a terminal: raw mode, QEMU's Ctrl-A escape, and Ctrl-C.

In raw mode every key goes to the guest as typed, once: the terminal neither echoes it (the
guest does, if it wants) nor waits for Enter, nor turns Ctrl-C into a signal.  Output processing
stays on, so a guest's "\\n" still starts a new line.  What hvlab itself answers (termios(3),
QEMU's "-serial mon:stdio" keys):

    Ctrl-A x        quit hvlab: every VM is stopped
    Ctrl-A n        the keys go to the next VM (with several)
    Ctrl-A h        list these keys
    Ctrl-A Ctrl-A   send one Ctrl-A to the guest
    Ctrl-C          stops hvlab, or goes to the guest (an interactive image, or --ctrl-c guest)

The terminal is put back as it was on every way out: a normal end, an exception, Ctrl-A x,
SIGTERM or SIGHUP (atexit as a last resort).
"""
import atexit
import os
import signal

CTRL_A = 0x01
CTRL_C = 0x03

HELP = """hv console keys:
  Ctrl-A x        quit hvlab (every VM is stopped)
  Ctrl-A n        type into the next VM (with several)
  Ctrl-A h        this help
  Ctrl-A Ctrl-A   send Ctrl-A to the guest
  Ctrl-C          {ctrl_c}
"""


def ctrl_c_words(to_guest):
    return "goes to the guest" if to_guest else "stops hvlab"


def hint(target, to_guest):
    """The one line printed when raw mode starts."""
    return (f"hv: keys go to {target}; Ctrl-C {ctrl_c_words(to_guest)}, "
            f"Ctrl-A x quits, Ctrl-A h help")


class EscapeKeys:
    """Splits what the keyboard sends into bytes for the guest and hvlab's own commands.

    ``feed(data)`` returns a list of events: ("data", bytes) for the guest, ("quit", why),
    ("next", None) and ("help", None).  A Ctrl-A at the end of one read waits for the next
    key."""

    def __init__(self, ctrl_c_to_guest):
        self.ctrl_c_to_guest = ctrl_c_to_guest
        self._escape = False

    def feed(self, data):
        events, out = [], bytearray()

        def flush():
            if out:
                events.append(("data", bytes(out)))
                out.clear()
        for b in data:
            if self._escape:
                self._escape = False
                if b == CTRL_A:
                    out.append(CTRL_A)
                elif b in b"xX":
                    flush()
                    events.append(("quit", "Ctrl-A x"))
                elif b in b"hH?":
                    flush()
                    events.append(("help", None))
                elif b in b"nN":
                    flush()
                    events.append(("next", None))
                continue                    # any other key after Ctrl-A: nothing (as QEMU)
            if b == CTRL_A:
                self._escape = True
            elif b == CTRL_C and not self.ctrl_c_to_guest:
                flush()
                events.append(("quit", "Ctrl-C"))
            else:
                out.append(b)
        flush()
        return events


def usable_terminal(fd):
    """True when ``fd`` is a terminal this process may read and reconfigure: a job in the
    background (`hv run hello &`) must not, or the shell stops it (SIGTTIN, SIGTTOU)."""
    if not os.isatty(fd):
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:             # a terminal, but not this process's controlling one: no job
        return True             # control can stop us for using it


class RawMode:
    """A context manager: the terminal on ``fd`` in raw mode (output processing kept), put back
    on exit.  SIGTERM and SIGHUP are turned into SystemExit meanwhile, so the restoring
    ``finally`` blocks run; the old handlers come back afterwards."""

    def __init__(self, fd):
        self.fd = fd
        self._saved = None
        self._handlers = {}

    def __enter__(self):
        import termios
        self._saved = termios.tcgetattr(self.fd)
        mode = termios.tcgetattr(self.fd)
        iflag, oflag, cflag, lflag = 0, 1, 2, 3
        # cfmakeraw(3), except OPOST: the guest's "\n" still starts a new line
        mode[iflag] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
                         termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
        mode[lflag] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
                         termios.IEXTEN)
        mode[cflag] = (mode[cflag] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, mode)
        atexit.register(self.restore)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                self._handlers[sig] = signal.signal(sig, _exit_on_signal)
            except (ValueError, OSError):   # not the main thread: atexit still restores
                pass
        return self

    def __exit__(self, *exc):
        self.restore()
        return False

    def restore(self):
        if self._saved is None:
            return
        import termios
        saved, self._saved = self._saved, None
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)
        except (OSError, termios.error):
            pass                            # the terminal went away (hangup): nothing to restore
        for sig, handler in self._handlers.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError, TypeError):
                pass
        self._handlers.clear()
        atexit.unregister(self.restore)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)
