"""Where the VMs' console input comes from in `hv run`, and when there will be no more.

Sources, all sent to the input VM (``--input-to``; default: the first interactive image, else
the first VM; ``all`` sends to every VM):

* stdin: the keyboard when it is a terminal (raw mode, terminal.py; Ctrl-A n moves it to
  the next VM), or a pipe or a file, forwarded as it comes.  EOF on a pipe or file is the end of that VM's input: its console
  reads return no data from then on, as they do whenever nothing was typed;
* ``--input TEXT``: typed when the VM starts, or ``--input-delay SECONDS`` (host time) later;
* ``--input-after PATTERN TEXT`` (repeatable): expect-style, in order: when the console has
  printed PATTERN (a plain string, searched from where the previous one matched), TEXT is
  typed at once, at the same guest instruction on every run.  A guest that empties its receive
  FIFO when it opens the port (Linux's 8250 driver does) loses input sent earlier.

A VM whose input has ended and that sleeps in wfi with no timer armed can never run again
(nothing is left to wake it); ``stuck()`` says so, and `hv run` ends such a VM instead of
waiting for ever.
"""
import os
import re
import select
import sys
import threading
import time

from ..devices.uart import RX_LIMIT
from ..errors import UsageError
from . import terminal
from .session import emit

ALL = "all"


def add_input_options(p):
    p.add_argument("--input", metavar="TEXT", default="",
                   help="typed at the console of the input VM when it starts (escapes: \\n "
                        "\\r \\t \\xHH \\\\)")
    p.add_argument("--input-delay", type=float, default=0.0, metavar="SECONDS",
                   help="type --input this many seconds (host time) after the start instead")
    p.add_argument("--input-after", nargs=2, action="append", default=[],
                   metavar=("PATTERN", "TEXT"),
                   help="when the console has printed PATTERN, type TEXT (expect-style; "
                        "repeatable, matched in the order given)")
    p.add_argument("--input-to", metavar="NAME",
                   help="the VM that gets stdin and the scripted input, or 'all' (default: "
                        "the first interactive image, such as echo, else the first VM)")
    p.add_argument("--ctrl-c", choices=("guest", "host"),
                   help="on a terminal, where Ctrl-C goes (default: to an interactive guest, "
                        "else it stops hvlab; Ctrl-A x always quits)")


_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"\\": b"\\", b"0": b"\0", b"e": b"\x1b",
           b"a": b"\a", b"b": b"\b", b"'": b"'", b'"': b'"'}


def decode(text, option="--input"):
    """Typed text with C-style escapes as bytes: \\n \\r \\t \\0 \\e \\xHH \\\\ (UTF-8
    otherwise).  An unknown escape is a usage error naming the option."""
    raw = text.encode("utf-8", errors="surrogateescape")

    def one(m):
        esc = m.group(1)
        if esc[:1] == b"x" and len(esc) == 3:
            return bytes((int(esc[1:], 16),))
        if esc in _SIMPLE:
            return _SIMPLE[esc]
        shown = esc.decode("utf-8", errors="replace")
        raise UsageError(f"{option} {text!r}: unknown escape \\{shown} (use \\n \\r \\t \\0 "
                         f"\\e \\xHH or \\\\)")
    if raw.endswith(b"\\") and not raw.endswith(b"\\\\"):
        raise UsageError(f"{option} {text!r}: a lone \\ at the end (write \\\\)")
    return _ESCAPE.sub(one, raw)


def input_targets(vms, interactive, choice):
    """The VMs that get the input: --input-to NAME or 'all', else the rule in the docstring."""
    if choice == ALL:
        return list(vms)
    if choice is not None:
        for vm in vms:
            if vm.name == choice:
                return [vm]
        names = ", ".join(vm.name for vm in vms)
        raise UsageError(f"--input-to {choice}: no such VM (the VMs: {names}, or all)")
    for vm, flag in zip(vms, interactive):
        if flag:
            return [vm]
    return list(vms[:1])


class _Expect:
    """A console listener: types each TEXT once its PATTERN has been printed, in order."""

    def __init__(self, vm, steps):
        self.vm = vm
        self.steps = list(steps)        # [(pattern bytes, text bytes)]
        self._seen = bytearray()

    def __call__(self, data):
        self._seen += data
        while self.steps:
            pattern, text = self.steps[0]
            at = self._seen.find(pattern)
            if at < 0:
                del self._seen[:max(0, len(self._seen) - len(pattern) + 1)]   # bounded
                return
            del self._seen[:at + len(pattern)]
            self.steps.pop(0)
            self.vm.send_input(text)    # now: at this very exit, the same on every run


