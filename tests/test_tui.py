"""`hv top`: every key and the state it leads to, driven with Pilot on an engine in test mode
(parked workers, VMs stepped by the test), plus the sampler's arithmetic and the command line."""
import asyncio

import numpy as np
import pytest

from hypervisor import state as S
from hypervisor.cli import main
from hypervisor.tui import commands as top_commands
from hypervisor.tui.app import HvTop, running_cpu_threads
from hypervisor.tui.sampler import Sampler, fmt_bytes, fmt_count
from hypervisor.tui.screens.confirm_kill import ConfirmKillScreen
from hypervisor.tui.screens.help import HelpScreen
from hypervisor.tui.screens.main import next_cap
from hypervisor.tui.screens.picker import PickerScreen
from hypervisor.tui.screens.step import StepScreen
from hypervisor.tui.widgets.console_view import ConsoleView
from hypervisor.tui.widgets.memory_map import summarise
from hypervisor.tui.widgets.sparklines import columns
from hypervisor.tui.widgets.vm_table import COLUMN_KEYS, VMTable
from test_tui_helpers import FakeClock, advance, make_app, shutdown_engines, test_engine

pytestmark = pytest.mark.usefixtures("shutdown_engines")

SIZE = (120, 40)


def run(coro):
    return asyncio.run(coro)


def cell(table, vm_id, column):
    """The text of one cell of an instance's row (every column, shown or not)."""
    return table.cells(vm_id)[column]


# ---------------------------------------------------------------------- the table
def test_table_has_keyed_columns_and_a_row_per_vm():
    engine = test_engine()
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            advance(app, engine, clock, rounds=12, insns=(10_000, 20_000, 40_000),
                    cpu_ms=(10, 50, 100))
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            assert table.visible_keys() == list(COLUMN_KEYS)      # 120 columns: all of them
            assert table.ordered_ids() == [1, 2, 3]
            # one second back = 10 intervals of 100 ms: vm3 got 100 ms of host time in each
            assert cell(table, 3, "cpu") == "100.0"
            assert cell(table, 1, "cpu") == "10.0"
            assert cell(table, 2, "mips") == "0.2"          # 20,000 per 100 ms
            assert cell(table, 3, "insns") == "480k"
            assert cell(table, 1, "state") == "running"
            # 3 instructions a turn: a dot (SBI putchar) per ~3k, a newline every other dot
            assert cell(table, 1, "exits") == "48" and cell(table, 1, "top") == "sbi"
            assert cell(table, 1, "mem") == "8K/8M" and cell(table, 1, "kind") == "vm"
            assert cell(table, 1, "weight") == "1024" and cell(table, 1, "cap") == "-"
    run(go())


def test_sort_by_column_and_reverse():
    engine = test_engine()
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            advance(app, engine, clock, rounds=3, insns=(30_000, 10_000, 20_000))
            table = app.screen.query_one(VMTable)
            order = table.ordered_ids
            assert order() == [1, 2, 3]
            await pilot.press("greater_than_sign")          # id -> name
            assert table.sort_column == "name"
            for _ in range(COLUMN_KEYS.index("insns") - COLUMN_KEYS.index("name")):
                await pilot.press("greater_than_sign")
            assert table.sort_column == "insns"
            assert order() == [2, 3, 1]
            await pilot.press("o")
            assert order() == [1, 3, 2]
            await pilot.press("less_than_sign")             # insns -> mips, still reversed
            assert table.sort_column == "mips" and table.sort_reverse
            # a click on a header sorts by that column: "id" is the first, 2 cells in
            await pilot.click(VMTable, offset=(3, 1))
            assert table.sort_column == "id" and order() == [1, 2, 3]
            assert "sorted by id" in table.border_title
    run(go())


def test_filter_by_name():
    engine = test_engine(guests=("SPIN", "ECHO", "SPIN"))
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one(VMTable)
            await pilot.press("slash", "s", "p")
            assert app.focused.id == "filter"
            shown = table.ordered_ids
            assert shown() == [1, 3]
            await pilot.press("enter")                      # keep the filter
            assert isinstance(app.focused, VMTable)
            assert shown() == [1, 3]
            assert "filter: sp" in table.border_title
            await pilot.press("slash", "escape")            # clear it
            assert shown() == [1, 2, 3]
    run(go())


