"""The console pane as a terminal (widgets/terminal.py): full-screen programs' escapes (cursor
addressing, erase, scroll regions, the alternate screen) on a screen of the pane's size, shown
with reverse video and colours, and plain line output as before.  Each expected screen below
is worked out by hand from the escape sequences fed (VT100/xterm semantics, console_codes(4)),
not read back from pyte; and BusyBox vi in a container, shown in `hv top`'s pane, is checked
against the file it edits and the size the pane gave its terminal."""
import asyncio
from types import SimpleNamespace

import pytest
from textual.app import App

from hypervisor.console import Console
from hypervisor.tui.widgets.console_view import ConsoleView
from hypervisor.tui.widgets.terminal import Terminal, row_text
from test_tui_helpers import oci_store, shutdown_engines  # noqa: F401  (fixtures)

CSI = "\x1b["


def run(coro):
    return asyncio.run(coro)


class PaneApp(App):
    """The console pane alone, the whole terminal (no border: content = app size)."""
    CSS = "ConsoleView { width: 1fr; height: 1fr; }"
    AUTO_FOCUS = None                   # focus is the test's to give (the cursor shows)

    def __init__(self):
        super().__init__()
        self.vm = SimpleNamespace(id=1, name="guest", console=Console())

    def compose(self):
        yield ConsoleView()


def rows_of(view):
    """The pane's rendered rows: (text, [(column, text, style) of each styled piece])."""
    out = []
    for line in view.build():
        text, styled, x = "", [], 0
        for t, st in line:
            if st:
                styled.append((x, t, st))
            text += t
            x += len(t)
        out.append((text.rstrip(" "), styled))
    return out


def write(app, view, data):
    app.vm.console.write(data.encode() if isinstance(data, str) else data)
    view.follow(app.vm)


# a hand-written full-screen frame: clear, text at 3;5, a reverse-video status line on the
# last row, a bold red word on blue, and the cursor put back at row 3 column 10
FRAME = (f"{CSI}H{CSI}2J{CSI}3;5Hhello{CSI}1;1Htop line{CSI}24;1H{CSI}7m-- INSERT --{CSI}m"
         f"{CSI}10;20H{CSI}1;31;44mRED{CSI}0m{CSI}3;10H")


def test_a_full_screen_frame_in_the_pane_at_80x24():
    app = PaneApp()

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(ConsoleView)
            write(app, view, "booting\r\n$ ")
            assert view.term.screen is None and view.lines == ["booting", "$ "]
            write(app, view, FRAME)
            await pilot.pause()
            rows = rows_of(view)
            assert len(rows) == 24
            want = [""] * 24
            want[0], want[2], want[9], want[23] = ("top line", "    hello",
                                                   " " * 19 + "RED", "-- INSERT --")
            assert [t for t, _ in rows] == want
            assert rows[23][1] == [(0, "-- INSERT --", "reverse")]
            assert rows[9][1] == [(19, "RED", "bold red on blue")]
            assert rows[2][1] == []                          # no cursor: not focused
            view.focus()
            await pilot.pause()
            # the cursor: row 3 column 10 (0-based 2, 9), a reverse cell
            assert rows_of(view)[2][1] == [(9, " ", "reverse")]
            # the cursor on the status line's reverse text shows as plain (reverse toggled)
            write(app, view, f"{CSI}24;4H")
            assert rows_of(view)[23] == ("-- INSERT --", [(0, "-- ", "reverse"),
                                                          (4, "NSERT --", "reverse")])
            write(app, view, f"{CSI}?25l")                   # the program hides the cursor
            assert rows_of(view)[23][1] == [(0, "-- INSERT --", "reverse")]
    run(go())


