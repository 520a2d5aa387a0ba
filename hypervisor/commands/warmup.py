"""The hart's compiled code, ready before the first VM starts.

numba compiles the hart the first time it runs after an install or an edit of its source (the
cache lives in __pycache__): seconds during which nothing seems to happen.  So, before any VM
is built, ``compile_hart`` runs one instruction of a throwaway VM of its own: on a warm cache
that only loads the compiled code (~0.2 s, which every first call pays anyway); on a miss it
compiles, and says so on stderr at once, with a spinner when stderr is a terminal.  Either way
no VM's host time, and so no MIPS figure, includes the compile.

A miss is compiled by two processes at once (``_two_processes``): numba compiles under one lock
per process, but the hart's slow paths (loads and stores, SYSTEM instructions, SBI) are
independent of the rest until the main loop links them in, so a helper process compiles them
into the cache while this one compiles the others; then the main loop compiles here and finds
them in the cache.  With two free cores, the first start takes a quarter less wall time
(bench/README.md); if the helper fails, this process compiles them as before.
"""
import os
import subprocess
import sys
import threading
import time

MESSAGE = "hv: compiling the hart, once: ~10 s (cached for later runs)"
WATCHDOG_SECONDS = 1.5      # no miss detected, but still busy after this long: say it anyway
SPIN = "|/-\\"


def compile_hart(err=None):
    """Load or compile the hart now.  Returns the seconds it took to compile, or 0.0 when the
    compiled code was in the cache."""
    from .. import cpu, jit
    err = err or sys.stderr
    cold = jit.compiled_on_disk(getattr(cpu, "run_checked", None)) is False
    notice = _Notice(err)
    if cold:
        notice.show()
    timer = threading.Timer(WATCHDOG_SECONDS, notice.show)
    timer.daemon = True
    timer.start()
    t0 = time.perf_counter()
    try:
        if cold:
            _two_processes()
        _one_instruction()
    finally:
        timer.cancel()
        seconds = time.perf_counter() - t0
        notice.done(seconds)
        _no_colour_reset_at_exit()
    return seconds if notice.shown else 0.0


def _no_colour_reset_at_exit():
    """numba colours its error messages with colorama, whose init() (run while numba loads)
    makes the process write ESC[0m to a terminal at exit, after the guest's last byte.  hvlab
    prints no colour through colorama, so that reset is dropped."""
    colorama = sys.modules.get("colorama.initialise")
    if colorama is not None and hasattr(colorama, "reset_all"):
        import atexit
        atexit.unregister(colorama.reset_all)


def _one_instruction():
    """One `j .` on a 64 KiB VM in an engine of its own: through Engine.step, the same path to
    the compiled hart as every VM's (so it compiles exactly what they will run)."""
    from ..devices.layout import RAM_BASE
    from ..engine import Engine
    from ..loader import Image, Segment
    jump_to_self = (0x6F).to_bytes(4, "little")             # jal x0, 0
    image = Image(name="warm-up", entry=RAM_BASE,
                  segments=[Segment(paddr=RAM_BASE, data=jump_to_self, memsz=4, executable=True)])
    engine = Engine(256 << 10, threads=1)
    try:
        vm = engine.create(image, name="warm-up", mem=64 << 10)
        engine.step(vm, 1)
        engine.remove(vm)
    finally:
        engine.shutdown()


HELPER = "from hypervisor.commands.warmup import compile_slow_paths; compile_slow_paths()"
HELPER_WAIT = 60            # seconds: a helper slower than that is left behind (and ended)


def _signatures():
    """The argument types the main loop (cpu._run) calls its callees with, exactly as its
    typing does (a tuple of numba types: the cache's key), split between the two processes."""
    from numba import types
    from .. import access, csr, decode, icache, mmu, sbi_fast, trap
    a64, a32, a8 = (types.Array(t, 1, "C") for t in (types.int64, types.int32, types.uint8))
    i64 = types.int64
    helper = [(csr.exec_system, (a64, a64, i64, i64)),
              (access.exec_mem, (a64, a64, a32, a8, i64, i64, a64))]
    here = [(mmu.translate, (a64, a64, a32, a8, i64, i64)),       # (the helper's exec_mem
            (decode.decode, (i64, types.boolean)),                #  finds it in the cache)
            (sbi_fast.fast_call, (a64, a8, a32, a64)),
            (trap.trap_enter, (a64, a64, i64, i64, i64)),
            (icache.slot_for, (a64, i64)), (icache.code_written, (a64, i64, i64)),
            (icache.flush, (a64,)), (decode.mem_insn, (i64,))]
    return helper, here


def compile_slow_paths():
    """The helper process's work: compile (and so cache) the slow paths of the main loop."""
    for dispatcher, args in _signatures()[0]:
        dispatcher.compile(args)


def _two_processes():
    """Compile the slow paths in a helper process while this one compiles the other callees of
    the main loop; wait for the helper (the main loop then loads its work from the cache)."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in
                                         env.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        helper = subprocess.Popen([sys.executable, "-c", HELPER], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except OSError:
        helper = None                   # no second process: all of it compiles here
    try:
        for dispatcher, args in _signatures()[1]:
            dispatcher.compile(args)
        if helper is not None:
            helper.wait(HELPER_WAIT)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if helper is not None and helper.poll() is None:
            helper.kill()
            helper.wait()


class _Notice:
    """The message on stderr: a plain line, or on a terminal a spinner with the seconds so far,
    turned into a closing line when the compile ends."""

    def __init__(self, err):
        self.err = err
        self.tty = _isatty(err)
        self.shown = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._thread = None

    def show(self):
        with self._lock:
            if self.shown or self._stop.is_set():
                return
            self.shown = True
            if not self.tty:
                self._write(MESSAGE + "\n")
                return
            self._thread = threading.Thread(target=self._spin, name="hv-spinner", daemon=True)
            self._thread.start()

    def _spin(self):
        i = 0
        while not self._stop.wait(0.1):
            self._write(f"\r{MESSAGE} {SPIN[i % 4]} {time.perf_counter() - self._t0:4.1f} s")
            i += 1

    def done(self, seconds):
        with self._lock:
            self._stop.set()
            if not self.shown:
                return
        if self._thread is not None:
            self._thread.join()
            self._write(f"\r\033[K{MESSAGE}: done in {seconds:.1f} s\n")
        else:
            self._write(f"hv: compiled in {seconds:.1f} s\n")

    def _write(self, text):
        try:
            self.err.write(text)
            self.err.flush()
        except (OSError, ValueError):
            pass                    # stderr closed: compiling goes on without the message


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