# ---------------------------------------------------------------------- steering keys
def test_p_pauses_and_resumes_and_starts_a_created_vm():
    engine = test_engine(guests=("SPIN", "SPIN"))
    vm1, vm2 = engine.vms.values()
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one(VMTable)
            await pilot.press("p")
            assert vm1.status == "paused" and cell(table, 1, "state") == "paused"
            await pilot.press("p")
            assert vm1.status == "running" and cell(table, 1, "state") == "running"
            created = engine.create(vm1.image, mem=vm1.mem)
            app.poll()
            await pilot.press("down", "down")               # select the new one
            assert table.selected_id == created.id
            assert cell(table, created.id, "state") == "created"
            await pilot.press("p")
            assert created.status == "running"
            assert vm2.status == "running"                  # the others untouched
    run(go())


def test_k_kills_after_confirmation_and_the_vm_stays_listed():
    engine = test_engine(guests=("SPIN", "SPIN"))
    vm1 = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one(VMTable)
            await pilot.press("k")
            assert isinstance(app.screen, ConfirmKillScreen)
            await pilot.press("n")
            assert not isinstance(app.screen, ConfirmKillScreen) and vm1.status == "running"
            await pilot.press("k", "escape")
            assert vm1.status == "running"
            await pilot.press("k", "y")
            assert vm1.status == "halted" and vm1.outcome == "killed"
            assert cell(table, 1, "state") == "killed" and cell(table, 1, "reason") == ""
            assert vm1.pages == 0 and cell(table, 1, "mem") == "0/8M"     # pages went back
            await pilot.press("k")                          # already halted: no question
            assert not isinstance(app.screen, ConfirmKillScreen)
            assert engine.vms[2].status == "running"
    run(go())


def test_r_restarts_a_halted_vm():
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            advance(app, engine, clock, rounds=3)
            await pilot.press("k", "y")
            assert vm.status == "halted"
            await pilot.press("r")
            assert vm.status == "running" and vm.reason == "" and vm.outcome == "running"
            assert int(vm.st[S.INSTRET]) == 0
            assert "[hvlab: reboot]" in vm.console.text()
            app.poll()
            assert app.sampler.metrics[1].instructions == 0
            assert cell(app.screen.query_one(VMTable), 1, "state") == "running"
    run(go())


def test_n_boots_a_new_vm_from_the_picker():
    engine = test_engine(guests=("SPIN",))
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("n")
            assert isinstance(app.screen, PickerScreen)
            await pilot.press("escape")
            assert len(engine.vms) == 1
            await pilot.press("n", "down", "enter")         # the second choice: echo
            assert len(engine.vms) == 2
            vm = engine.vms[2]
            assert vm.name == "echo" and vm.status == "running"      # hv run's names
            table = app.screen.query_one(VMTable)
            assert table.selected_id == 2 and cell(table, 2, "name") == "echo"
    run(go())


def test_plus_minus_change_the_weight():
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("plus")
            assert vm.weight == 2048
            await pilot.press("minus", "minus")
            assert vm.weight == 512
            assert cell(app.screen.query_one(VMTable), 1, "weight") == "512"
            await pilot.press(*["minus"] * 10)
            assert vm.weight == 16                          # the floor
    run(go())


def test_c_cycles_the_cap():
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            seen = []
            for _ in range(4):
                await pilot.press("c")
                seen.append((vm.cap, cell(app.screen.query_one(VMTable), 1, "cap")))
            assert seen == [(0.75, "75%"), (0.5, "50%"), (0.25, "25%"), (None, "-")]
    run(go())
    assert next_cap(0.3) == 0.25 and next_cap(0.9) == 0.5 and next_cap(0.1) is None


