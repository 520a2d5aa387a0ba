"""The terminal behind the console pane: a line model for ordinary output, and a VT100/VT220
screen (pyte) while a full-screen program (vi, top, less) addresses the cursor.

Why two models and not one pyte.HistoryScreen.  A terminal screen wraps a line once, at the
width it has when the line is written, and forgets where it wrapped; the pane changes width
whenever the user shows or hides a side panel (`v`) or maximizes the console (`z`), and a
boot log narrowed into a 46-column pane should rewrap, not lose its right half (pyte's
resize clips columns).  So ordinary output stays in the line model (TermLines: text lines,
2000 of them, rewrapped at the pane's width as they are shown, the cursor on the last line),
and only an escape that the line model cannot place switches to a pyte Screen of the pane's
size (screen mode):

* cursor addressing and movement off the last line: CSI H, f, d (row), A, B, E, F; a scroll
  region (CSI r); insert/delete/scroll lines (CSI L, M, S, T); erase the screen (CSI 1J, 2J,
  3J); reverse index, index, save/restore the cursor, reset (ESC M, D, E, 7, 8, c);
* the alternate screen (CSI ?1049h, ?1047h, ?47h: what BusyBox vi and less send).

The switch seeds the screen with what the pane shows (the last rows of the lines, the cursor
where it was), so a shell's line editing that steps up a row redraws in place; the lines above
become the screen's scrollback, and rows the screen scrolls off its top (full-screen scroll
region, main screen) join them, so page up still shows what went by.  The alternate screen is
a fresh blank one with no scrollback; leaving it (CSI ?1049l) brings back the main screen --
lines or screen -- exactly as it was, as xterm and tmux do.  Back from the main screen to lines
when nothing would change: after each write, if no cell has a colour or attribute, the
scroll region and modes are the defaults, nothing is below the cursor and the cursor is on
the bottom row (or there is no scrollback above), the screen's rows become lines again (what
the shell prints after `clear` rewraps once it reaches the bottom).

Also in the line model: CSI G (column), CSI 0J (erase below: on the last line, to its end),
CSI P / @ / X (delete, insert, erase characters), and the other escapes -- SGR, ESC ( B,
OSC titles, private modes -- are dropped, not printed.  A screen rendered with its colours,
bold, underline, reverse (vi's and top's status lines) is in console_view.py."""
import codecs
import re

import pyte
from pyte.screens import Margins

MAX_LINES = 2000
TAB = 8
# CSI (params, final) | OSC ... BEL/ST | ESC intermediates final | a control | text
_TOKEN = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                    r"|\x1b[ -/]*[0-~]|[\x00-\x1f\x7f]|[^\x00-\x1f\x7f\x1b]+")
_PARTIAL = re.compile(r"\x1b(\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[ -/]*)?$")
_MAX_PENDING = 512                      # an unterminated escape longer than this is dropped
_SCREEN_CSI = set("HfdABEFrLMST")       # CSI finals the line model cannot place
_SCREEN_ESC = set("MDE78c")             # ESC finals the same
_ALT = re.compile(r"\x1b\[\?(1049|1047|47)([hl])")
_ALT_MODES = {"1049", "1047", "47"}
_DEFAULT_MODE = {pyte.modes.DECAWM, pyte.modes.DECTCEM}


