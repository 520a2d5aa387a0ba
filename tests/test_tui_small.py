"""`hv top` on small terminals (80x24, 100x30) and the glitches of issue 10, one Pilot test each:
the reason column after the full-screen console, the key bar while the console has the keys,
CPU% above 100, the table and the panels disagreeing, backspace in the console, the step
window's second symbol, small guests hidden in the memory map.  Plus the state words, the
help screen's exit-cause legend, rows under an instance, and what the UI does per poll."""
import asyncio
import io
import time
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

from hypervisor import state as S
from hypervisor.engine import Engine
from hypervisor.exitcauses import EXIT_CAUSES
from hypervisor.tui.app import HvTop
from hypervisor.tui.sampler import Sampler
from hypervisor.tui.screens.help import HelpScreen, help_renderable
from hypervisor.tui.screens.main import MainScreen
from hypervisor.tui.screens.step import StepScreen
from hypervisor.tui.widgets import vm_colour
from hypervisor.tui.widgets.console_view import ConsoleView, TermLines
from hypervisor.tui.widgets.exits_panel import ExitsPanel
from hypervisor.tui.widgets.key_bar import KeyBar
from hypervisor.tui.widgets.memory_map import MemoryMap, cell_pages, summarise
from hypervisor.tui.widgets.sparklines import CpuSparklines
from hypervisor.tui.widgets.vm_table import COLUMNS, VMTable
from test_tui_helpers import MEM, FakeClock, advance, elf, make_app, shutdown_engines, test_engine

pytestmark = pytest.mark.usefixtures("shutdown_engines")


def run(coro):
    return asyncio.run(coro)


def shown(widget):
    """Laid out with some room: displayed (a hidden panel has no region)."""
    return widget.region.width > 0 and widget.region.height > 0


# ---------------------------------------------------------------------- small terminals
def test_80x24_is_compact_and_keeps_what_matters():
    engine = test_engine(guests=("SPIN", "ECHO", "SPIN", "TOUCH", "SPIN", "SPIN", "SPIN"))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            advance(app, engine, clock, rounds=12)
            await pilot.pause()
            screen = app.screen
            assert screen.has_class("-compact") and not screen.has_class("-full")
            table = screen.query_one(VMTable)
            keys = table.visible_keys()
            assert {"name", "state", "cpu", "mips", "mem"} <= set(keys)
            assert "reason" not in keys and "host" not in keys          # dropped first
            assert len(table.ordered_ids()) == 7 and shown(table)
            assert table.region.bottom <= 24 - 1 - 1 - 8                # room for the rest
            bar = screen.query_one(KeyBar).plain_keys()
            assert bar.endswith("? q") and "⏎" in bar and "p" in bar
            # one side panel at a time beside the console; v shows the next
            side = [screen.query_one(f"#{i}") for i in ("exits", "timeline", "memmap-c",
                                                        "sparks-c")]
            assert shown(screen.query_one(ConsoleView))
            assert [shown(w) for w in side] == [True, False, False, False]
            console = screen.query_one(ConsoleView)
            assert console.region.width >= 48              # 46 characters beside the panel
            for k in range(1, 6):                           # ..., then none, then exits
                await pilot.press("v")
                await pilot.pause()
                assert [shown(w) for w in side] == [i == k % 5 for i in range(4)]
                assert console.region.width == (80 if k == 4 else 48)
            assert not shown(screen.query_one("#memmap")) and not shown(screen.query_one("#sparks"))
            # every line fits: nothing is drawn past column 80 or row 24
            assert max(w.region.right for w in screen.query("*") if shown(w)) <= 80
    run(go())


def test_columns_drop_by_priority_and_come_back():
    engine = test_engine(guests=("SPIN", "SPIN"))
    app = make_app(engine)
    priority = [c.key for c in sorted(COLUMNS, key=lambda c: c.priority)]

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            wide = list(table.columns)
            assert len(wide) == len(COLUMNS)
            seen = []
            for width in (120, 100, 90, 80, 60):
                await pilot.resize_terminal(width, 30)
                await pilot.pause()
                keys = table.visible_keys()
                # what shows is always the most important columns: a prefix by priority
                assert set(keys) == set(priority[:len(keys)]), (width, keys)
                seen.append(len(keys))
            assert seen == sorted(seen, reverse=True) and seen[0] > seen[-1] >= 4
            await pilot.resize_terminal(160, 48)
            await pilot.pause()
            assert list(table.columns) == wide
            assert app.screen.has_class("-full")
    run(go())