def test_enter_types_into_the_console_and_ctrl_bracket_comes_back():
    engine = test_engine(guests=("ECHO",))
    vm = engine.vms[1]
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            advance(app, engine, clock, rounds=1, insns=(2000,))
            console = app.screen.query_one(ConsoleView)
            assert "echo ready>" in "\n".join(console.lines)
            await pilot.press("enter")
            assert app.focused is console
            await pilot.press("h", "i", "p", "enter")       # p goes to the guest, not pause
            assert vm.status == "running"
            advance(app, engine, clock, rounds=1, insns=(5000,))
            assert vm.console.text().endswith("echo ready> hip\n")
            assert console.lines[-2:] == ["echo ready> hip", ""]
            assert vm.st[S.CNT_MMIO] > 0
            # escape goes to the guest (vi needs it): the echo guest sends it back
            await pilot.press("escape", "alt+x")
            assert app.focused is console
            advance(app, engine, clock, rounds=1, insns=(5000,))
            assert vm.console.text().endswith("hip\n\x1b\x1bx")
            await pilot.press("ctrl+right_square_bracket")  # ctrl+] gives the keys back
            assert isinstance(app.focused, VMTable)
            await pilot.press("z")                          # the console full screen
            assert app.focused is console and app.screen.maximized is console
            await pilot.press("escape")
            assert app.screen.maximized is console          # still there: esc was the guest's
            await pilot.press("f12")                        # f12 leaves too
            assert app.screen.maximized is None and isinstance(app.focused, VMTable)
            await pilot.press("p")
            assert vm.status == "paused"
    run(go())


def test_s_single_steps_a_paused_vm():
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("s")                          # running: refused
            assert not isinstance(app.screen, StepScreen)
            await pilot.press("p", "s")
            assert isinstance(app.screen, StepScreen)
            pc0 = int(vm.st[S.PC])
            head = str(app.screen.query_one("#step-head").render())
            assert f"{pc0:08x}: 00000293" in head           # li t0, 0 = addi t0, zero, 0
            assert "in    _start" in head
            await pilot.press("s")
            assert int(vm.st[S.INSTRET]) == 1 and int(vm.st[S.PC]) == pc0 + 4
            await pilot.press("t")
            assert int(vm.st[S.INSTRET]) == 11
            assert "stepped here" in str(app.screen.query_one("#step-history").render())
            await pilot.press("escape")
            assert not isinstance(app.screen, StepScreen)
            assert vm.status == "paused"
    run(go())


def test_question_mark_shows_help():
    engine = test_engine(guests=("SPIN",))
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
    run(go())


def test_x_removes_an_ended_vm():
    engine = test_engine(guests=("SPIN", "SPIN"))
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("x")                          # running: refused
            assert 1 in engine.vms
            await pilot.press("k", "y", "x")
            assert 1 not in engine.vms
            assert app.screen.query_one(VMTable).ordered_ids() == [2]
    run(go())


def test_q_quits_and_leaves_no_thread():
    engine = test_engine(guests=("SPIN", "SPIN"))
    workers = list(engine.scheduler.workers)
    assert workers and all(t in running_cpu_threads() for t in workers)    # parked, but there
    app = make_app(engine)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("q")
    run(go())
    # quit joined this engine's workers (other tests' engines are not this test's business)
    assert app.quit_seconds is not None
    assert [t for t in workers if t.is_alive()] == []


# ---------------------------------------------------------------------- crashes
def test_crashed_and_oom_vms_show_their_reason_and_stay_listed():
    engine = test_engine(host_mem=1 << 20, guests=("SPIN", "MEMHOG", "CRASH"))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=SIZE) as pilot:
            advance(app, engine, clock, rounds=5, insns=(20_000,))
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            assert table.ordered_ids() == [1, 2, 3]
            assert cell(table, 2, "state") == "crashed"
            assert cell(table, 2, "reason").startswith("out of memory")
            assert cell(table, 3, "state") == "crashed"
            assert cell(table, 3, "reason").startswith("unhandled trap")
            assert engine.vms[1].status == "running"
            assert app.sampler.metrics[1].instructions == 100_000
    run(go())


