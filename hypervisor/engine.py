"""The engine: host memory, every VM's state, the scheduler, and the lifecycle API.

This is the Python API that `hv run`, `hv demo` and `hv top` use: create, start, pause, resume,
kill, restart, remove, stats, send_input, wait.  Every VM's state row sits in a 2-D int64 array
(chunks of 64 rows), so a monitor can read all of them at once without stopping any hart.
"""
import logging
import threading
import time

import numpy as np

from . import cpu
from . import state as S
from .devicetree import TIMEBASE_HZ, check_bootargs
from .catalog import resolve_image
from .memory import PAGE_SIZE, HostMemory, OutOfMemory
from .scheduler import Scheduler
from .vm import CRASHED, CREATED, HALTED, ISAS, PAUSED, RUNNING, TIME_DIV, VM, BootError

log = logging.getLogger("hvlab")

CHUNK = 64
DEFAULT_HOST_MEM = 256 << 20
DEFAULT_MEM = 64 << 20
CLAIM_TIMEOUT = 5.0     # seconds to wait for a hart to leave its host core (a slice is 4 ms)


class EngineError(Exception):
    """A request the engine cannot carry out (one line for the user)."""


class Engine:
    def __init__(self, host_mem=DEFAULT_HOST_MEM, threads=None, wall_clock=False, max_insns=None):
        self.memory = HostMemory(host_mem)
        self.vms = {}                   # id -> VM, in creation order
        self.chunks = []                # 2-D state arrays: chunks[i][j] is VM id i*CHUNK+j+1
        self.wall_clock = wall_clock
        self.max_insns = max_insns
        self.scheduler = Scheduler(self, threads)
        self._next_id = 1
        self._done = self.scheduler.cond   # one lock for who runs which hart and who ended

    # ------------------------------------------------------------------ state rows
    def state_row(self, vm_id):
        chunk, row = divmod(vm_id - 1, CHUNK)
        while len(self.chunks) <= chunk:
            self.chunks.append(np.zeros((CHUNK, S.STATE_SIZE), dtype=np.int64))
        return self.chunks[chunk][row]

    # ------------------------------------------------------------------ lifecycle
    def create(self, image, name=None, mem=DEFAULT_MEM, bootargs="", prealloc=False,
               weight=1024, cap=None, trap_via_monitor=False, trace=None, initrd=None,
               isa="rv32imac"):
        """Build a VM from an image (a bundled name, a path, or a loaded Image); ``initrd``:
        bytes of an initial ramdisk the kernel finds through the device tree (vm.py); ``isa``:
        "rv32imac" (the default) or "rv32ima" (no compressed instructions: misaligned
        2-byte targets trap, as on a hart without C)."""
        if mem % PAGE_SIZE or mem <= 0 or mem > 0x7000_0000:
            raise EngineError(f"guest RAM must be whole pages up to 1.75 GiB (got {mem})")
        if cap is not None and not 0 < cap <= 1:
            raise EngineError("a cap is a fraction of one core, in (0, 1]")
        if isa not in ISAS:
            raise EngineError(f"unknown ISA {isa!r} (choose from {', '.join(ISAS)})")
        try:
            check_bootargs(bootargs)
        except ValueError as exc:
            raise EngineError(f"--append: {exc}") from None
        img = resolve_image(image, mem)
        vm_id = self.new_id()
        name = name or f"vm{vm_id}"
        if prealloc and mem // PAGE_SIZE > self.memory.free_pages:
            raise EngineError(f"{name}: --prealloc needs {mem // PAGE_SIZE} pages, the host has "
                              f"{self.memory.free_pages} free")
        try:
            vm = VM(self, vm_id, name, img, mem, bootargs, prealloc, weight, cap,
                    trap_via_monitor, initrd, isa)
        except OutOfMemory:
            self.memory.free(self.memory.pages_of(vm_id))
            raise EngineError(f"{name}: the host has no free memory left to load the image")
        except BootError as exc:            # (InitrdTooLarge names the VM itself)
            self.memory.free(self.memory.pages_of(vm_id))
            raise EngineError(str(exc) if str(exc).startswith(f"{name}:")
                              else f"{name}: {exc}") from None
        vm.trace = trace
        if trace is not None:
            vm.st[S.TRAP_VIA_MONITOR] = 1
        return self.add(vm)

    def new_id(self):
        """The id (and state row) for a new instance of any kind."""
        inst_id = self._next_id
        self._next_id += 1
        return inst_id

    def add(self, inst):
        """Put a built instance (a VM or a container) into the table the scheduler walks."""
        with self.scheduler.cond:       # the workers walk self.vms under this lock
            self.vms[inst.id] = inst
        return inst

    def start(self, vm):
        with vm.lock:
            if vm.status == RUNNING or vm.done:
                return
            vm.status = RUNNING
            vm.started = time.perf_counter()
            vm.token_time = vm.started
        self.scheduler.place(vm)
        self.scheduler.start()
        self.scheduler.wake()

    def pause(self, vm):
        """Stop a running VM; returns once its hart is off the host core (within a slice)."""
        with vm.lock:
            if vm.status == RUNNING:
                vm.status = PAUSED
                vm.stop[0] = 1
        if vm.on_cpu and threading.current_thread() not in self.scheduler.workers:
            self._off_cpu(vm)

    def resume(self, vm):
        with vm.lock:
            if vm.status != PAUSED:
                return
            vm.status = RUNNING
        self.scheduler.place(vm)
        self.scheduler.wake()

    def kill(self, vm):
        with vm.lock:
            if not vm.done:
                vm.reason = "killed"
                vm.killed = True
                vm._end(HALTED)

    def restart(self, vm):
        """Stop the VM wherever it is, give its memory back and boot its image again.
        A removed VM cannot be restarted (EngineError); nor can one whose hart does not
        leave its host core in time."""
        if vm.removed:
            raise EngineError(f"{vm.name} was removed: it cannot be restarted")
        with vm.lock:
            if not vm.done:
                vm.status = PAUSED
            vm.stop[0] = 1
        if not self.claim(vm, wait=CLAIM_TIMEOUT):
            raise EngineError(f"{vm.name} did not leave its host core: not restarted")
        try:
            with vm.lock:
                if vm.removed:          # removed while we waited for its hart
                    raise EngineError(f"{vm.name} was removed: it cannot be restarted")
                self._reboot(vm)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001  (a fault while booting: that VM only)
            self.internal_error(vm, exc)
        finally:
            self.unclaim(vm)
        self.start(vm)

    def remove(self, vm):
        """Kill the VM and take it out of the table; its pages are back when this returns
        (unless its hart is stuck on a host core, then as soon as it leaves)."""
        with vm.lock:
            vm.removed = True
        self.kill(vm)
        claimed = self.claim(vm, wait=CLAIM_TIMEOUT)
        with self.scheduler.cond:
            self.vms.pop(vm.id, None)
        if claimed:
            self.unclaim(vm)

    def send_input(self, vm, data):
        vm.send_input(data)

    def step(self, vm, n=1):
        """Run a paused (or created) VM for at most ``n`` instructions on the caller's thread,
        exits handled as usual.  Returns the instructions retired.  A reboot the guest asks
        for ends the step: the VM stays paused at its new entry point."""
        if n <= 0 or vm.done or vm.status == RUNNING:
            return 0
        if not self.claim(vm, wait=CLAIM_TIMEOUT):
            return 0
        done = 0
        try:
            st = vm.st
            for _ in range(4 * n + 16):     # exits (SBI, MMIO, demand paging) may take turns
                left = n - done
                if left <= 0 or vm.done:
                    break
                boots, before = vm.boots, int(st[S.INSTRET])
                vm.stop[0] = 0
                code = cpu.run(st, self.memory.ram, vm.gmap, vm.tlb, left, vm.stop)
                ran = int(st[S.INSTRET]) - before
                with vm.lock:
                    go_on = vm.handle_exit(code)
                if vm.boots != boots:       # the ecall or store asking for the reset retired
                    done += ran + 1
                    break
                done += int(st[S.INSTRET]) - before
                if not go_on or vm.idle or code == S.RUN_STOP:
                    break
        except Exception as exc:  # noqa: BLE001  (a fault in the monitor: that VM only)
            self.internal_error(vm, exc)
        finally:
            with vm.lock:
                if vm.status == CREATED:
                    vm.status = PAUSED
            self.unclaim(vm)
        return done

    # ------------------------------------------------------------------ who runs a hart
    def claim(self, vm, wait=0.0):
        """Take the right to run ``vm``'s hart (or free its pages).  ``wait``: seconds to wait
        for whoever holds it now; waiters are served in turn, before any new taker (a worker,
        a step), so a restart is not starved by a busy VM.  True if claimed; the caller must
        then unclaim()."""
        cond = self.scheduler.cond
        with cond:
            if not vm.on_cpu and not vm.claim_queue:
                vm.on_cpu = True
                return True
            if not wait:
                return False
            me = object()
            vm.claim_queue.append(me)
            try:
                got = cond.wait_for(lambda: not vm.on_cpu and vm.claim_queue[0] is me, wait)
                if got:
                    vm.on_cpu = True
                return got
            finally:
                vm.claim_queue.remove(me)
                cond.notify_all()

    def unclaim(self, vm):
        """Let go of a claimed hart.  If the instance ended meanwhile, its pages go back to
        the host first, so nobody sees it ended and off the core with its pages still held."""
        cond = self.scheduler.cond
        while True:
            with cond:
                if not vm.release_pending:
                    vm.on_cpu = False
                    cond.notify_all()
                    return
                vm.release_pending = False
            try:
                vm.release()
            except Exception:  # noqa: BLE001
                log.exception("hvlab: freeing the pages of %s failed", vm.name)

    def _off_cpu(self, vm, timeout=CLAIM_TIMEOUT):
        """Wait until no thread holds ``vm``'s hart.  False if one still does."""
        with self.scheduler.cond:
            return self.scheduler.cond.wait_for(lambda: not vm.on_cpu, timeout)

    def internal_error(self, vm, exc):
        """An exception while serving one instance ends that instance only: it crashes with a
        one-line reason, the traceback goes to the log (hv run --debug), nobody else notices."""
        log.error("internal error while running %s (id %d)", vm.name, vm.id, exc_info=exc)
        if isinstance(exc, OutOfMemory):
            reason = "out of memory: the host has no free page left"
        else:
            detail = str(exc).splitlines()[0] if str(exc) else ""
            reason = f"internal error in {vm.handler}: {type(exc).__name__}" + \
                (f": {detail}" if detail else "")
        try:
            vm.crash(reason)
        except Exception:  # noqa: BLE001  (never leave it runnable)
            log.exception("hvlab: crashing %s failed", vm.name)
            vm.status, vm.reason, vm.release_pending = CRASHED, reason, True
            vm.stop[0] = 1

    def _reboot(self, vm):
        """Boot the VM's image again in place (the caller holds its claim and its lock)."""
        with self.scheduler.cond:
            vm.release_pending = False  # the release below does it
        vm.release()
        vm.console.write(b"\r\n[hvlab: reboot]\r\n")
        vm.status = PAUSED
        vm.reason, vm.exit_code, vm.idle, vm.reboot_pending = "", None, False, False
        vm.killed = vm.limited = vm.timed_out = False
        vm._devices()
        try:
            vm.boot()
        except OutOfMemory:
            vm.crash(f"out of memory at reboot: the host has no free page to load the image "
                     f"again ({vm.pages} pages allocated)")

    # ------------------------------------------------------------------ hooks from VMs
    def request_restart(self, vm):
        vm.reboot_pending = True        # the monitor reboots it when the exit is handled

    def reboot_now(self, vm):
        """The guest asked for a reset (SBI SRST reboot, the finisher's 0x7777).  The caller
        holds the claim: the VM keeps running, or stays paused when it was being stepped."""
        was = vm.status
        self._reboot(vm)
        if not vm.done:
            vm.status = RUNNING if was == RUNNING else PAUSED

    def vm_ended(self, vm):
        """A VM halted or crashed: its pages go back to the host now, or, if a thread holds its
        hart (a worker, step()), as soon as that thread lets go of it."""
        if self.claim(vm):
            self.unclaim(vm)            # frees the pages (release_pending is set)
        self.notify_done()

    def notify_done(self):
        with self._done:
            self._done.notify_all()

    def wake(self, vm=None):
        if vm is not None:
            self.scheduler.place(vm)
        self.scheduler.wake()

    # ------------------------------------------------------------------ limits and time
    def budget_left(self, vm, n):
        if self.max_insns is None:
            return n
        return min(n, self.max_insns - int(vm.st[S.INSTRET]))

    def limit_reached(self, vm):
        with vm.lock:
            if not vm.done:
                vm.limited = True
                vm.reason = f"stopped after {self.max_insns} instructions (--max-insns)"
                vm._end(HALTED)

    def wall_ticks(self, vm, now=None):
        return int(((now or time.perf_counter()) - vm.started) * TIMEBASE_HZ)

    def sync_wall_clock(self, vm):
        vm.st[S.CYCLE] = max(int(vm.st[S.CYCLE]), self.wall_ticks(vm) * TIME_DIV)

    # ------------------------------------------------------------------ waiting
    def wait(self, timeout=None, vms=None):
        """Block until the given VMs (default: all) have ended and given their pages back.
        False on timeout."""
        vms = list(vms or self.vms.values())
        end = None if timeout is None else time.perf_counter() + timeout
        with self._done:                # the scheduler's lock: on_cpu and release_pending
            while not all(vm.done and not vm.on_cpu and not vm.release_pending for vm in vms):
                left = None if end is None else end - time.perf_counter()
                if left is not None and left <= 0:
                    return False
                self._done.wait(0.05 if left is None else min(0.05, left))
        return True

    def shutdown(self):
        self.scheduler.shutdown()