def test_100x30_fits_the_exits_panel_whole():
    engine = test_engine(guests=("SPIN",) * 4)
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            advance(app, engine, clock, rounds=3)
            await pilot.pause()
            exits = app.screen.query_one(ExitsPanel)
            assert shown(exits) and exits.plain().count("■") == S.N_EXITS
    run(go())


# ---------------------------------------------------------------------- the glitches
def test_leaving_the_full_screen_console_keeps_the_reason_column():
    engine = test_engine(guests=("SPIN", "CRASH"))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            advance(app, engine, clock, rounds=3)
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            before = [(c.key, w) for c, w in table.columns]
            assert ("reason" in dict(before)) and dict(before)["reason"] >= 10
            await pilot.press("z")
            await pilot.pause()
            assert app.screen.maximized is app.screen.query_one(ConsoleView)
            await pilot.press("ctrl+right_square_bracket")
            await pilot.pause()
            advance(app, engine, clock, rounds=2)
            await pilot.pause()
            assert [(c.key, w) for c, w in table.columns] == before
            assert table.cells(2)["reason"].startswith("unhandled trap")
    run(go())


def test_key_bar_shows_the_consoles_keys_while_it_has_them():
    engine = test_engine(guests=("ECHO",))
    vm = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.screen.query_one(KeyBar)
            assert "pause" in bar.plain() and "? help" in bar.plain()
            await pilot.press("enter")
            text = bar.plain()
            for word in ("pause", "kill", "restart", "new", "? help", " q quit"):
                assert word not in text, text
            assert "^] back to the table" in text and text.rstrip().endswith("f1 help  ^q quit")
            await pilot.press("p", "k", "q")                # they go to the guest
            assert bytes(vm.uart.rx)[-3:] == b"pkq" and vm.status == "running"
            await pilot.press("f1")                         # help works from the console
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")                     # closes the help
            await pilot.press("ctrl+right_square_bracket")  # back to the table
            assert "pause" in bar.plain()
            # a click on a key runs it: "p pause" is the second key, after " ⏎ console "
            x = bar.plain().index(" p pause") + 2
            await pilot.click(KeyBar, offset=(x, 0))
            assert vm.status == "paused"
            await pilot.press("enter", "ctrl+q")            # ctrl+q quits from the console
        assert app.quit_seconds is not None
    run(go())


def test_cpu_percent_of_one_vm_never_passes_100():
    """The scheduler charges host time when a slice ends: a window can catch more than its
    length.  One hart cannot use more than a core, so the figure is clipped."""
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            for i in range(12):
                vm.host_ns += 130_000_000 if i % 2 else 90_000_000     # lumps: 1.1 s a second
                clock.t += 0.1
                app.poll()
            await pilot.pause()
            assert app.sampler.metrics[1].cpu == 1.0
            assert app.screen.query_one(VMTable).cells(1)["cpu"] == "100.0"
            assert "100%" in app.screen.query_one("#sparks", CpuSparklines).plain()
    run(go())


def test_table_and_panels_draw_one_snapshot():
    engine = test_engine(guests=("TOUCH", "SPIN"))
    vm1 = engine.vms[1]
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            advance(app, engine, clock, rounds=12, insns=(40_000, 20_000), cpu_ms=(60, 30))
            await pilot.pause()
            screen = app.screen
            snap = app.sampler.snapshot
            table = screen.query_one(VMTable)
            memmap = screen.query_one("#memmap", MemoryMap)
            sparks = screen.query_one("#sparks", CpuSparklines)
            exits = screen.query_one(ExitsPanel)
            assert table.snapshot is snap and memmap.snapshot is snap and sparks.snapshot is snap
            assert exits.sample is snap.vms[table.selected_id]
            # the same figures: CPU% in the table and the sparklines, exits/s and pages
            for vm_id in (1, 2):
                cpu = float(table.cells(vm_id)["cpu"])
                assert f"{cpu:.0f}%" in sparks.plain().splitlines()[vm_id - 1]
            assert exits.border_subtitle.startswith(table.cells(1)["exits"])
            assert "touch-1 808K" in memmap.plain()
            # a VM changes between two polls (a worker does not wait for the UI): the panels
            # redrawn before the next poll still agree, all showing the last poll's moment
            engine.kill(vm1)
            screen.update_view()
            await pilot.pause()
            assert table.cells(1)["state"] == "running" and table.cells(1)["mem"] == "808K/8M"
            assert "touch-1 808K" in memmap.plain()
            app.poll()                                      # the next poll: all move together
            await pilot.pause()
            assert table.cells(1)["state"] == "killed" and table.cells(1)["mem"] == "0/8M"
            assert "touch-1" not in memmap.plain()
    run(go())