# ---------------------------------------------------------------------- the sampler
def test_sampler_rates_and_timeline():
    engine = test_engine(guests=("SPIN",))
    vm = engine.vms[1]
    clock = FakeClock()
    sampler = Sampler(engine, clock=clock)
    for i in range(15):
        vm.st[S.INSTRET] += 1_000_000
        vm.st[S.CNT_SBI] += 3 * i
        vm.host_ns += 50_000_000
        sampler.sample()
        clock.t += 0.1
    m = sampler.metrics[1]
    assert m.mips == pytest.approx(10.0)
    assert m.cpu == pytest.approx(0.5)
    assert m.top_cause == "sbi"
    assert m.exit_rate == pytest.approx(3 * sum(range(5, 15)) / 1.0)
    deltas = sampler.exit_deltas(1, 20)
    assert deltas.shape == (20, S.N_EXITS)
    assert list(deltas[:, S.CNT_SBI - S.COUNTERS]) == [0] * 6 + [3 * i for i in range(1, 15)]
    assert sampler.cpu_series(1) == pytest.approx([0.5] * 14)
    vm.st[S.INSTRET] = 5                                    # a restart: counters start again
    sampler.sample()
    assert len(sampler.rings[1]) == 1 and sampler.metrics[1].mips == 0
    assert sampler.instructions_total() == 15_000_005       # the first boot's count is kept
    engine.vms.pop(1)
    sampler.sample()
    assert sampler.metrics == {} and sampler.instructions_total() == 15_000_005


def test_ring_keeps_a_minute():
    engine = test_engine(guests=("SPIN",))
    clock = FakeClock()
    sampler = Sampler(engine, clock=clock)
    for i in range(sampler.capacity + 50):
        engine.vms[1].host_ns = i * 10_000_000
        sampler.sample()
        clock.t += 0.1
    series = sampler.cpu_series(1)
    assert len(series) == 600 and series == pytest.approx([0.1] * 600)


def test_memory_map_and_sparkline_arithmetic():
    owner = np.full(100, -1, dtype=np.int32)
    owner[0] = -2
    owner[10:30] = 1
    owner[30:35] = 2
    ppc, dominant, used, size = summarise(owner, 10)
    assert ppc == 10
    assert list(dominant) == [-2, 1, 1, 2, -1, -1, -1, -1, -1, -1]
    assert list(used) == [1, 10, 10, 5, 0, 0, 0, 0, 0, 0]
    cols = columns(np.array([0.5, 1.0, 0.0, 0.25]), 3, 6)
    assert np.isnan(cols[0]) and cols[1] == pytest.approx(0.75) and cols[2] == 0.125
    assert fmt_count(1234) == "1234" and fmt_count(12_345) == "12.3k" and fmt_count(2.5e9) == "2.5G"
    assert fmt_bytes(8192) == "8K" and fmt_bytes(64 << 20) == "64M" and fmt_bytes(1536) == "1.5K"


# ---------------------------------------------------------------------- the command line
def test_hv_top_without_images_or_bundled_ones_fails_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(top_commands, "manifest", lambda: [])
    assert main(["top"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no bundled images" in err


def test_hv_top_boots_the_images_and_runs_the_app(monkeypatch, tmp_path, capsys):
    from test_tui_helpers import elf
    path = tmp_path / "spin.elf"
    path.write_bytes(elf("SPIN"))
    seen = {}

    def fake_run(app):
        seen["names"] = [vm.name for vm in app.engine.vms.values()]
        seen["status"] = {vm.status for vm in app.engine.vms.values()}
        seen["threads"] = list(app.engine.scheduler.workers)
        seen["wall_clock"] = app.engine.wall_clock
        seen["mem"] = app.mem
    monkeypatch.setattr(HvTop, "run", fake_run)
    assert main(["top", str(path), "-n", "2", "--mem", "8M", "--host-mem", "32M"]) == 0
    assert "hv top: 2 VMs retired" in capsys.readouterr().err
    assert seen["names"] == ["spin", "spin-2"] and seen["status"] == {"running"}  # hv run's names
    assert seen["threads"] and seen["wall_clock"] and seen["mem"] == 8 << 20
    assert [t for t in seen["threads"] if t.is_alive()] == []
    monkeypatch.setattr(top_commands, "manifest",
                        lambda: [{"name": "hello"}, {"name": "x"}, {"name": "compute"}])
    assert top_commands.default_images() == ["hello", "compute"]
    monkeypatch.setattr(top_commands, "manifest", lambda: [{"name": "a"}, {"name": "b"}])
    assert top_commands.default_images() == ["a", "b"]