class TermLines:
    """Console text as lines, with a cursor column on the last line (see the module doc)."""

    def __init__(self, max_lines=MAX_LINES, width=None):
        self.max_lines = max_lines
        self.width = width              # None: CR goes to the start of the line
        self.reset()

    def reset(self):
        self.lines = [""]
        self.col = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data):
        """Bytes from the guest (escapes the model cannot place are dropped)."""
        text, self.pending = _split_partial(self.pending + self.decoder.decode(data))
        self.feed_text(text)

    def feed_text(self, text, stop=False):
        """Decoded text; with ``stop``, stops at the first escape that needs a screen (see the
        module doc) and returns where it is, else returns len(text)."""
        for m in _TOKEN.finditer(text):
            tok = m.group(0)
            c = tok[0]
            if c == "\n":
                self.lines[-1] = self.lines[-1].rstrip(" ")     # as a terminal shows it
                self.lines.append("")
                self.col = 0
            elif c == "\r":
                self.col = self._row_start()
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
                if stop and needs_screen(tok, m.group(1), m.group(2)):
                    self._trim()
                    return m.start()
                self._escape(m.group(1), m.group(2))
            elif c >= " ":
                self._put(tok)
        self._trim()
        return len(text)

    def _row_start(self):
        """Where CR goes: the start of the line, or with a ``width`` (the Terminal's), of the
        row the cursor is on as a terminal of that width shows it (after the last column is
        written the cursor stays on that row until the next character)."""
        w, col = self.width, self.col
        if not w or col < w:
            return 0
        if col % w == 0 and col >= len(self.lines[-1]):
            return col - w              # the pending wrap: still on the row just filled
        return col - col % w

    def _trim(self):
        if len(self.lines) > self.max_lines:
            del self.lines[:len(self.lines) - self.max_lines]

    def _put(self, s):
        line = self.lines[-1]
        if len(line) < self.col:
            line += " " * (self.col - len(line))
        self.lines[-1] = line[:self.col] + s + line[self.col + len(s):]
        self.col += len(s)

    def _escape(self, params, final):
        if final is None:                # not a CSI: dropped
            return
        n = int(params) if params and params.isdigit() else 1
        line = self.lines[-1]
        if final == "D":
            self.col = max(0, self.col - n)
        elif final == "C":
            self.col += n
        elif final == "G":
            self.col = max(0, n - 1)
        elif final in "KJ":             # J: erase below; nothing is below the last line
            if params in ("", "0"):
                self.lines[-1] = line[:self.col]
            elif params == "1" and final == "K":
                self.lines[-1] = " " * min(len(line), self.col + 1) + line[self.col + 1:]
            elif params == "2":
                self.lines[-1] = ""
        elif final == "P":
            self.lines[-1] = line[:self.col] + line[self.col + n:]
        elif final == "@" and self.col < len(line):
            self.lines[-1] = line[:self.col] + " " * n + line[self.col:]
        elif final == "X" and self.col < len(line):
            self.lines[-1] = line[:self.col] + " " * n + line[self.col + n:]


def needs_screen(tok, params, final):
    """Is escape ``tok`` one the line model cannot place (see the module doc)?"""
    if final is not None:               # a CSI
        if final in _SCREEN_CSI:
            return True
        if final == "J":
            return params not in ("", "0")
        return final == "h" and params[1:] in _ALT_MODES and params.startswith("?")
    return len(tok) == 2 and tok[1] in _SCREEN_ESC


def _split_partial(text):
    """(text, the escape left unfinished at its end)."""
    partial = _PARTIAL.search(text)
    if not partial:
        return text, ""
    tail = text[partial.start():]
    return text[:partial.start()], ("" if len(tail) > _MAX_PENDING else tail)


