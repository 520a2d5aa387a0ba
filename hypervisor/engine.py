"""The engine: host memory, every VM's state, the scheduler, and the lifecycle API.

This is the Python API that `hv run`, `hv demo` and `hv top` use: create, start, pause, resume,
kill, restart, remove, stats, send_input, wait.  Every VM's state row sits in a 2-D int64 array
(chunks of 64 rows), so a monitor can read all of them at once without stopping any hart.
"""
import threading
import time

import numpy as np

from . import cpu
from . import state as S
from .devicetree import TIMEBASE_HZ
from .catalog import resolve_image
from .memory import PAGE_SIZE, HostMemory, OutOfMemory
from .scheduler import Scheduler
from .vm import CREATED, HALTED, PAUSED, RUNNING, TIME_DIV, VM, InitrdTooLarge

CHUNK = 64
DEFAULT_HOST_MEM = 256 << 20
DEFAULT_MEM = 64 << 20


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
        self._done = threading.Condition()

    # ------------------------------------------------------------------ state rows
    def state_row(self, vm_id):
        chunk, row = divmod(vm_id - 1, CHUNK)
        while len(self.chunks) <= chunk:
            self.chunks.append(np.zeros((CHUNK, S.STATE_SIZE), dtype=np.int64))
        return self.chunks[chunk][row]

    # ------------------------------------------------------------------ lifecycle
    def create(self, image, name=None, mem=DEFAULT_MEM, bootargs="", prealloc=False,
               weight=1024, cap=None, trap_via_monitor=False, trace=None, initrd=None):
        """Build a VM from an image (a bundled name, a path, or a loaded Image); ``initrd``:
        bytes of an initial ramdisk the kernel finds through the device tree (vm.py)."""
        if mem % PAGE_SIZE or mem <= 0 or mem > 0x7000_0000:
            raise EngineError(f"guest RAM must be whole pages up to 1.75 GiB (got {mem})")
        if cap is not None and not 0 < cap <= 1:
            raise EngineError("a cap is a fraction of one core, in (0, 1]")
        img = resolve_image(image, mem)
        vm_id = self.new_id()
        name = name or f"vm{vm_id}"
        if prealloc and mem // PAGE_SIZE > self.memory.free_pages:
            raise EngineError(f"{name}: --prealloc needs {mem // PAGE_SIZE} pages, the host has "
                              f"{self.memory.free_pages} free")
        try:
            vm = VM(self, vm_id, name, img, mem, bootargs, prealloc, weight, cap,
                    trap_via_monitor, initrd)
        except OutOfMemory:
            self.memory.free(self.memory.pages_of(vm_id))
            raise EngineError(f"{name}: the host has no free memory left to load the image")
        except InitrdTooLarge as exc:
            self.memory.free(self.memory.pages_of(vm_id))
            raise EngineError(str(exc)) from None
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
        with vm.lock:
            if vm.status == RUNNING:
                vm.status = PAUSED
                vm.stop[0] = 1

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
        """Stop the VM wherever it is, give its memory back and boot its image again."""
        with vm.lock:
            vm.status = PAUSED
            vm.stop[0] = 1
        self._off_cpu(vm)
        with vm.lock:
            self._reboot(vm)
        self.start(vm)

    def remove(self, vm):
        self.kill(vm)
        self._off_cpu(vm)
        with self.scheduler.cond:
            self.vms.pop(vm.id, None)

    def send_input(self, vm, data):
        vm.send_input(data)

    def step(self, vm, n=1):
        """Run a paused (or created) VM for ``n`` instructions on the caller's thread, exits
        handled as usual.  Returns the instructions retired."""
        with vm.lock:
            if vm.done or vm.status == RUNNING or vm.on_cpu:
                return 0
            before = int(vm.st[S.INSTRET])
            vm.stop[0] = 0
            for _ in range(n * 4):          # exits (SBI, MMIO, demand paging) may take turns
                left = n - (int(vm.st[S.INSTRET]) - before)
                if left <= 0:
                    break
                code = cpu.run(vm.st, self.memory.ram, vm.gmap, vm.tlb, left, vm.stop)
                if not vm.handle_exit(code) or vm.idle:
                    break
            if vm.status == CREATED:
                vm.status = PAUSED
            return int(vm.st[S.INSTRET]) - before

    def _off_cpu(self, vm, timeout=2.0):
        end = time.perf_counter() + timeout
        while vm.on_cpu and time.perf_counter() < end:
            time.sleep(0.001)

    def _reboot(self, vm):
        vm.release()
        vm.console.write(b"\r\n[hvlab: reboot]\r\n")
        vm.status = PAUSED
        vm.reason, vm.exit_code, vm.idle, vm.reboot_pending = "", None, False, False
        vm.killed = vm.limited = vm.timed_out = False
        vm._devices()
        vm.boot()

    # ------------------------------------------------------------------ hooks from VMs
    def request_restart(self, vm):
        vm.reboot_pending = True        # the monitor reboots it when the exit is handled

    def reboot_now(self, vm):
        self._reboot(vm)
        vm.status = RUNNING

    def vm_ended(self, vm):
        """A VM halted or crashed: its pages go back to the host at once, or, if a worker is
        inside its hart right now, as soon as that worker leaves it (scheduler.py)."""
        with self.scheduler.cond:
            deferred = vm.on_cpu
            vm.release_pending = deferred
        if not deferred:
            vm.release()
        with self._done:
            self._done.notify_all()
        self.scheduler.wake()

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
        """Block until the given VMs (default: all) have ended.  False on timeout."""
        vms = list(vms or self.vms.values())
        end = None if timeout is None else time.perf_counter() + timeout
        with self._done:
            while not all(vm.done and not vm.on_cpu for vm in vms):
                left = None if end is None else end - time.perf_counter()
                if left is not None and left <= 0:
                    return False
                self._done.wait(0.05 if left is None else min(0.05, left))
        return True

    def shutdown(self):
        self.scheduler.shutdown()