class Inputs:
    """The input of one `hv run`.  ``prepare()`` and then ``start()`` (raw mode, the stdin
    thread) just before the VMs start, ``stop()`` in a finally.  ``quit`` is set when the user asked hvlab to quit (Ctrl-A x, or
    Ctrl-C when it stops hvlab); ``quit_reason`` says how."""

    def __init__(self, targets, text=b"", delay=0.0, after=(), ctrl_c=None, interactive=False,
                 stdin=None, err=None, vms=None, on_switch=None, before_message=None):
        self.targets = list(targets)        # the scripted input's VMs, and stdin's at first
        self.keyboard = list(targets)       # stdin's VMs now (Ctrl-A n moves a terminal's)
        self.vms = list(vms or targets)
        self.on_switch = on_switch          # called with the VM the keys go to now
        self.before_message = before_message  # ends the console's open line before hv's
        self.text, self.delay, self.after = text, delay, list(after)
        self.ctrl_c_to_guest = (ctrl_c == "guest") if ctrl_c else interactive
        self.err = err or sys.stderr
        self.fd = _fileno(sys.stdin if stdin is None else stdin)
        self.quit = threading.Event()
        self.quit_reason = None
        self.stdin_ended = self.fd is None
        self.terminal = self.fd is not None and terminal.usable_terminal(self.fd)
        if self.fd is not None and os.isatty(self.fd) and not self.terminal:
            self.fd, self.stdin_ended = None, True      # a background job leaves the tty alone
        self._delayed = bool(text) and delay > 0
        self._stop = threading.Event()
        self._threads = []
        self._raw = None
        self._keys = terminal.EscapeKeys(self.ctrl_c_to_guest) if self.terminal else None

    # ------------------------------------------------------------------ the run
    def prepare(self):
        """Before the VMs start: the expect-style listeners, and --input without a delay."""
        for vm in self.targets:
            if self.after:
                vm.console.listeners.append(_Expect(vm, self.after))
            if self.text and not self._delayed:
                vm.send_input(self.text)

    def start(self):
        if self._delayed:
            timer = threading.Timer(self.delay, self._send_delayed)
            timer.daemon = True
            timer.start()
            self._threads.append(timer)
        if self.fd is None or not self.targets:
            self.stdin_ended = True
            return
        if self.terminal:
            self._raw = terminal.RawMode(self.fd).__enter__()
            who = self.targets[0].name if len(self.targets) == 1 else "every VM"
            emit(terminal.hint(who, self.ctrl_c_to_guest) + "\n", self.err)
        t = threading.Thread(target=self._pump, name="hv-stdin", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            if isinstance(t, threading.Timer):
                t.cancel()
            elif t is not threading.current_thread():
                t.join(0.5)
        if self._raw is not None:
            self._raw.restore()
            self._raw = None

    # ------------------------------------------------------------------ no more input
    def ended(self, vm):
        """True when no more input can reach ``vm``: it is not an input target, or stdin has
        ended (or was never there) and no delayed --input is pending.  (A pattern of
        --input-after cannot match any more once the guest sleeps without a timer.)"""
        if self.terminal and not self.stdin_ended:
            return False                    # Ctrl-A n can bring the keyboard to any VM
        return vm not in self.targets or (self.stdin_ended and not self._delayed)

    def no_input_reason(self, vm):
        """Why nothing more can reach ``vm``, for the line that ends it."""
        if vm in self.targets:
            return "waiting for console input after stdin ended (idle in wfi, no timer)"
        names = ", ".join(t.name for t in self.targets)
        return f"waiting for console input, which goes to {names} (--input-to)"

    # ------------------------------------------------------------------ sources
    def _send(self, data, vms=None):
        for vm in self.targets if vms is None else vms:
            vm.send_input(data)

    def _send_delayed(self):
        if not self._stop.is_set():
            self._send(self.text)
        self._delayed = False

    def _next_vm(self):
        """Ctrl-A n: the keys go to the VM after the current one (one that has not ended)."""
        alive = [vm for vm in self.vms if not vm.done]
        if not alive:
            return
        current = self.keyboard[0] if len(self.keyboard) == 1 else None
        i = alive.index(current) + 1 if current in alive else 0
        self.keyboard = [alive[i % len(alive)]]
        self._say(f"hv: keys go to {self.keyboard[0].name}\n")
        if self.on_switch is not None:
            self.on_switch(self.keyboard[0])

    def _say(self, text):
        if self.before_message is not None:
            self.before_message()
        emit(text, self.err)

    def _room(self):
        """Bytes the keyboard's VMs can take now: a pipe is read no faster than the guest
        reads its UART, so nothing is lost when a file is larger than the receive queue."""
        room = []
        for vm in self.keyboard:
            rx = getattr(getattr(vm, "uart", None), "rx", None)
            if rx is not None and not vm.done:
                room.append(RX_LIMIT - len(rx))
        return min(room) if room else 4096

    def _pump(self):
        fd = self.fd
        while not self._stop.is_set():
            room = self._room()
            if room <= 0:
                time.sleep(0.005)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
            except (OSError, ValueError):
                break
            if not ready:
                continue
            try:
                data = os.read(fd, min(room, 4096))
            except OSError:                 # EIO: the terminal hung up; like EOF
                data = b""
            if not data:
                break
            if self._keys is None:
                self._send(data, self.keyboard)
                continue
            for kind, value in self._keys.feed(data):
                if kind == "data":
                    self._send(value, self.keyboard)
                elif kind == "next":
                    self._next_vm()
                elif kind == "help":
                    self._say(terminal.HELP.format(
                        ctrl_c=terminal.ctrl_c_words(self.ctrl_c_to_guest)))
                elif kind == "quit":
                    self.quit_reason = value
                    self.quit.set()
                    return
        self.stdin_ended = True


def _fileno(stream):
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    try:
        return stream.fileno()
    except (AttributeError, ValueError, OSError):     # closed, or pytest's captured stdin
        return None
