"""`hv top` as pictures: SVG snapshots (pytest-textual-snapshot) at 120x40 of the main screen,
the console view, the help screen and a crashed VM.  Deterministic: the engine is in test mode,
the VMs are stepped a fixed number of instructions, host time is charged in fixed amounts and
the sampler's clock is fake, so no number depends on timing.  Update with --snapshot-update."""
import pytest

from test_tui_helpers import FakeClock, advance, make_app, shutdown_engines, test_engine

pytestmark = pytest.mark.usefixtures("shutdown_engines")
SIZE = (120, 40)


def _app(host_mem, guests, insns, cpu_ms, rounds=12, setup=None):
    engine = test_engine(host_mem=host_mem, guests=guests)
    if setup:
        setup(engine)
    clock = FakeClock()
    app = make_app(engine, clock)

    async def before(pilot):
        await pilot.pause()                 # the main screen is up
        advance(app, engine, clock, rounds=rounds, insns=insns, cpu_ms=cpu_ms)
    return app, engine, clock, before


def test_main_screen(snap_compare):
    def setup(engine):
        engine.vms[2].weight = 2048
        engine.vms[3].cap = 0.5
        engine.pause(engine.vms[4])
    app, *_, before = _app(4 << 20, ("SPIN", "TOUCH", "SPIN", "ECHO"),
                           insns=(40_000, 80_000, 20_000, 3_000), cpu_ms=(40, 80, 20, 0),
                           setup=setup)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_console_view(snap_compare):
    app, engine, clock, before = _app(4 << 20, ("ECHO", "SPIN"), insns=(3_000, 30_000),
                                      cpu_ms=(1, 30), rounds=5)

    async def typing(pilot):
        await before(pilot)
        await pilot.press("enter", *"hello, vm", "enter", *"ls", "enter")
        advance(app, engine, clock, rounds=5, insns=(3_000, 30_000), cpu_ms=(1, 30))
        await pilot.pause()
    assert snap_compare(app, terminal_size=SIZE, run_before=typing)


def test_help_screen(snap_compare):
    app, *_, before = _app(4 << 20, ("SPIN",), insns=(20_000,), cpu_ms=(20,), rounds=3)
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"], run_before=before)


def test_crashed_vm(snap_compare):
    app, *_, before = _app(1 << 20, ("SPIN", "MEMHOG", "CRASH"), insns=(20_000,),
                           cpu_ms=(20, 5, 1), rounds=8)
    assert snap_compare(app, terminal_size=SIZE, press=["down"], run_before=before)
