"""HvTop: the Textual app behind `hv top`.

It owns one Engine (whose worker threads run the VMs) and a Sampler.  A Textual interval timer
polls every ``poll_interval`` seconds (0.1 by default): the sampler reads every VM's counters
(numpy reads, no locks held on a VM) into one Snapshot and every panel of the main screen
redraws from that snapshot.  Keys act on the
engine's lifecycle API directly (pause, resume, kill, restart, create...), which only takes a
VM's lock for a moment.  Quitting shuts the engine down: every VM's stop flag is raised and the
worker threads are joined.

Containers run beside the VMs in the same engine (one page allocator, one scheduler, one
shared kernel: kernel/runtime.py's in-process API, no daemon): ``new_container`` makes one from
an image of the local OCI store (hypervisor.images; the bundled busybox:1.35 is seeded on
first use) or a rootfs path, with a terminal (docker run -t), so its console is a shell's.

For tests: ``poll_interval=None`` turns the timer off (call ``poll()`` yourself), ``clock``
replaces the wall clock of the sampler, ``choices`` replaces the bundled images offered by
the `n` picker and ``container_choices`` its container images.
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
    kind: str = "vm"                # "container": source is an image reference or a rootfs
    command: tuple = ()             # a container image's default command (its Cmd)


def bundled_choices():
    return [ImageChoice(e["name"], e.get("description", ""), e["name"]) for e in manifest()
            if e.get("name")]


def store_choices():
    """The container images hv top offers: the local store's linux/riscv32 images by tag,
    and the bundled base images not yet in it (seeded on first use, as `docker run` pulls).
    An unreadable store offers the bundled ones only; nothing is written to list them."""
    try:
        from ..images import seed
        from ..images.store import Store, default_root
    except ImportError:                 # a build without the image store
        return []
    found = {}
    root = default_root()
    if (root / "index.json").exists():
        try:
            store = Store(root)
            for name, desc in sorted(store.tags().items()):
                platform = desc.get("platform") or {}
                if platform and (platform.get("os"), platform.get("architecture")) != \
                        ("linux", "riscv32"):
                    continue
                found[name] = "local image"
        except Exception:               # noqa: BLE001 - a broken store lists no image
            found = {}
    for name in seed.available():
        found.setdefault(name, "bundled (musl + BusyBox), seeded on first use")
    out = []
    for name, what in found.items():
        cmd = ()
        spec = seed.SEEDS.get(name.split(":")[0])
        if spec and "config" in spec:
            cmd = tuple(spec["config"].get("Cmd") or ())
        out.append(ImageChoice(name, what, name, kind="container", command=cmd))
    return out


def vm_name(base, taken):
    """The name of one more VM of image ``base`` beside the instances named ``taken``: the
    image's name, then <name>-2, -3 ... (hv run's names)."""
    from ..commands.session import next_name
    return next_name(base, set(taken))


def container_name(ref, taken):
    """The name of one more container of image ``ref`` beside the instances named ``taken``:
    its repository's last part (busybox:1.35 -> busybox, then busybox-2 ...; a rootfs path:
    its directory's name), as VMs are named after their image."""
    ref = str(ref).split("@")[0].rstrip("/")
    base = ref.rsplit("/", 1)[-1]
    if ":" in base:
        base = base.rsplit(":", 1)[0]
    return vm_name(base or "container", taken)


@dataclass
class ContainerSpec:
    """How a container of hv top was made: restarting it (r) makes it again from this."""
    ref: str
    image: object                   # what runtime.create takes (imageref.resolve's answer)
    argv: list


class HvTop(App):
    CSS_PATH = "app.tcss"
    TITLE = "hv top"
    ESCAPE_TO_MINIMIZE = False
    ENABLE_COMMAND_PALETTE = False
    # ctrl+q quits from anywhere, the console included (where q goes to the guest)
    BINDINGS = [Binding("ctrl+q", "quit", "quit", show=False, priority=True)]

    def __init__(self, engine, mem=DEFAULT_MEM, poll_interval=0.1, clock=time.perf_counter,
                 choices=None, shutdown_on_exit=True, container_choices=None):
        super().__init__()
        self.engine = engine
        self.mem = mem
        self.poll_interval = poll_interval
        self.sampler = Sampler(engine, clock=clock, period=poll_interval or 0.1)
        self._choices = choices
        self._container_choices = container_choices
        self.specs = {}                 # container id -> ContainerSpec
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
        """The `n` picker's images: the bundled VM images, then the container images."""
        vms = list(self._choices) if self._choices is not None else bundled_choices()
        containers = list(self._container_choices) if self._container_choices is not None \
            else store_choices()
        return vms + containers

    def new_vm(self, choice):
        """Create and start a VM from an ImageChoice: the VM, or a one-line error."""
        engine = self.engine
        try:
            with engine.scheduler.cond:     # the workers iterate engine.vms under this lock
                taken = [inst.name for inst in engine.vms.values()]
                vm = engine.create(choice.source, mem=self.mem,
                                   name=vm_name(choice.name, taken))
        except (EngineError, ImageError) as exc:
            return f"cannot create a VM from {choice.name}: {exc}"
        engine.start(vm)
        return vm

    # ------------------------------------------------------------------ containers
    def new_container(self, ref, argv=None, start=True, image=None):
        """Make (and start) a container of image ``ref`` (a store reference or a rootfs path;
        ``image``: already resolved) running ``argv`` (default: the image's command) on a
        terminal: the Container, or a one-line error.  Safe from a worker thread (seeding an
        image into the store takes a second)."""
        from ..kernel import imageref
        from ..kernel.runtime import ContainerError
        try:
            image = image if image is not None else imageref.resolve(ref)
        except ContainerError as exc:
            return str(exc)
        return self._make_container(ContainerSpec(str(ref), image, list(argv or [])),
                                    start=start)

    def _make_container(self, spec, upper=None, name=None, start=True):
        from ..kernel import runtime
        engine = self.engine
        taken = [inst.name for inst in list(engine.vms.values())]
        try:
            c = runtime.create(engine, spec.image, spec.argv,
                               name=name or container_name(spec.ref, taken),
                               memory=self.mem, tty=True, upper=upper)
        except runtime.ContainerError as exc:
            return f"cannot run a container of {spec.ref}: {exc}"
        self.specs[c.id] = spec
        if start:
            engine.start(c)
        return c

    def restart_container(self, c):
        """As docker restart: stop it, then run its command again with its file changes
        kept (its writable layer).  A new instance (a new id) takes its place in the table;
        returns it, or a one-line error."""
        import io
        from ..kernel.layers import diff_tar
        spec = self.specs.get(c.id)
        if spec is None:
            return f"{c.name} was not started by hv top: restart it with hv container"
        engine = self.engine
        if not c.done:
            engine.kill(c)
        engine._off_cpu(c)
        upper = io.BytesIO()
        try:
            diff_tar(c.ns.root, c.ns.image_root, upper)
        except Exception as exc:        # noqa: BLE001 - its changes cannot be kept
            return f"{c.name}: cannot keep its file changes: {exc}"
        new = self._make_container(spec, upper=upper.getvalue(), name=c.name, start=False)
        if isinstance(new, str):
            return new
        with engine.scheduler.cond:     # the workers iterate engine.vms under this lock
            engine.remove(c)
        self.specs.pop(c.id, None)
        # its console goes on where it was, as a rebooted VM's does
        new.console.write(c.console.tail(c.console.capacity // 2) +
                          b"\r\n[hvlab: container restarted]\r\n")
        engine.start(new)
        return new

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