def wrap(lines, width):
    """Screen rows of ``lines`` wrapped at ``width``: (line index, start column) per row."""
    rows = []
    for i, line in enumerate(lines):
        n = max(1, -(-len(line) // width))
        rows.extend((i, k * width) for k in range(n))
    return rows


def row_text(screen, y):
    line = screen.buffer[y]
    return "".join(line[x].data for x in range(screen.columns)).rstrip(" ")


class Screen(pyte.Screen):
    """A pyte screen whose rows scrolled off the top go to ``history`` (a list of lines, None
    for the alternate screen), and whose size only the pane sets."""

    def __init__(self, columns, lines, history=None):
        super().__init__(columns, lines)
        self.history = history

    def index(self):
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.history is not None and self.cursor.y == bottom == self.lines - 1 and top == 0:
            self._keep(1)
        super().index()

    def _keep(self, n):
        self.history.extend(row_text(self, y) for y in range(n))
        if len(self.history) > MAX_LINES:
            del self.history[:len(self.history) - MAX_LINES]

    def set_mode(self, *modes, **kwargs):
        if kwargs.get("private"):       # DECCOLM (132 columns): the pane's width is not the
            modes = [m for m in modes if m != 3]     # guest's to set (xterm ignores it too)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes, **kwargs):
        if kwargs.get("private"):
            modes = [m for m in modes if m != 3]
        super().reset_mode(*modes, **kwargs)

    def fit(self, columns, lines):
        """Resize as xterm does: rows go off the top (into the scrollback) only as far as
        needed to keep the cursor on the screen, columns are clipped at the right."""
        if (columns, lines) == (self.columns, self.lines):
            return
        k = max(0, self.cursor.y - (lines - 1))
        if k:
            if self.history is not None:
                self._keep(k)
            old = dict(self.buffer)
            self.buffer.clear()
            for y, row in old.items():
                if y >= k:
                    self.buffer[y - k] = row
            self.cursor.y -= k
        for y in [y for y in self.buffer if y >= lines]:
            del self.buffer[y]
        if columns < self.columns:
            for row in self.buffer.values():
                for x in range(columns, self.columns):
                    row.pop(x, None)
        self.lines, self.columns = lines, columns
        self.margins = None
        self.cursor.x = min(self.cursor.x, columns)
        self.dirty.update(range(lines))


class Terminal:
    """One followed console's terminal: ``feed(bytes)``, ``resize(cols, rows)``; ``screen`` is
    None in line mode (``text.lines`` are the lines), else the pyte screen shown, with
    ``text.lines`` its scrollback.  See the module doc."""

    def __init__(self, cols=80, rows=24):
        self.cols, self.rows = cols, rows
        self.reset()

    def reset(self):
        self.text = TermLines(width=self.cols)
        self.screen = None
        self.stream = None
        self.saved = None               # the main screen (text, screen, stream) behind the alt
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def alternate(self):
        return self.saved is not None

    def feed(self, data):
        text, self.pending = _split_partial(self.pending + self.decoder.decode(data))
        while text:
            if self.screen is None:
                n = self.text.feed_text(text, stop=True)
                text = text[n:]
                if text:
                    text = self._to_screen(text)
                continue
            m = _ALT.search(text)
            self.stream.feed(text[:m.start()] if m else text)
            if not m:
                break
            text = text[m.end():]
            if m.group(2) == "h":
                self._enter_alternate()
            elif self.saved is not None:
                self.text, self.screen, self.stream = self.saved
                self.saved = None
                if self.screen is not None:
                    self.screen.fit(self.cols, self.rows)
        self._settle()

    def resize(self, cols, rows):
        cols, rows = max(1, cols), max(1, rows)
        if (cols, rows) == (self.cols, self.rows):
            return False
        self.cols, self.rows = cols, rows
        self.text.width = cols
        if self.saved is not None:
            self.saved[0].width = cols
        if self.screen is not None:
            self.screen.fit(cols, rows)
        self._settle()
        return True

    # ------------------------------------------------------------------ mode switches
    def _to_screen(self, text):
        """Line mode meets an escape it cannot place (at the start of ``text``): to a screen
        seeded with what the pane shows; returns the text left to feed."""
        m = _ALT.match(text)
        if m and m.group(2) == "h":
            self._enter_alternate()
            return text[m.end():]
        lines, width = self.text.lines, self.cols
        rows = wrap(lines, width)
        first = max(0, len(rows) - self.rows)
        i0, s0 = rows[first]
        history = lines[:i0] + ([lines[i0][:s0]] if s0 else [])
        screen = self._new_screen(history)
        last = len(lines) - 1
        screen.reset_mode(pyte.modes.DECAWM)        # a row of wide characters stays one row
        for y, (i, start) in enumerate(rows[first:]):
            screen.cursor_position(y + 1, 1)
            screen.draw(lines[i][start:start + width])
        screen.set_mode(pyte.modes.DECAWM)
        # the cursor: on the last line, col columns in (it may be past the last row's end)
        col = self.text.col
        k = min(col // width, sum(1 for i, _ in rows if i == last) - 1)
        cy = len(rows) - first - sum(1 for i, _ in rows if i == last) + k
        screen.cursor_position(max(0, min(cy, self.rows - 1)) + 1, 1)
        screen.cursor.x = min(col - k * width, width)
        self.text = TermLines(width=self.cols)
        self.text.lines = history
        return text

    def _new_screen(self, history):
        self.screen = Screen(self.cols, self.rows, history)
        self.stream = pyte.Stream(self.screen)
        return self.screen

    def _enter_alternate(self):
        if self.saved is None:
            self.saved = (self.text, self.screen, self.stream)
        self.text = TermLines(width=self.cols)
        self.text.lines = []
        self._new_screen(None)

    def _settle(self):
        """Back from the main screen to lines when nothing shown would change."""
        s = self.screen
        if s is None or self.saved is not None or s.margins is not None:
            return
        if s.mode != _DEFAULT_MODE or s.charset or s.cursor.attrs != s.default_char:
            return
        if s.cursor.y != s.lines - 1 and self.text.lines:
            return
        default = s.default_char
        for y, row in s.buffer.items():
            for ch in row.values():
                if ch._replace(data=" ") != default or (y > s.cursor.y and ch.data != " "):
                    return
        lines = self.text.lines
        lines.extend(row_text(s, y) for y in range(s.cursor.y + 1))
        self.text = TermLines(width=self.cols)
        self.text.lines = lines
        self.text.col = s.cursor.x
        self.text._trim()
        self.screen = self.stream = None