def test_alternate_screen_gives_the_lines_back_on_exit():
    """vi's ?1049h: a blank screen; ?1049l: the shell's lines as they were, and line mode."""
    app = PaneApp()

    async def go():
        async with app.run_test(size=(40, 10)) as pilot:
            view = app.query_one(ConsoleView)
            write(app, view, "".join(f"line {i}\r\n" for i in range(30)) + "$ vi x\r\n")
            write(app, view, f"{CSI}?1049h{CSI}H{CSI}J{CSI}1;1Hx1{CSI}2;1H~{CSI}10;1H"
                             f"{CSI}7m\"x\" 1L{CSI}m{CSI}1;1H")
            await pilot.pause()
            assert view.term.alternate
            assert [t for t, _ in rows_of(view)] == ["x1", "~"] + [""] * 7 + ['"x" 1L']
            view.scroll_rows(5)                              # no scrollback on the alt screen
            assert [t for t, _ in rows_of(view)][0] == "x1"
            write(app, view, f"{CSI}10;1H{CSI}K{CSI}?1049l$ ")
            assert view.term.screen is None and not view.term.alternate
            assert [t for t, _ in rows_of(view)] == [f"line {i}" for i in range(22, 30)] + \
                ["$ vi x", "$"]
            assert view.lines[:2] == ["line 0", "line 1"]    # all 32 lines still there
    run(go())


def test_line_output_keeps_wrapping_scrollback_and_rewrap():
    app = PaneApp()

    async def go():
        async with app.run_test(size=(20, 6)) as pilot:
            view = app.query_one(ConsoleView)
            write(app, view, "x" * 45 + "\r\n" + "".join(f"l{i}\r\n" for i in range(6)))
            await pilot.pause()
            assert view.term.screen is None
            assert [t for t, _ in rows_of(view)] == ["l1", "l2", "l3", "l4", "l5", ""]
            view.scroll_rows(6)
            assert [t for t, _ in rows_of(view)] == ["x" * 20, "x" * 20, "x" * 5, "l0", "l1",
                                                     "l2"]
            await pilot.resize_terminal(30, 6)               # wider: the long line rewraps
            await pilot.pause()
            view.scroll_rows(1 << 20)
            assert [t for t, _ in rows_of(view)][:3] == ["x" * 30, "x" * 15, "l0"]
    run(go())


def test_screen_scrolls_into_the_scrollback_and_page_up_shows_it():
    app = PaneApp()

    async def go():
        async with app.run_test(size=(20, 4)) as pilot:
            view = app.query_one(ConsoleView)
            write(app, view, "old\r\n")
            # a scroll region would keep its rows; a full-screen scroll at the bottom row
            # sends the top row to the scrollback
            write(app, view, f"{CSI}H{CSI}2J{CSI}1mA{CSI}m\r\nB\r\nC\r\nD\r\n{CSI}7mE{CSI}m")
            await pilot.pause()
            assert view.term.screen is not None              # E is reverse: stays a screen
            assert [t for t, _ in rows_of(view)] == ["B", "C", "D", "E"]
            assert view.lines == ["A", "B", "C", "D", "E"]
            view.scroll_rows(1)                              # the scrollback: text only
            assert rows_of(view) == [("A", []), ("B", []), ("C", []), ("D", [])]
            # a scroll region 2..3: the index at its bottom scrolls only rows 2-3
            view.scroll_rows(-5)
            write(app, view, f"{CSI}2;3r{CSI}3;1H\nF{CSI}r")
            assert [t for t, _ in rows_of(view)] == ["B", "D", "F", "E"]
            assert view.lines == ["A", "B", "D", "F", "E"]   # nothing more in the scrollback
    run(go())


def test_clear_then_shell_output_returns_to_lines():
    """`clear` (CSI H CSI J) goes to a screen; once plain output reaches the bottom row the
    screen becomes lines again (and rewraps), the cleared rows not among them."""
    t = Terminal(10, 3)
    t.feed(b"one\r\ntwo\r\n$ clear\r\n")
    t.feed(f"{CSI}H{CSI}J$ ".encode())
    assert t.screen is not None and [row_text(t.screen, y) for y in range(3)] == ["$", "", ""]
    assert t.text.lines == ["one"]      # the row that was above the 3 shown
    t.feed(b"ls\r\na b\r\n$ ")
    assert t.screen is None and t.text.lines == ["one", "$ ls", "a b", "$"] and t.text.col == 2


