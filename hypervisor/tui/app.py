"""HvTop: the Textual app behind `hv top`.

It owns one Engine (whose worker threads run the VMs) and a Sampler.  A Textual interval timer
polls every ``poll_interval`` seconds (0.1 by default): the sampler reads every VM's counters
(numpy reads, no locks held on a VM) into one Snapshot and every panel of the main screen
redraws from that snapshot.  Keys act on the
engine's lifecycle API directly (pause, resume, kill, restart, create...), which only takes a
VM's lock for a moment.  Quitting shuts the engine down: every VM's stop flag is raised and the
worker threads are joined.

For tests: ``poll_interval=None`` turns the timer off (call ``poll()`` yourself), ``clock``
replaces the wall clock of the sampler, and ``choices`` replaces the bundled images offered by
the `n` picker.
"""
import collections
import os
import threading
import time
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding

from ..engine import DEFAULT_MEM, EngineError
from ..catalog import manifest
from ..loader import ImageError
from .sampler import Sampler
from .screens.main import MainScreen


@dataclass
class ImageChoice:
    name: str
    description: str
    source: object                  # what Engine.create takes: a bundled name, a path, ELF bytes


def bundled_choices():
    return [ImageChoice(e["name"], e.get("description", ""), e["name"]) for e in manifest()
            if e.get("name")]


def vm_name(base, vm_id):
    """'<image>-<id>' for a new VM, from an image name or path."""
    base = os.path.splitext(os.path.basename(str(base)))[0] or "vm"
    return f"{base[:7]}-{vm_id}"


class HvTop(App):
    CSS_PATH = "app.tcss"
    TITLE = "hv top"
    ESCAPE_TO_MINIMIZE = False
    ENABLE_COMMAND_PALETTE = False
    # ctrl+q quits from anywhere, the console included (where q goes to the guest)
    BINDINGS = [Binding("ctrl+q", "quit", "quit", show=False, priority=True)]

    def __init__(self, engine, mem=DEFAULT_MEM, poll_interval=0.1, clock=time.perf_counter,
                 choices=None, shutdown_on_exit=True):
        super().__init__()
        self.engine = engine
        self.mem = mem
        self.poll_interval = poll_interval
        self.sampler = Sampler(engine, clock=clock, period=poll_interval or 0.1)
        self._choices = choices
        self.shutdown_on_exit = shutdown_on_exit
        self.poll_times = collections.deque(maxlen=1200)    # perf_counter at each poll
        self.poll_costs = collections.deque(maxlen=1200)    # seconds each poll took
        self.quit_seconds = None                            # how long engine.shutdown took

    def get_default_screen(self):
        return MainScreen()

    def on_mount(self):
        self.poll()
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll)

    def poll(self):
        """Sample every VM once and redraw the main screen from that one snapshot.  Cheap;
        never waits for a VM."""
        t0 = time.perf_counter()
        self.poll_times.append(t0)
        self.sampler.sample()
        main = self.main_screen
        if main is not None and main.is_mounted:
            main.update_view()
        self.poll_costs.append(time.perf_counter() - t0)

    @property
    def main_screen(self):
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    # ------------------------------------------------------------------ VMs
    def image_choices(self):
        return list(self._choices) if self._choices is not None else bundled_choices()

    def new_vm(self, choice):
        """Create and start a VM from an ImageChoice: the VM, or a one-line error."""
        engine = self.engine
        try:
            with engine.scheduler.cond:     # the workers iterate engine.vms under this lock
                vm = engine.create(choice.source, mem=self.mem)
                vm.name = vm_name(choice.name, vm.id)
        except (EngineError, ImageError) as exc:
            return f"cannot create a VM from {choice.name}: {exc}"
        engine.start(vm)
        return vm

    # ------------------------------------------------------------------ quitting
    def stop_engine(self):
        if self.quit_seconds is None and self.shutdown_on_exit:
            t0 = time.perf_counter()
            self.engine.shutdown()
            self.quit_seconds = time.perf_counter() - t0

    async def action_quit(self):
        self.stop_engine()
        self.exit()

    def on_unmount(self):
        self.stop_engine()


def running_cpu_threads():
    """The engine's worker threads still alive (named hv-cpu<N>)."""
    return [t for t in threading.enumerate() if t.name.startswith("hv-cpu") and t.is_alive()]
