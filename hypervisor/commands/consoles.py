"""The VMs' consoles on one terminal.

One VM: its bytes exactly as written.  Several: each line behind its VM's tag (`[hello] `),
whole lines only, so two VMs never mix inside a line, except for the *live* VM, the one the
keyboard types into: its partial line (a shell prompt, an echoed key) is shown at once, and a
line of another VM first closes it.  A line with no newline is shown anyway after LINE_LIMIT
bytes, so a guest cannot make hvlab buffer without bound.

For `hv demo` the lines are also fitted to the terminal's width (80 columns when it is not a
terminal): the alignment padding of a line that is too wide is squeezed, then the line is
wrapped under its tag; a guest's own "name: " prefix is dropped when the tag says the same;
tags are coloured when the output is a terminal.
"""
import re
import sys
import textwrap
import threading

from .output import OutputError
from .session import emit, emit_bytes, quiet

LINE_LIMIT = 4096
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan",
           "bright_magenta")


class Consoles:
    def __init__(self, vms, out=None, prefixed=None, live=None, width=None, colour=False,
                 strip_own_name=False, align=False):
        self.out = out or sys.stdout
        self.vms = list(vms)
        self.prefixed = len(self.vms) > 1 if prefixed is None else prefixed
        self.live = live                # the VM the keyboard types into, or None
        self.width = width              # fit lines to this many columns, or None
        self.strip_own_name = strip_own_name
        self._open = None               # the VM whose partial line is on the screen now
        self._lock = threading.Lock()
        tag_width = max((len(vm.name) for vm in self.vms), default=0) + 3 if align else 0
        self._tags = {}
        for i, vm in enumerate(self.vms):
            tag = f"[{vm.name}] ".ljust(tag_width)
            self._tags[vm.id] = (tag, _paint(tag, PALETTE[i % len(PALETTE)]) if colour else tag)
        self._listeners = []
        self._last = b"\n"              # the last byte shown (one VM)

    def attach(self):
        for vm in self.vms:
            listener = self._raw if not self.prefixed else _Lines(self, vm)
            vm.console.listeners.append(quiet(listener))    # a failed write ends the run,
            self._listeners.append(listener)                # not the worker writing it
        return self

    def break_line(self):
        """End the line a guest left open, so that a message of hvlab's starts on its own."""
        with self._lock:
            if self._open is not None:
                self._open = None
                emit("\n", self.out)
            elif not self.prefixed and self._last != b"\n":
                self._last = b"\n"
                emit("\n", self.out)

    def set_live(self, vm):
        """The keyboard types into ``vm`` now: its partial lines are shown as they come."""
        with self._lock:
            self.live = vm
            self._open = None               # the switch's own message ended the line

    def flush(self):
        """Show what is left of each VM's last line (at the end of the run); nothing once the
        output has failed."""
        try:
            self._flush()
        except OutputError:
            pass

    def _flush(self):
        for listener in self._listeners:
            if isinstance(listener, _Lines):
                listener.flush()
        if not self.prefixed and self._last != b"\n" and _isatty(self.out):
            emit("\n", self.out)          # hvlab's own lines start on a line of their own
            self._last = b"\n"
        with self._lock:
            if self._open is not None:
                self._open = None
                emit("\n", self.out)

    # ---------------------------------------------------------------- one VM: raw bytes
    def _raw(self, data):
        if data:
            self._last = data[-1:]
        emit_bytes(data, self.out)

    # ---------------------------------------------------------------- several VMs: lines
    def line(self, vm, text):
        """A whole line of ``vm`` (no newline)."""
        plain, shown = self._tags[vm.id]
        text = self._own_name_dropped(vm, text)
        with self._lock:
            lead = "\n" if self._open is not None else ""
            self._open = None
            if self.width:
                rows = fit(plain, text, self.width)
                emit(lead + "".join(shown + rows[0][len(plain):] + "\n" if i == 0 else
                                    row + "\n" for i, row in enumerate(rows)), self.out)
            else:
                emit(f"{lead}{shown}{text}\n", self.out)

    def partial(self, vm, text):
        """Part of a line of the live VM, shown now."""
        with self._lock:
            if self._open is vm:
                emit(text, self.out)
                return
            lead = "\n" if self._open is not None else ""
            self._open = vm
            emit(lead + self._tags[vm.id][1] + text, self.out)

    def line_end(self, vm, text):
        """The rest of a live VM's line whose start is already on the screen."""
        with self._lock:
            if self._open is vm:
                self._open = None
                emit(text + "\n", self.out)
                return
        self.line(vm, text)

    def _own_name_dropped(self, vm, text):
        if not self.strip_own_name:
            return text
        own = f"{getattr(vm, 'image_name', vm.name)}: "
        return text[len(own):] if text.startswith(own) else text


class _Lines:
    """One VM's byte stream cut into lines for Consoles (a console listener)."""

    def __init__(self, consoles, vm):
        self.consoles = consoles
        self.vm = vm
        self._partial = bytearray()
        self._shown = 0                 # bytes of _partial already on the screen (live VM)

    def __call__(self, data):
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            self._partial += data[start:nl]
            self._end_line()
            start = nl + 1
        self._partial += data[start:]
        if len(self._partial) >= LINE_LIMIT and self._shown:
            self._end_line()                # the live VM's line is on the screen already
        elif len(self._partial) >= LINE_LIMIT:
            while len(self._partial) >= LINE_LIMIT:     # a guest that never ends its line:
                cut = char_boundary(self._partial, LINE_LIMIT)  # lines of LINE_LIMIT bytes,
                rest = self._partial[cut:]                      # cut between characters
                del self._partial[cut:]
                self._end_line()
                self._partial += rest
        elif self._partial and self.consoles.live is self.vm:
            new = self._partial[self._shown:]
            if new:
                self.consoles.partial(self.vm, _text(new))
                self._shown = len(self._partial)

    def _end_line(self):
        shown, rest = self._shown, self._partial[self._shown:]
        if shown:
            self.consoles.line_end(self.vm, _text(rest))
        else:
            self.consoles.line(self.vm, _text(rest))
        self._partial.clear()
        self._shown = 0

    def flush(self):
        if self._partial:
            self._end_line()


def char_boundary(buf, limit):
    """The largest cut <= limit that does not split a UTF-8 sequence (any cut if none)."""
    if limit >= len(buf):
        return limit
    cut = limit
    while cut > limit - 4 and cut > 0 and buf[cut] & 0xC0 == 0x80:   # a continuation byte
        cut -= 1
    return cut if cut > limit - 4 and cut > 0 else limit


def _text(data):
    return bytes(data).decode("utf-8", errors="replace").rstrip("\r")


_PADDING = re.compile(r"(?<=\S)  +(?=\S)")


def fit(tag, text, width):
    """``tag + text`` as rows of at most ``width`` columns: as it is when it fits, else with its
    alignment padding squeezed to single spaces, then wrapped under the tag."""
    if len(tag) + len(text) <= width:
        return [tag + text]
    text = _PADDING.sub(" ", text)
    if len(tag) + len(text) <= width:
        return [tag + text]
    indent = " " * len(tag)
    rows = textwrap.wrap(text, width=width, initial_indent=tag, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False,
                         drop_whitespace=True) or [tag]
    return rows


def _paint(text, colour):
    from rich.color import ColorSystem
    from rich.style import Style
    return Style(color=colour, bold=True).render(text, color_system=ColorSystem.STANDARD)


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def use_colour(stream):
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    import os
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