def test_line_editing_that_steps_up_a_row_redraws_in_place():
    """BusyBox's line editing on a wrapped command line: CR (to the start of the cursor's
    row, as a terminal of the pane's width has it), CSI A back up a row, CSI J."""
    t = Terminal(10, 4)
    t.feed(b"$ echo 1234567890123456")     # 23 characters: rows of 10, 10, 3
    t.feed(f"\r{CSI}A{CSI}JX".encode())    # row 3 -> its start -> row 2; erase; X
    assert t.screen is None                  # nothing styled, nothing below: lines again
    assert t.text.lines == ["$ echo 123", "X"] and t.text.col == 1   # the rows, as lines
    t.feed(b"\r\n\x1b[1;1H")
    assert [row_text(t.screen, y) for y in range(4)] == ["$ echo 123", "X", "", ""]


def test_resize_keeps_the_cursor_row_on_the_screen():
    """As xterm: rows below the cursor go first, then rows off the top into the scrollback."""
    t = Terminal(20, 6)
    t.feed(f"{CSI}H{CSI}2J{CSI}7mTOP{CSI}m{CSI}3;1H{CSI}1mmid{CSI}m{CSI}6;1Hbottom"
           f"{CSI}4;1Hfive".encode())
    t.resize(10, 3)                     # cursor row 4 -> 3: TOP goes, rows 5-6 go
    assert [row_text(t.screen, y) for y in range(3)] == ["", "mid", "five"]
    assert t.text.lines == ["TOP"] and (t.screen.cursor.y, t.screen.cursor.x) == (2, 4)


def test_colours_256_and_bright():
    from hypervisor.tui.widgets.console_view import screen_row
    t = Terminal(20, 2)
    t.feed(f"{CSI}H{CSI}38;5;196mR{CSI}0;92;43mG{CSI}0;4;33mU{CSI}m".encode())
    assert screen_row(t.screen, 0, False) == [("R", "#ff0000"),
                                              ("G", "bright_green on yellow"),
                                              ("U", "underline yellow")]


# ---------------------------------------------------------------------- end to end: BusyBox vi
@pytest.mark.usefixtures("shutdown_engines", "oci_store")
def test_busybox_vi_in_a_container_fills_the_pane():
    """`vi` on a 3-line file in a busybox container, in hv top's console pane at 80x24: the
    file's lines on the first rows, `~` on the rows below, vi's status line (its format:
    `- file line/lines percent%`) on the pane's last row; `:q` gives the shell's lines back."""
    from test_tui_helpers import FakeClock, advance, container, make_app, test_engine
    engine = test_engine(host_mem=32 << 20, guests=())
    clock = FakeClock()
    app = make_app(engine, clock)
    step = (300_000,)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            c = container(app, ["sh"])
            advance(app, engine, clock, rounds=3, insns=step)
            await pilot.press("enter")                      # keys to the container
            view = app.screen.query_one(ConsoleView)
            width, height = view.content_size.width, view.content_size.height
            await pilot.press(*"printf 'one\\ntwo\\nthree\\n' > /tmp/f", "enter",
                              *"vi /tmp/f", "enter")
            for _ in range(20):
                advance(app, engine, clock, rounds=1, insns=step)
                if view.term.alternate and "/tmp/f" in row_text(view.term.screen, height - 1):
                    break
            await pilot.pause()
            assert (c.tty.cols, c.tty.rows) == (width, height) == (view.term.screen.columns,
                                                                    view.term.screen.lines)
            rows = rows_of(view)
            assert len(rows) == height
            assert [t for t, _ in rows[:3]] == ["one", "two", "three"]
            assert [t for t, _ in rows[3:-1]] == ["~"] * (height - 4)
            assert rows[-1][0] == "- /tmp/f 1/3 33%"
            assert rows[0][1] == [(0, "o", "reverse")]      # the cursor: line 1, column 1
            await pilot.press(":", "q", "enter")
            advance(app, engine, clock, rounds=3, insns=step)
            await pilot.pause()
            assert view.term.screen is None and not view.term.alternate
            text = [t for t, _ in rows_of(view)]
            at = text.index("/ # vi /tmp/f")
            assert text[at - 1].startswith("/ # printf") and text[at + 1] == "/ #"
    run(go())