def test_console_line_model_backspace_cr_escapes():
    t = TermLines()
    t.feed(b"abc\b \b")                     # Linux's erase echo: BS space BS
    assert t.lines == ["ab "] and t.col == 2        # (the space is where c was)
    t.feed(b"d\x7f\x7fX")                   # DEL echoed raw by a simple guest: erases
    assert t.lines == ["aX"]
    t.feed(b"\r\nloading 10%\rloading 99%\n")
    assert t.lines == ["aX", "loading 99%", ""]
    t.feed(b"prompt> ls -l\x1b[3D\x1b[K")   # cursor left 3, erase to the end of the line
    assert t.lines[-1] == "prompt> ls"
    t.feed(b"\x1b[")                         # an escape split between two writes
    t.feed(b"1mbold\x1b[0m\tx\x07")
    assert t.lines[-1] == "prompt> lsbold  x"
    t.feed("é".encode()[:1])                 # UTF-8 split between two writes
    t.feed("é".encode()[1:] + b"\n")
    assert t.lines[-2] == "prompt> lsbold  xé"


def test_backspace_in_the_console_erases_what_was_typed():
    engine = test_engine(guests=("ECHO",))
    vm = engine.vms[1]
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            advance(app, engine, clock, rounds=1, insns=(2000,))
            await pilot.press("enter", "h", "i", "x", "backspace", "p", "enter")
            advance(app, engine, clock, rounds=1, insns=(8000,))
            await pilot.pause()
            assert vm.console.text().endswith("echo ready> hix\x7fp\n")     # DEL to the guest
            console = app.screen.query_one(ConsoleView)
            assert console.lines[-2:] == ["echo ready> hip", ""]
            assert "echo ready> hip" in console.plain()
    run(go())


def test_step_window_labels_where_the_pc_is():
    engine = test_engine(guests=("LOOPSYM",))
    vm = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("p", "s", "s", "s")
            assert isinstance(app.screen, StepScreen)
            head = str(app.screen.query_one("#step-head").render()).splitlines()
            pc = int(vm.st[S.PC])
            assert pc == 0x80400008
            # line 2 says where the pc is; the <loop> on line 3 is the branch's target
            assert head[1].split() == ["in", "loop+0x4"]
            assert head[2].startswith(f"next  {pc:08x}: ") and head[2].endswith("<loop>")
            box = app.screen.query_one("#step-box")
            assert box.region.right <= 80 and box.region.bottom <= 24
    run(go())


def test_step_window_shows_4_hex_digits_for_a_16_bit_parcel():
    """A compressed instruction is one 16-bit parcel: 4 hex digits (as objdump prints it),
    fetched alone (the last halfword of RAM has nothing after it); a 32-bit instruction
    whose halves lie on two pages is fetched whole.  0x4501 is c.li a0,0 and 0x00100513 is
    addi a0,zero,1 (li a0,1), decoded by hand from the RISC-V encodings."""
    from hypervisor.tui.screens.step import describe, fetch
    from hypervisor.tui.screens.step import _disassembler
    engine = test_engine(guests=("LOOPSYM",))
    vm = engine.vms[1]
    engine.pause(vm)
    dis = _disassembler()
    end = 0x80000000 + vm.mem
    vm.write_guest(end - 2, (0x4501).to_bytes(2, "little"))
    assert fetch(vm, end - 2) == (0x4501, 2)
    assert describe(vm, end - 2, dis) == f"{end - 2:08x}: 4501      li a0,0"
    across = 0x80401000 - 2
    vm.write_guest(across, (0x00100513).to_bytes(4, "little"))
    assert fetch(vm, across) == (0x00100513, 4)
    assert describe(vm, across, dis) == f"{across:08x}: 00100513  li a0,1"
    assert "not mapped" in describe(vm, end, dis)
    vm.st[S.PC] = end - 2
    app = make_app(engine)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("s")
            assert isinstance(app.screen, StepScreen)
            head = str(app.screen.query_one("#step-head").render())
            assert f"next  {end - 2:08x}: 4501      li a0,0" in head
    run(go())


