"""`hv top` as pictures: SVG snapshots (pytest-textual-snapshot) of the main screen at 80x24
(the laptop default), 120x40 and 160x48, the console, the help screen, the step window and a
crashed VM.  Deterministic: the engine is in test mode, the VMs are stepped a fixed number of
instructions, host time is charged in fixed amounts and the sampler's clock is fake, so no
number depends on timing.  Update with --snapshot-update (and look at the pictures)."""
import pytest

from test_tui_helpers import FakeClock, advance, make_app, shutdown_engines, test_engine

pytestmark = pytest.mark.usefixtures("shutdown_engines")
SIZES = [(80, 24), (120, 40), (160, 48)]


def _app(host_mem, guests, insns, cpu_ms, rounds=12, setup=None):
    engine = test_engine(host_mem=host_mem, guests=guests)
    if setup:
        setup(engine)
    clock = FakeClock()
    app = make_app(engine, clock)

    async def before(pilot):
        await pilot.pause()                 # the main screen is up
        advance(app, engine, clock, rounds=rounds, insns=insns, cpu_ms=cpu_ms)
        await pilot.pause()
    return app, engine, clock, before


def _mix():
    def setup(engine):
        engine.vms[2].weight = 2048
        engine.vms[3].cap = 0.5
        engine.pause(engine.vms[4])
    return _app(4 << 20, ("SPIN", "TOUCH", "SPIN", "ECHO", "PASS", "CRASH"),
                insns=(40_000, 80_000, 20_000, 3_000, 2_000, 1_000),
                cpu_ms=(40, 80, 20, 0, 1, 1), setup=setup)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_main_screen(snap_compare, size):
    app, *_, before = _mix()
    assert snap_compare(app, terminal_size=size, run_before=before)


def test_side_panels_at_80x24(snap_compare):
    app, *_, before = _mix()

    async def memory(pilot):
        await before(pilot)
        await pilot.press("v", "v")         # exits -> timeline -> memory map
        await pilot.pause()
    assert snap_compare(app, terminal_size=(80, 24), run_before=memory)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_console_view(snap_compare, size):
    app, engine, clock, before = _app(4 << 20, ("ECHO", "SPIN"), insns=(3_000, 30_000),
                                      cpu_ms=(1, 30), rounds=5)

    async def typing(pilot):
        await before(pilot)
        await pilot.press("enter", *"hello, vm", "enter", *"lx", "backspace", "s", "enter")
        advance(app, engine, clock, rounds=5, insns=(3_000, 30_000), cpu_ms=(1, 30))
        await pilot.pause()
    assert snap_compare(app, terminal_size=size, run_before=typing)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_help_screen(snap_compare, size):
    app, *_, before = _app(4 << 20, ("SPIN",), insns=(20_000,), cpu_ms=(20,), rounds=3)
    assert snap_compare(app, terminal_size=size, press=["question_mark"], run_before=before)


def test_step_window_at_80x24(snap_compare):
    app, *_, before = _app(4 << 20, ("LOOPSYM",), insns=(1_000,), cpu_ms=(1,), rounds=2)
    assert snap_compare(app, terminal_size=(80, 24), press=["p", "s", "s", "s"],
                        run_before=before)


def test_crashed_vm(snap_compare):
    app, *_, before = _app(1 << 20, ("SPIN", "MEMHOG", "CRASH"), insns=(20_000,),
                           cpu_ms=(20, 5, 1), rounds=8)
    assert snap_compare(app, terminal_size=(120, 40), press=["down"], run_before=before)
