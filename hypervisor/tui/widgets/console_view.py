"""The selected VM's console: its scrollback (the last 8 KiB the guest wrote), followed live.

The guest's bytes go through a small line model of a terminal, enough for what guests send a
serial console: CR returns to the start of the line (progress lines overwrite themselves), BS
moves back one column (Linux echoes BS space BS to erase a character), DEL echoed back by a
guest that echoes raw bytes (the bundled echo does) erases the character before it, TAB
goes to the next multiple of 8, and of the ANSI escapes it keeps cursor left/right (CSI n D,
CSI n C) and erase-in-line (CSI K); the others are dropped.  Long lines wrap.

Focus it (enter on the table) and keys go to the VM's UART (a container's terminal):
printable characters as typed, enter as CR, backspace as DEL (what a terminal's backspace key
sends), ctrl+h as BS, escape as ESC (vi needs it), alt+key as ESC key, arrows, home, end,
delete and shift+tab as ANSI escapes, other ctrl keys as their control characters.  Page up /
page down, shift+arrows and the mouse wheel scroll back.  Ctrl+] gives the keys back to the
table (as telnet's and virsh console's escape character does; F12 too, where ctrl+] is
awkward to type); F1 (help) and ctrl+q (quit) still work."""
import codecs
import re

from textual.message import Message

from . import LinePanel, set_titles

MAX_LINES = 2000
TAB = 8
_TOKEN = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b[@-Z\\-_]|[\x00-\x1f\x7f]|[^\x00-\x1f\x7f\x1b]+")
_PARTIAL = re.compile(r"\x1b(\[[0-?]*[ -/]*)?$")
_NAMED = {"up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D",
          "home": b"\x1b[H", "end": b"\x1b[F", "delete": b"\x1b[3~",
          "enter": b"\r", "tab": b"\t", "backspace": b"\x7f", "ctrl+h": b"\x08",
          "escape": b"\x1b", "shift+tab": b"\x1b[Z", "insert": b"\x1b[2~",
          "ctrl+at": b"\x00", "ctrl+space": b"\x00"}
LEAVE_KEYS = ("ctrl+right_square_bracket", "f12")     # back to the table
KEEP_KEYS = ("f1", "ctrl+q")                          # help and quit, even here
_SCROLL = {"pageup", "pagedown", "shift+up", "shift+down", "shift+home", "shift+end"}


class TermLines:
    """Console text as lines, with a cursor column on the last line (see the module doc)."""

    def __init__(self, max_lines=MAX_LINES):
        self.max_lines = max_lines
        self.reset()

    def reset(self):
        self.lines = [""]
        self.col = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data):
        """Bytes from the guest."""
        text = self.pending + self.decoder.decode(data)
        partial = _PARTIAL.search(text)
        self.pending = text[partial.start():] if partial else ""
        if partial:
            text = text[:partial.start()]
        for m in _TOKEN.finditer(text):
            tok = m.group(0)
            c = tok[0]
            if c == "\n":
                self.lines[-1] = self.lines[-1].rstrip(" ")     # as a terminal shows it
                self.lines.append("")
                self.col = 0
            elif c == "\r":
                self.col = 0
            elif c == "\b":
                self.col = max(0, self.col - 1)
            elif c == "\x7f":
                if self.col > 0:
                    line = self.lines[-1]
                    self.col -= 1
                    self.lines[-1] = line[:self.col] + line[self.col + 1:]
            elif c == "\t":
                self._put(" " * (TAB - self.col % TAB))
            elif c == "\x1b":
                self._escape(m.group(1), m.group(2))
            elif c >= " ":
                self._put(tok)
        if len(self.lines) > self.max_lines:
            del self.lines[:len(self.lines) - self.max_lines]

    def _put(self, s):
        line = self.lines[-1]
        if len(line) < self.col:
            line += " " * (self.col - len(line))
        self.lines[-1] = line[:self.col] + s + line[self.col + len(s):]
        self.col += len(s)

    def _escape(self, params, final):
        if final is None:
            return
        n = int(params) if params and params.isdigit() else 1
        if final == "D":
            self.col = max(0, self.col - n)
        elif final == "C":
            self.col += n
        elif final == "K":
            line = self.lines[-1]
            if params in ("", "0"):
                self.lines[-1] = line[:self.col]
            elif params == "1":
                self.lines[-1] = " " * min(len(line), self.col + 1) + line[self.col + 1:]
            elif params == "2":
                self.lines[-1] = ""