def test_console_gets_a_usable_width():
    """The console gets 80 characters when the side panels can keep their least widths,
    else what is left beside them (at 100 columns: 66, no longer 38 or less); `v` can hide
    the side panel of the compact layout (the console then has the whole width)."""
    from hypervisor.tui.screens.main import console_widths
    engine = test_engine(guests=("SPIN",))
    app = make_app(engine)
    widths = {}

    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            for size in ((100, 30), (80, 24), (119, 40), (120, 40), (160, 48)):
                await pilot.resize_terminal(*size)
                await pilot.pause()
                widths[size] = app.screen.query_one(ConsoleView).content_size.width
            await pilot.resize_terminal(100, 30)
            for _ in range(4):
                await pilot.press("v")
            await pilot.pause()
            assert app.screen.side == "none"
            widths["none"] = app.screen.query_one(ConsoleView).content_size.width
    run(go())
    assert widths[(100, 30)] == 66 and widths[(80, 24)] == 46 and widths[(119, 40)] == 80
    assert widths[(120, 40)] >= 54 and widths[(160, 48)] == 80 and widths["none"] == 98
    assert console_widths(100, True) == {"side": 32}
    assert console_widths(200, False) == {"exits": 34, "timeline": 46}


def test_memory_map_shows_every_guest_however_small():
    engine = test_engine(host_mem=64 << 20, guests=("TOUCH", "SPIN", "SPIN"))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            advance(app, engine, clock, rounds=2)
            await pilot.press("v", "v")                     # the memory map beside the console
            await pilot.pause()
            memmap = app.screen.query_one("#memmap-c", MemoryMap)
            styles = {st for line in memmap.build() for _, st in line}
            for vm_id in (1, 2, 3):                         # 2 and 3 hold 2 pages of 16384
                assert vm_colour(vm_id) in styles
            assert memmap.ppc <= 4                          # zoomed on the pages in use
            await pilot.press("m")                          # the whole host
            await pilot.pause()
            styles = {st for line in memmap.build() for _, st in line}
            assert memmap.ppc >= 64
            assert {vm_colour(i) for i in (1, 2, 3)} <= styles   # still every guest
    run(go())


def test_memory_map_arithmetic_cells_and_minorities():
    assert [cell_pages(n, 100) for n in (50, 100, 101, 400, 401)] == [1, 1, 2, 4, 8]
    owner = np.full(64, -1, dtype=np.int32)
    owner[0] = -2
    owner[1:40] = 1
    owner[9] = 2                                    # one page of VM 2 inside VM 1's cells
    ppc, dominant, used, size = summarise(owner, 8, 8)
    assert ppc == 8 and 2 in dominant.tolist() and 1 in dominant.tolist()
    assert used.tolist() == [8, 8, 8, 8, 8, 0, 0, 0]


# ---------------------------------------------------------------------- words and legends
def test_state_words_for_every_ending():
    engine = test_engine(guests=("PASS", "FAIL", "CRASH", "SPIN", "SPIN", "SPIN", "SPIN",
                                 "COMPUTE"))
    clock = FakeClock()
    app = make_app(engine, clock)
    vms = engine.vms

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            advance(app, engine, clock, rounds=2, insns=(2000,))
            engine.kill(vms[4])
            engine.limit_reached(vms[5])
            vms[6].timed_out = True                    # what hv run's --timeout does
            engine.pause(vms[7])
            vms[8].idle = True
            app.screen.refresh_view()
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            words = {i: table.cells(i)["state"] for i in vms}
            assert words == {1: "passed", 2: "failed (code 3)", 3: "crashed", 4: "killed",
                             5: "stopped by --max-insns", 6: "timed out", 7: "paused",
                             8: "idle"}
            assert table.cells(1)["reason"] == "test finisher"
            assert table.cells(3)["reason"].startswith("unhandled trap")
            assert words == {i: vms[i].outcome.split(":")[0] for i in range(1, 8)} | {8: "idle"}
            title = app.screen.query_one("#title").plain()
            assert "1 passed" in title and "1 crashed" in title and "1 idle" in title
    run(go())


