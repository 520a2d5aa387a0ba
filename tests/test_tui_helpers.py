"""Guests and engines shared by the `hv top` tests (test_tui*.py).  No tests in here.

The engine runs in test mode (scheduler.test_mode = True): the worker threads stay parked and a
test drives each VM with engine.step, so every number the UI shows is deterministic.  The
sampler's clock is a FakeClock the test advances by hand."""
import pytest

from hypervisor.engine import Engine
from hypervisor.tui.app import HvTop, ImageChoice
from guestbuild import build

MEM = 8 << 20           # guest RAM per VM; images sit at 0x80400000

# prints a dot every 1024 iterations and a newline every 2048: SBI exits at a steady rate
SPIN = """
    li t0, 0
1:  addi t0, t0, 1
    andi t1, t0, 1023
    bnez t1, 1b
    li a7, 1
    li a0, '.'
    ecall
    andi t1, t0, 0x7ff
    bnez t1, 1b
    li a0, 10
    ecall
    j 1b
"""

# echoes what it reads from the UART (polling LSR: MMIO exits), CR as a newline
ECHO = """
    li s0, 0x10000000
    la a0, hello
    call puts
1:  lbu t0, 5(s0)           # LSR: data ready?
    andi t0, t0, 1
    beqz t0, 1b
    lbu a0, 0(s0)           # RBR
    li t1, 13
    bne a0, t1, 2f
    li a0, 10
2:  sb a0, 0(s0)            # THR
    j 1b
puts:
    lbu t0, 0(a0)
    beqz t0, 3f
    sb t0, 0(s0)
    addi a0, a0, 1
    j puts
3:  ret
    .section .rodata
hello: .asciz "echo ready> "
"""

# touches 200 pages (demand allocation), then prints dots like SPIN
TOUCH = """
    li t0, 0x80000000
    li t1, 4096
    li t2, 200
1:  sw t1, 0(t0)
    add t0, t0, t1
    addi t2, t2, -1
    bnez t2, 1b
""" + SPIN

# dirties pages one after another until the host runs out: an out-of-memory crash
MEMHOG = """
    li t0, 0x80000000
    li t1, 4096
1:  sw t1, 0(t0)
    add t0, t0, t1
    j 1b
"""

# jumps into a hole with no trap vector: an unhandled-trap crash
CRASH = """
    li a7, 1
    li a0, '!'
    ecall
    li t0, 0x20000000
    jr t0
"""

# a tight loop with no exits at all (the MIPS benchmark)
COMPUTE = """
    li t0, 0
1:  addi t0, t0, 1
    xor t1, t1, t0
    j 1b
"""

# powers off through the test finisher: pass (0x5555) or fail with code 3 (0x3333 | 3 << 16)
PASS = """
    li a7, 1
    li a0, 'P'
    ecall
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
"""
FAIL = """
    li t0, 0x100000
    li t1, 0x33333
    sw t1, 0(t0)
1:  j 1b
"""

# named labels, for the step window's "in <symbol>" line
LOOPSYM = """
    li t0, 0
loop:
    addi t0, t0, 1
    bnez t0, loop
    j loop
"""

_cache = {}
_engines = []


@pytest.fixture
def shutdown_engines():
    """Shut down every engine a test made (their parked worker threads end)."""
    yield
    while _engines:
        _engines.pop().shutdown()


def elf(name):
    if name not in _cache:
        _cache[name] = build(globals()[name])
    return _cache[name]


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_engine(host_mem=16 << 20, guests=("SPIN",) * 3):
    """An engine in test mode with one VM per guest, started (status running, no thread runs
    them).  VMs are named <guest>-<id> in lower case."""
    engine = Engine(host_mem)
    _engines.append(engine)
    engine.scheduler.test_mode = True
    for g in guests:
        vm = engine.create(elf(g), mem=MEM)
        vm.name = f"{g.lower()}-{vm.id}"
        engine.start(vm)
    return engine


test_engine.__test__ = False            # a helper, not a test


def make_app(engine, clock=None, **kwargs):
    choices = [ImageChoice("spin", "prints dots (test guest)", elf("SPIN")),
               ImageChoice("echo", "echoes the UART (test guest)", elf("ECHO"))]
    kwargs.setdefault("container_choices", ())     # not the user's image store
    return HvTop(engine, mem=MEM, poll_interval=None, clock=clock or FakeClock(),
                 choices=choices, **kwargs)


# ---------------------------------------------------------------------- containers
_busybox = {}


@pytest.fixture
def oci_store(tmp_path_factory, monkeypatch):
    """One image store for the session ($HV_STORE), busybox:1.35 seeded into it once from
    the bundled userland (skips if that is not installed)."""
    from hypervisor.images import seed
    if "busybox:1.35" not in seed.available():
        pytest.skip("the bundled userland (busybox:1.35) is not installed")
    if "root" not in _busybox:
        _busybox["root"] = tmp_path_factory.mktemp("hv-top-store") / "store"
    monkeypatch.setenv("HV_STORE", str(_busybox["root"]))
    return _busybox["root"]


def busybox():
    """busybox:1.35 of the session's store, resolved once (its tree is read once too)."""
    if "image" not in _busybox:
        from hypervisor.kernel import imageref
        _busybox["image"] = imageref.resolve("busybox:1.35")
    return _busybox["image"]


def container(app, argv, start=True):
    """A busybox:1.35 container made by hv top (as its picker does)."""
    c = app.new_container("busybox:1.35", argv, start=start, image=busybox())
    assert not isinstance(c, str), c
    return c


def advance(app, engine, clock, rounds=10, insns=(20_000,), cpu_ms=(25,)):
    """``rounds`` polls 100 ms apart; before each, every running VM i (in creation order) is
    stepped insns[i] instructions and charged cpu_ms[i] ms of host time (fixed figures).
    Then the whole main screen is brought up to date."""
    for _ in range(rounds):
        for i, vm in enumerate(engine.vms.values()):
            if vm.status != "running":
                continue
            engine.pause(vm)                # engine.step runs only paused or created VMs
            engine.step(vm, insns[i % len(insns)])
            if not vm.done:
                engine.resume(vm)
            vm.host_ns += cpu_ms[i % len(cpu_ms)] * 1_000_000
        clock.t += 0.1
        app.poll()
    main = app.main_screen
    if main is not None and main.is_mounted:
        main.update_view()       # the table too (polls redraw it every 5th time)
