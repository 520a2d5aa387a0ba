"""Sharing the host's cores among the VMs.

One worker thread per host core.  A worker takes the runnable VM with the least *virtual
runtime* (host time used, scaled by 1024 / weight, as Linux CFS does), runs it for a time slice,
and puts it back.  The hart's kernel releases the GIL, so on two cores two VMs really run at
once.  A VM that loops or storms the monitor with exits uses up its slice like any other and
cannot starve the rest.  A cap limits a VM to a fraction of one core (a token bucket refilled
in wall time).  A VM idle in wfi is not runnable until an interrupt is pending for it.

Idle pacing (virtual time): wfi skips the guest's clock to its next timer deadline, so an idle
guest would run its periodic work back to back on a whole core (an idle Linux: 18.7 M exits in
40 s, 5,000 guest seconds per host second).  Skips are free only while the guest's clock stays
within IDLE_LEAD_SECONDS of the host's time since the VM started; past that the VM waits in host
time until the skip is due (csr._wfi).  What the guest observes does not change, so counts stay
reproducible; what changes is that a long sleep in the guest takes host time beyond the lead.
"""
import logging
import os
import threading
import time

from . import cpu
from . import state as S
from .devicetree import TIMEBASE_HZ
from .vm import RUNNING, TIME_DIV

log = logging.getLogger("hvlab")

SLICE_SECONDS = 0.004       # a time slice
SLICE_INSNS = 2_000_000     # instructions per kernel call within a slice
NICE_0 = 1024               # the weight of a VM with default CPU shares
CAP_BURST = 0.05            # seconds of CPU a capped VM may bank
IDLE_LEAD_SECONDS = 1.0     # how far an idle VM's clock may run ahead of the host's
CYCLES_PER_SECOND = TIMEBASE_HZ * TIME_DIV      # virtual cycles per second of guest time


class Scheduler:
    def __init__(self, engine, threads=None):
        self.engine = engine
        self.nthreads = threads or os.cpu_count() or 1
        self.cond = threading.Condition()
        self.workers = []
        self.quit = False
        self.test_mode = False      # when True the workers stay parked (deterministic tests)

    # -------------------------------------------------------------- threads
    def start(self):
        if self.workers:
            return
        self.quit = False
        for i in range(self.nthreads):
            t = threading.Thread(target=self._worker, name=f"hv-cpu{i}", daemon=True)
            t.start()
            self.workers.append(t)

    def shutdown(self, timeout=2.0):
        with self.cond:
            self.quit = True
            for vm in self.engine.vms.values():
                vm.stop[0] = 1      # a VM in the kernel notices within CHECK_EVERY instructions
            self.cond.notify_all()
        for t in self.workers:
            t.join(timeout)
        self.workers = []

    def wake(self):
        with self.cond:
            self.cond.notify_all()

    # -------------------------------------------------------------- choosing a VM
    def _runnable(self, vm, now):
        if vm.status != RUNNING or vm.on_cpu or vm.idle or vm.claim_queue:
            return False
        if vm.cap is not None:
            vm.tokens = min(CAP_BURST, vm.tokens + (now - vm.token_time) * vm.cap)
            vm.token_time = now
            if vm.tokens <= 0:
                return False
        return True

    def _pick(self):
        """The runnable VM with the least virtual runtime, or None (caller waits)."""
        now = time.perf_counter()
        best = None
        for vm in self.engine.vms.values():
            if self._wall_timer_due(vm, now) or self._skip_due(vm, now):
                vm.idle = False
                self.place(vm)
            if self._runnable(vm, now) and (best is None or vm.vruntime < best.vruntime):
                best = vm
        if best is not None:
            best.on_cpu = True
        return best

    def place(self, vm):
        """A VM (re)joins the run queue: it starts level with the least-run VM, so time it
        spent asleep or paused is not a debt the others must repay (CFS's min_vruntime)."""
        running = [v.vruntime for v in list(self.engine.vms.values())
                   if v is not vm and v.status == RUNNING and not v.idle]
        if running:
            vm.vruntime = max(vm.vruntime, min(running))

    def _wall_timer_due(self, vm, now):
        """In wall-clock mode an idle VM wakes when its timer deadline passes."""
        if not (vm.idle and vm.st[S.WALLCLOCK]) or vm.st[S.TIMECMP] < 0:
            return False
        return self.engine.wall_ticks(vm, now) >= vm.st[S.TIMECMP]

    def _skip_limit(self, vm, now):
        """The cycle up to which wfi may skip now: IDLE_LEAD_SECONDS past the host's time."""
        return int((now - vm.started + IDLE_LEAD_SECONDS) * CYCLES_PER_SECOND)

    def _skip_due(self, vm, now):
        """In virtual time an idle VM held back by the pacing wakes when its skip is due."""
        st = vm.st
        if not vm.idle or st[S.WALLCLOCK] or st[S.TIMECMP] < 0 or st[S.SKIP_LIMIT] <= 0:
            return False
        return st[S.TIMECMP] * st[S.TIME_DIV] <= self._skip_limit(vm, now)

    def _worker(self):
        """Pick, run, put back, for ever.  Nothing a guest (or a bug in the code serving it)
        does may end this loop: an exception while running one instance crashes that
        instance (Engine.internal_error) and the worker goes on with the next."""
        while True:
            try:
                vm = self._next()
                if vm is None:
                    return
                try:
                    self.run_slice(vm)
                except Exception as exc:  # noqa: BLE001
                    self.engine.internal_error(vm, exc)
                finally:
                    self.engine.unclaim(vm)     # frees its pages if it ended meanwhile
                    self.engine.notify_done()
            except Exception:  # noqa: BLE001  (a bug here must not stop every VM)
                log.exception("hvlab: scheduler worker error")
                time.sleep(0.01)

    def _next(self):
        """The next instance to run, claimed (on_cpu); None when the scheduler shuts down."""
        with self.cond:
            while not self.quit:
                vm = None if self.test_mode else self._pick()
                if vm is not None:
                    return vm
                self.cond.wait(0.01)
            return None

    # -------------------------------------------------------------- one time slice
    def run_slice(self, vm, seconds=SLICE_SECONDS):
        """Run ``vm`` until its slice is used up or it cannot go on.  Returns instructions run."""
        st = vm.st
        start_insns = int(st[S.INSTRET])
        t0 = time.perf_counter_ns()
        deadline = t0 + int(seconds * 1e9)
        engine = self.engine
        ram = engine.memory.ram
        while True:
            if st[S.WALLCLOCK]:
                engine.sync_wall_clock(vm)
            else:
                st[S.SKIP_LIMIT] = self._skip_limit(vm, time.perf_counter())
            budget = engine.budget_left(vm, SLICE_INSNS)
            if budget <= 0:
                engine.limit_reached(vm)
                break
            vm.stop[0] = 0 if vm.status == RUNNING else 1
            if self.quit:       # shutdown() raised the stop flags: keep them up.  Checked after
                vm.stop[0] = 1  # the reset, so a shutdown between the two cannot be undone
                break
            code = cpu.run_checked(st, ram, vm.gmap, vm.tlb, budget, vm.stop)  # vm.boot checked
            with vm.lock:
                go_on = vm.handle_exit(code) and vm.status == RUNNING
            if not go_on or time.perf_counter_ns() >= deadline:
                break
        used = time.perf_counter_ns() - t0
        vm.host_ns += used
        vm.vruntime += used * 1e-9 * NICE_0 / max(1, vm.weight)
        if vm.cap is not None:
            vm.tokens -= used * 1e-9
        return int(st[S.INSTRET]) - start_insns