def wrap(lines, width):
    """Screen rows of ``lines`` wrapped at ``width``: (line index, start column) per row."""
    rows = []
    for i, line in enumerate(lines):
        n = max(1, -(-len(line) // width))
        rows.extend((i, k * width) for k in range(n))
    return rows


class ConsoleView(LinePanel, can_focus=True):
    """Follows one VM's Console: ``follow(vm)`` at each poll."""

    class Leave(Message):
        """Ctrl+] (or F12): the user is done typing into the console."""

    class Typed(Message):
        def __init__(self, data):
            super().__init__()
            self.data = data

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.vm_id = None
        self.term = TermLines()
        self.back = 0                   # rows scrolled back from the end (0: following)
        self._total = 0
        self._vm_console = None
        self._rows = None               # (width, version) -> wrapped rows
        self._version = 0

    @property
    def lines(self):
        """The console's text lines (the last one is the line being written)."""
        return self.term.lines

    def follow(self, vm):
        """Show ``vm``'s console (None: nothing), adding only what is new since last time."""
        if vm is None:
            if self.vm_id is not None:
                self.vm_id, self._vm_console, self._total = None, None, 0
                self.term.reset()
                self._changed()
                set_titles(self, "console")
            return
        console = vm.console
        if vm.id != self.vm_id or console is not self._vm_console:
            self.vm_id, self._vm_console, self._total, self.back = vm.id, console, 0, 0
            self.term.reset()
            self._changed()
        self._size_terminal(vm)
        total, data, complete = console.since(self._total)
        if not complete:
            self.term.reset()
        if data or not complete:
            before = self._row_count()
            self.term.feed(data)
            self._changed()
            if self.back:               # scrolled back: the view stays where it is
                self.back += max(0, self._row_count() - before)
        self._total = total
        set_titles(self, f"console · {vm.name}")
        self._subtitle()
        self.update_view()

    def _size_terminal(self, vm):
        """A container's terminal gets this pane's size (what TIOCGWINSZ answers: BusyBox's
        line editing and vi lay out by it)."""
        tty = getattr(vm, "tty", None)
        width, height = self.content_size.width, self.content_size.height
        if tty is None or width <= 0 or height <= 0 or not hasattr(tty, "cols"):
            return
        if (tty.cols, tty.rows) != (width, height):
            tty.cols, tty.rows = width, height

    def _changed(self):
        self._version += 1
        self._rows = None

    def _wrapped(self):
        width = max(1, self.content_size.width)
        if self._rows is None or self._rows[0] != width:
            self._rows = (width, wrap(self.term.lines, width))
        return self._rows[1]

    def _row_count(self):
        return len(self._wrapped())

    def build(self):
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0:
            return []
        rows = self._wrapped()
        self.back = max(0, min(self.back, len(rows) - height))
        end = len(rows) - self.back
        lines = self.term.lines
        out = []
        cursor_row = len(rows) - 1 - max(0, (len(lines[-1]) - 1) // width) + self.term.col // width
        for r in range(max(0, end - height), end):
            i, start = rows[r]
            text = lines[i][start:start + width]
            if self.has_focus and r == cursor_row and i == len(lines) - 1:
                c = self.term.col - start
                text = text.ljust(c + 1)
                out.append([(text[:c], ""), (text[c], "reverse"), (text[c + 1:], "")])
            else:
                out.append([(text, "")])
        return out

    # ------------------------------------------------------------------ focus and keys
    def _subtitle(self):
        if self.back:
            sub = f"{self.back} rows back · pgdn / shift+end: the end"
        elif self.has_focus:
            sub = "keys go to the guest · ^]: back"
        else:
            sub = "enter: type here"
        set_titles(self, subtitle=sub)

    def on_focus(self):
        self._subtitle()
        self.update_view()

    def on_blur(self):
        self._subtitle()
        self.update_view()

    def on_mount(self):
        self.border_title = "console"
        self._subtitle()

    def scroll_rows(self, delta):
        """Scroll back (delta > 0) or forward by ``delta`` rows."""
        self.back = max(0, self.back + delta)
        self._subtitle()
        self.update_view()

    def on_mouse_scroll_up(self, event):
        self.scroll_rows(3)

    def on_mouse_scroll_down(self, event):
        self.scroll_rows(-3)

    def on_key(self, event):
        key = event.key
        page = max(1, self.content_size.height - 1)
        if key in LEAVE_KEYS:
            self.post_message(self.Leave())
        elif key in KEEP_KEYS:
            return
        elif key in _SCROLL:
            self.scroll_rows({"pageup": page, "pagedown": -page, "shift+up": 1,
                              "shift+down": -1, "shift+home": 1 << 30,
                              "shift+end": -(1 << 30)}[key])
        elif key in _NAMED:
            self.post_message(self.Typed(_NAMED[key]))
        elif event.character:
            self.post_message(self.Typed(event.character.encode("utf-8")))
        elif key.startswith("alt+") and len(key) == 5:
            self.post_message(self.Typed(b"\x1b" + key[4:].encode()))    # meta sends ESC
        else:
            return
        event.stop()
        event.prevent_default()