def test_help_scrolls_at_80x24_and_explains_every_exit_cause():
    engine = test_engine(guests=("SPIN",))
    app = make_app(engine)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            box = app.screen.query_one("#help-box")
            assert box.region.right <= 80 and box.region.bottom <= 24
            assert box.max_scroll_y > 0 and box.scroll_y == 0
            await pilot.press("pagedown")
            assert box.scroll_y > 0
            await pilot.press("end")
            assert box.scroll_y == box.max_scroll_y
            out = io.StringIO()
            Console(file=out, width=76).print(help_renderable())
            text = out.getvalue()
            for name, (_, where, explanation) in EXIT_CAUSES.items():
                assert name in text and " ".join(explanation.split()[:4]) in " ".join(
                    text.split())
            for word in ("passed", "failed (code N)", "stopped by --max-insns", "--host-mem"):
                assert word in text
    run(go())


def test_rows_under_an_instance_open_and_close():
    """Room for containers: an instance with processes (objects with pid, name, state) gets
    rows under it; → opens them, ← closes them, the cursor stays on the instance."""
    engine = test_engine(guests=("SPIN", "SPIN"))
    engine.vms[1].processes = [SimpleNamespace(pid=1, name="init", state="running"),
                               SimpleNamespace(pid=7, name="sh", state="idle")]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one(VMTable)
            assert len(table.rows) == 2 and "▸spin-1" in table.plain()
            await pilot.press("right")
            assert [r.key for r in table.rows] == ["1", "1/1", "1/7", "2"]
            assert "└ 7 sh" in table.plain() and "▾spin-1" in table.plain()
            await pilot.press("down")
            assert table.selected_id == 1                  # a process row: its instance
            await pilot.press("left")
            assert [r.key for r in table.rows] == ["1", "2"] and table.selected_id == 1
    run(go())


# ---------------------------------------------------------------------- per poll, and quitting
def test_each_poll_samples_each_vm_once_and_draws_that_sample():
    engine = test_engine(guests=("SPIN",) * 3)
    app = make_app(engine)
    reads = []
    real = Sampler.sample

    def counting(self):
        reads.append(len(self.engine.vms))
        return real(self)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            Sampler.sample = counting
            try:
                for _ in range(5):
                    app.poll()
                await pilot.press("p")                  # a key re-reads states, not counters
            finally:
                Sampler.sample = real
            assert reads == [3] * 5
            assert app.sampler.samples == 6                 # 5 polls + the one at mount
            main = app.main_screen
            assert main.query_one(VMTable).snapshot is app.sampler.snapshot
    run(go())


def test_quit_with_busy_vms_in_real_threads_leaves_no_thread():
    engine = Engine(32 << 20)
    try:
        for _ in range(3):
            vm = engine.create(elf("COMPUTE"), mem=MEM)
            engine.start(vm)
        app = HvTop(engine, mem=MEM)

        workers = []

        async def go():
            async with app.run_test(size=(80, 24)):
                await asyncio.sleep(0.3)                # polls run; no pilot.press here
                assert len(app.poll_times) >= 1
                workers.extend(engine.scheduler.workers)
                app.post_message(__import__("textual.events", fromlist=["Key"]).Key("q", "q"))
                t0 = time.perf_counter()
                while app.quit_seconds is None and time.perf_counter() - t0 < 10:
                    await asyncio.sleep(0.01)
        run(go())
        assert app.quit_seconds is not None
        # this engine's workers (other tests' engines may still have theirs: the suite
        # runs in one process, so counting every hv-cpu thread made this test flaky)
        assert workers and [t for t in workers if t.is_alive()] == []
        assert all(vm.stop[0] == 1 for vm in engine.vms.values())
    finally:
        engine.shutdown()
