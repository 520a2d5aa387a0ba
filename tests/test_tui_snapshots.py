"""`hv top` as pictures: SVG snapshots (pytest-textual-snapshot) of the main screen at 80x24
(the laptop default), 120x40 and 160x48, the console, the help screen, the step window and a
crashed VM.  Deterministic: the engine is in test mode, the VMs are stepped a fixed number of
instructions, host time is charged in fixed amounts and the sampler's clock is fake, so no
number depends on timing.  Update with --snapshot-update (and look at the pictures)."""
import pytest

from test_tui_helpers import (FakeClock, advance, make_app, oci_store, shutdown_engines,  # noqa: F401
                              test_engine)

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


# ---------------------------------------------------------------------- containers (issue 13)
def _with_container(command, rounds=12, insns=(40_000, 20_000, 300_000)):
    """Two VMs and a busybox container (test mode), its processes open, it selected."""
    from test_tui_helpers import busybox, container
    busybox()
    engine = test_engine(host_mem=16 << 20, guests=("SPIN", "TOUCH"))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def before(pilot):
        await pilot.pause()
        container(app, command)
        advance(app, engine, clock, rounds=rounds, insns=insns, cpu_ms=(40, 20, 30))
        await pilot.press("end", "right")
        await pilot.pause()
    return app, before


@pytest.mark.usefixtures("oci_store")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_containers_beside_vms(snap_compare, size):
    """The kind column, the process rows, the container's system calls panel (with missing
    calls), and at 120x40 the memory map with VM and container pages."""
    app, before = _with_container(["sh", "-c", "ipcs >/dev/null; ionice; sleep 100 & "
                                   "exec yes > /dev/null"])
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.usefixtures("oci_store")
def test_container_memory_map_at_80x24(snap_compare):
    app, before = _with_container(["sh", "-c", "exec yes > /dev/null"], rounds=4)

    async def memory(pilot):
        await before(pilot)
        app.screen.side = "memmap-c"            # as v v does, without its notices on top
        app.screen._layout()
        await pilot.pause()
    assert snap_compare(app, terminal_size=(80, 24), run_before=memory)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_picker_with_container_images(snap_compare, size):
    from hypervisor.tui.app import ImageChoice
    engine = test_engine(host_mem=4 << 20, guests=("SPIN",))
    app = make_app(engine, FakeClock(), container_choices=[
        ImageChoice("busybox:1.35", "bundled (musl + BusyBox), seeded on first use",
                    "busybox:1.35", kind="container", command=("/bin/sh",)),
        ImageChoice("lab/web:2", "local image", "lab/web:2", kind="container")])
    assert snap_compare(app, terminal_size=size, press=["n"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_step_window_with_a_compressed_instruction(snap_compare, size):
    """A 16-bit parcel (c.li a0,0 = 0x4501) at the last halfword of RAM: 4 hex digits, and
    the fetch reads only the 2 bytes there are."""
    from hypervisor import state as S
    engine = test_engine(host_mem=4 << 20, guests=("LOOPSYM",))
    vm = engine.vms[1]
    engine.pause(vm)
    end = 0x80000000 + vm.mem
    vm.write_guest(end - 2, (0x4501).to_bytes(2, "little"))
    vm.st[S.PC] = end - 2
    app = make_app(engine, FakeClock())
    assert snap_compare(app, terminal_size=size, press=["s"])
