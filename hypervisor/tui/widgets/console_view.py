"""The selected VM's console: its scrollback (the last 8 KiB the guest wrote), followed live,
shown as a terminal of the pane's size.

The guest's bytes go, as they come, through a terminal model (terminal.py): a line model for
ordinary output, enough for what guests send a serial console -- CR returns to the start of
the line (progress lines overwrite themselves), BS moves back one column (Linux echoes BS
space BS to erase a character), DEL echoed back by a guest that echoes raw bytes (the bundled
echo does) erases the character before it, TAB goes to the next multiple of 8, cursor
left/right and erase-in-line escapes; its lines wrap at the pane's width (again when the pane
changes width) and keep 2000 lines to scroll back.  When a full-screen program addresses the
cursor or enters the alternate screen (BusyBox vi, top, less), the model becomes a VT100/VT220
screen (pyte) of the pane's size -- a container's terminal is given that size too, so the
program lays out by it -- shown with its colours, bold, underline and reverse video, the
cursor a reverse cell while the pane has focus (unless the program hid it); see terminal.py
for when it switches and why.

Focus it (enter on the table) and keys go to the VM's UART (a container's terminal):
printable characters as typed, enter as CR, backspace as DEL (what a terminal's backspace key
sends), ctrl+h as BS, escape as ESC (vi needs it), alt+key as ESC key, arrows, home, end,
delete and shift+tab as ANSI escapes, other ctrl keys as their control characters.  Page up /
page down, shift+arrows and the mouse wheel scroll back.  Ctrl+] gives the keys back to the
table (as telnet's and virsh console's escape character does; F12 too, where ctrl+] is
awkward to type); F1 (help) and ctrl+q (quit) still work."""
from textual.message import Message

from . import LinePanel, set_titles
from .terminal import MAX_LINES, TAB, Terminal, TermLines, row_text, wrap  # noqa: F401

_NAMED = {"up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D",
          "home": b"\x1b[H", "end": b"\x1b[F", "delete": b"\x1b[3~",
          "enter": b"\r", "tab": b"\t", "backspace": b"\x7f", "ctrl+h": b"\x08",
          "escape": b"\x1b", "shift+tab": b"\x1b[Z", "insert": b"\x1b[2~",
          "ctrl+at": b"\x00", "ctrl+space": b"\x00"}
LEAVE_KEYS = ("ctrl+right_square_bracket", "f12")     # back to the table
KEEP_KEYS = ("f1", "ctrl+q")                          # help and quit, even here
_ARROWS = {"up", "down", "right", "left", "home", "end"}
DECCKM = 1 << 5                         # ?1 (pyte keeps private modes shifted by 5)
_SCROLL = {"pageup", "pagedown", "shift+up", "shift+down", "shift+home", "shift+end"}


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
        self.term = Terminal()
        self.back = 0                   # rows scrolled back from the end (0: following)
        self._total = 0
        self._vm_console = None
        self._rows = None               # (width, version) -> wrapped rows
        self._version = 0

    @property
    def lines(self):
        """The console's text lines (the last one is the line being written); with a screen
        shown, its scrollback and then its rows."""
        term = self.term
        if term.screen is None:
            return term.text.lines
        return term.text.lines + [row_text(term.screen, y) for y in range(term.screen.lines)]

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
        self._fit()
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
            resize = getattr(vm, "resize_terminal", None)
            if resize is not None:
                resize(height, width)           # SIGWINCH to its foreground programs
            else:
                tty.cols, tty.rows = width, height

    def _fit(self):
        """The terminal model gets the pane's size too (a screen is resized, lines rewrap)."""
        width, height = self.content_size.width, self.content_size.height
        if width > 0 and height > 0 and self.term.resize(width, height):
            self._changed()

    def _changed(self):
        self._version += 1
        self._rows = None

    def _wrapped(self):
        """Rows of the lines (line mode) or of the scrollback above the screen."""
        width = max(1, self.content_size.width)
        if self._rows is None or self._rows[0] != width:
            self._rows = (width, wrap(self.term.text.lines, width))
        return self._rows[1]

    def _row_count(self):
        screen = self.term.screen
        return len(self._wrapped()) + (screen.lines if screen is not None else 0)

    def build(self):
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0:
            return []
        self._fit()
        rows = self._wrapped()
        screen = self.term.screen
        total = self._row_count()
        self.back = max(0, min(self.back, total - height))
        end = total - self.back
        lines = self.term.text.lines
        out = []
        if screen is None:
            col = self.term.text.col
            cursor_row = len(rows) - 1 - max(0, (len(lines[-1]) - 1) // width) + col // width
        for r in range(max(0, end - height), end):
            if r >= len(rows):
                out.append(screen_row(screen, r - len(rows), self.has_focus))
                continue
            i, start = rows[r]
            text = lines[i][start:start + width]
            if screen is None and self.has_focus and r == cursor_row and i == len(lines) - 1:
                c = col - start
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
            data = _NAMED[key]
            screen = self.term.screen
            if key in _ARROWS and screen is not None and DECCKM in screen.mode:
                data = b"\x1bO" + data[2:]      # application cursor keys (vi, less set them)
            self.post_message(self.Typed(data))
        elif event.character:
            self.post_message(self.Typed(event.character.encode("utf-8")))
        elif key.startswith("alt+") and len(key) == 5:
            self.post_message(self.Typed(b"\x1b" + key[4:].encode()))    # meta sends ESC
        else:
            return
        event.stop()
        event.prevent_default()


# ---------------------------------------------------------------------- a screen's rows
_COLOUR_NAMES = {"brown": "yellow"}     # pyte's name for SGR 33 (console_codes(4))
_STYLES = {}


def _colour(name):
    """A pyte colour (a name, bright<name>, or rrggbb for 256 and true colours) for Rich."""
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return "#" + name
    bright = name.startswith("bright")
    name = name[6:] if bright else name
    name = _COLOUR_NAMES.get(name, name)
    return ("bright_" if bright else "") + name


def char_style(ch, cursor=False):
    """The Rich style string of a pyte Char (the cursor cell: its reverse toggled)."""
    key = (ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.strikethrough,
           ch.reverse != cursor, ch.blink)
    style = _STYLES.get(key)
    if style is None:
        words = [w for w, on in zip(("bold", "italic", "underline", "strike", "reverse",
                                     "blink"), key[2:]) if on]
        if ch.fg != "default":
            words.append(_colour(ch.fg))
        if ch.bg != "default":
            words.append("on " + _colour(ch.bg))
        style = _STYLES[key] = " ".join(words)
    return style


def screen_row(screen, y, focused):
    """Row ``y`` of a pyte screen as (text, style) pieces, runs of one style joined."""
    line = screen.buffer[y]
    cur = screen.cursor
    cursor_x = cur.x if focused and not cur.hidden and cur.y == y else -1
    cursor_x = min(cursor_x, screen.columns - 1)
    pieces = []
    text, style = [], None
    for x in range(screen.columns):
        ch = line[x]
        if ch.data == "":               # the second cell of a wide character
            continue
        st = char_style(ch, x == cursor_x)
        if st != style and text:
            pieces.append(("".join(text), style))
            text = []
        style = st
        text.append(ch.data)
    tail = "".join(text)
    if style == "":
        tail = tail.rstrip(" ")
    if tail:
        pieces.append((tail, style))
    return pieces
