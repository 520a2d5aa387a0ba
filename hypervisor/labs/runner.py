"""Running guests for a lab through the Engine API (engine.py, instance.py), nothing else.

Two ways to run, as a student can by hand:

* ``finish``: start VMs on the engine's scheduler threads and wait, as `hv run` does.  Host
  time (``stats()["host_seconds"]``) is real; the order in which VMs on several threads take
  host pages is not reproducible.
* ``lockstep``: step every VM in turn, a window of instructions at a time, on this thread
  (``Engine.step``, as `s` in hv top does), sampling the stats after each round.  Everything
  this gives (instructions, exits, pages, which host page went to whom, which VM ran out of
  memory first) is the same for a given seed on every machine; the host time it measures is
  this thread's CPU time, which the other programs of a busy machine do not inflate.
"""
import threading
import time

from ..asm import AsmError, assemble_text
from ..devices.layout import RAM_BASE
from ..loader import load_image
from .base import LabError


def engine(host_mem=64 << 20, threads=1, wall_clock=False):
    from ..engine import Engine         # here: numba loads only when a lab runs guests
    return Engine(host_mem, threads=threads, wall_clock=wall_clock)


def assemble(ctx, name, text, mem):
    """A generated program: kept for the output directory, assembled, loaded as an Image."""
    ctx.source(name, text)
    try:
        blob = assemble_text(text, filename=name)
    except AsmError as exc:              # a lab's own generator is wrong: say where
        raise LabError(f"lab program {name}: {exc}") from None
    return load_image(blob, RAM_BASE, mem, name=name)


class Capture:
    """Every byte a VM's console writes (the console itself keeps only a scrollback)."""

    def __init__(self, vm):
        self.data = bytearray()
        self._lock = threading.Lock()
        vm.console.listeners.append(self._add)

    def _add(self, data):
        with self._lock:
            self.data += data

    def text(self):
        with self._lock:
            return self.data.decode("utf-8", errors="replace")


def finish(eng, vms, timeout=60.0):
    """Start ``vms`` and wait for all to end.  A lab's guest that does not end is a bug."""
    for vm in vms:
        eng.start(vm)
    if not eng.wait(timeout, vms=vms):
        for vm in vms:
            eng.kill(vm)
        raise LabError(f"{', '.join(vm.name for vm in vms if not vm.done)} still running after "
                       f"{timeout:g} s")
    return [vm.stats() for vm in vms]


def run_once(eng, image, timeout=60.0, **create):
    """Boot one VM, run it to its end on the scheduler, return its stats, remove it."""
    vm = eng.create(image, **create)
    try:
        return finish(eng, [vm], timeout)[0]
    finally:
        eng.remove(vm)


def lockstep(eng, vms, window, sample=None, max_rounds=1_000_000, until=None):
    """Step each VM that can still run for ``window`` instructions, in turn; call
    ``sample(round, cpu)`` after each round.  Ends when every VM has ended or is idle in wfi,
    or when ``until()`` says so (for VMs that never end by themselves).

    Returns {vm id: host CPU nanoseconds its steps took}: the CPU time of this thread
    (time.thread_time_ns), which other programs on a busy machine do not inflate, unlike
    the wall-clock ``host_seconds`` of the stats."""
    cpu = {vm.id: 0 for vm in vms}
    rounds = 0
    while rounds < max_rounds:
        active = [vm for vm in vms if not vm.done and not vm.idle]
        if not active:
            break
        for vm in active:
            if not vm.done and not vm.idle:
                t = time.thread_time_ns()
                eng.step(vm, window)
                cpu[vm.id] += time.thread_time_ns() - t
        rounds += 1
        if sample is not None:
            sample(rounds, cpu)
        if until is not None and until():
            break
    return cpu


class Returns:
    """The exits that come back to Python, counted where they arrive: every call of the
    instance's ``handle_exit(code)`` (instance.py) with a code other than "budget" or "stop"
    (state.RUN_NAMES).  The hart's exit counters count every exit, wherever it is answered;
    this counts the ones the compiled hart could not answer by itself."""

    def __init__(self, vm):
        from .. import state as S
        self.names = S.RUN_NAMES
        self.quiet = (S.RUN_BUDGET, S.RUN_STOP)
        self.by_code = [0] * len(S.RUN_NAMES)
        inner = vm.handle_exit

        def handle_exit(code):
            if 0 <= code < len(self.by_code):
                self.by_code[code] += 1
            return inner(code)
        vm.handle_exit = handle_exit        # the scheduler and Engine.step call it by name

    @property
    def total(self):
        return sum(n for c, n in enumerate(self.by_code) if c not in self.quiet)

    def counts(self):
        return {self.names[c]: n for c, n in enumerate(self.by_code)
                if n and c not in self.quiet}


def stepped(eng, image, window=1 << 20, sample=None, **create):
    """Boot one VM, step it to its end on this thread, remove it: (stats, host CPU seconds,
    returns to Python by kind).  ``sample(vm, cpu_ns, returns)`` after each window."""
    vm = eng.create(image, **create)
    back = Returns(vm)
    try:
        cpu = lockstep(eng, [vm], window,
                       None if sample is None else lambda r, c: sample(vm, c[vm.id], back))
        return vm.stats(), cpu[vm.id] / 1e9, back.counts()
    finally:
        eng.remove(vm)


class Sampler:
    """Reads the VMs' stats every ``period`` seconds of host time on a thread of its own while
    they run on the scheduler (the state rows can be read at any time, hv top does it too)."""

    def __init__(self, vms, period=0.1, extra=None):
        self.vms, self.period, self.extra = list(vms), period, extra
        self.samples = []               # (seconds since start, [stats per vm])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="hv-lab-sampler")
        self.t0 = 0.0

    def _take(self):
        self.samples.append((time.perf_counter() - self.t0, [vm.stats() for vm in self.vms]))

    def _loop(self):
        while not self._stop.wait(self.period):
            self._take()

    def start(self):
        self.t0 = time.perf_counter()
        self._take()
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        self._take()
        return self.samples
