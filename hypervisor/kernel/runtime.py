"""The container runtime's in-process API: make a container on an engine and run its command.

    from hypervisor.engine import Engine
    from hypervisor.kernel import runtime
    engine = Engine()
    c = runtime.run(engine, "rootfs/", ["/bin/sh", "-c", "echo hi"], memory=16 << 20)
    engine.wait(vms=[c]); print(c.console.text(), c.exit_code)

An image is a rootfs directory, a layer tar, a list of layer tars (applied in order), or an
object with ``layers`` (paths) and ``config`` (the OCI image config: Entrypoint, Cmd, Env,
WorkingDir) as the image store gives.  Image trees are read once and shared (read-only) by
every container made from them.  Errors carry Docker's exit statuses: 125 for the runtime,
126 for a command that cannot be run, 127 for one that is not found.
"""
import os
import threading
from dataclasses import dataclass, field

from ..memory import PAGE_SIZE, OutOfMemory
from . import fork as fork_ops
from .container import Container
from .errno import EACCES, ENOENT, ENOEXEC, SysError
from .file import O_RDONLY, O_WRONLY
from .frames import FrameLimit
from .kernel import Kernel
from .layers import LayerError, image_tree
from .tty import TtyFile

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_MEMORY = 64 << 20
MIN_MEMORY = 1 << 20


class ContainerError(Exception):
    """The runtime could not run the container; ``status`` is docker run's exit status."""

    def __init__(self, message, status=125):
        super().__init__(message)
        self.status = status


@dataclass
class ContainerConfig:
    image: str = ""
    argv: list = field(default_factory=list)
    env: list = field(default_factory=list)
    workdir: str = "/"
    hostname: str = None
    memory: int = DEFAULT_MEMORY
    pids_limit: int = None
    tty: bool = False
    cpu_shares: int = 1024
    cpus: float = None
    network: str = None
    tree: object = None             # the image's read-only tree (not persisted)
    upper: bytes = None             # the writable layer to start from (a tar)


_trees = {}
_trees_lock = threading.Lock()


def _image_key(image):
    """A cache key: (path, mtime, size) of a tar layer; for a directory, of every entry in it
    (a changed file makes a new tree)."""
    if isinstance(image, (str, os.PathLike)) and os.path.isdir(image):
        sig = []
        for top, dirs, files in os.walk(image):
            dirs.sort()
            for name in sorted(files) + dirs:
                st = os.lstat(os.path.join(top, name))
                sig.append((top, name, st.st_mtime_ns, st.st_size, st.st_mode))
        return (os.path.abspath(image), hash(tuple(sig)))
    if isinstance(image, (str, os.PathLike)):
        st = os.stat(image)
        return (os.path.abspath(image), st.st_mtime_ns, st.st_size)
    if isinstance(image, (list, tuple)):
        keys = tuple(_image_key(x) for x in image)
        return None if None in keys else keys
    return None


def open_image(image):
    """(tree, config dict, display name) of an image, trees cached per file version."""
    config, layers, name, key = {}, image, str(image), None
    if hasattr(image, "layers"):
        config = getattr(image, "config", {}) or {}
        name = getattr(image, "name", None) or name
        key = getattr(image, "key", None)
        if key is None or key not in _trees:
            layers = list(image.layers)
    if key is None:
        try:
            key = _image_key(layers)
        except OSError as exc:
            raise ContainerError(f"{name}: {exc.strerror}") from None
    with _trees_lock:
        tree = _trees.get(key) if key is not None else None
        if tree is None:
            try:
                tree = image_tree(layers)
            except (LayerError, OSError) as exc:
                raise ContainerError(f"image {name}: {exc}") from None
            finally:                    # an image store's layers come as open files
                if getattr(image, "close_layers", False):
                    for layer in layers:
                        layer.close()
            if key is not None:
                _trees[key] = tree
    return tree, config, name


def clamp_shares(shares):
    """CPU shares as the kernel takes cpu.shares (kernel/sched/core.c: clamped to MIN_SHARES 2
    .. MAX_SHARES 1 << 18): a weight of 10**20 would stop the container's virtual runtime
    (scheduler.py) and starve every other instance."""
    return max(2, min(int(shares), 1 << 18))


def create(engine, image, argv=None, name=None, env=(), workdir=None, hostname=None,
           memory=DEFAULT_MEMORY, pids_limit=None, tty=False, cpu_shares=1024, cpus=None,
           upper=None, network=None):
    """A container on ``engine`` with its first process made (not started)."""
    tree, icfg, iname = open_image(image)
    argv = list(argv or [])
    entry = list(icfg.get("Entrypoint") or [])
    if not argv:
        argv = list(icfg.get("Cmd") or [])
    argv = entry + argv
    if not argv:
        raise ContainerError("no command specified")
    if memory % PAGE_SIZE or memory < MIN_MEMORY or memory > 1 << 30:
        raise ContainerError(f"--memory must be whole pages between 1 MiB and 1 GiB "
                             f"(got {memory})")
    if workdir is not None and not workdir.startswith("/"):
        # docker: "the working directory 'x' is invalid, it needs to be an absolute path"
        raise ContainerError(f"the working directory {workdir!r} is invalid, it needs to be "
                             "an absolute path")
    if pids_limit is not None and pids_limit <= 0:
        pids_limit = None       # runtime-spec config-linux.md, pids.limit: "<= 0: no limit"
    cpu_shares = clamp_shares(cpu_shares)
    if cpus is not None and not 0 < cpus <= 1:
        raise ContainerError("--cpus is a fraction of one core, in (0, 1] (one virtual CPU "
                             "per container)")
    if memory // PAGE_SIZE > engine.memory.free_pages and False:
        raise ContainerError("the host has no memory left")
    kernel = Kernel.of(engine)
    cid = engine.new_id()
    name = name or f"container{cid}"
    envs = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname or name}", "HOME=/root"]
    if tty:
        envs.append("TERM=xterm")
    for e in list(icfg.get("Env") or []) + list(env):
        k = e.split("=", 1)[0]
        envs = [x for x in envs if x.split("=", 1)[0] != k] + [e]
    config = ContainerConfig(image=iname, argv=argv, env=envs,
                             workdir=workdir or icfg.get("WorkingDir") or "/",
                             hostname=hostname, memory=memory, pids_limit=pids_limit, tty=tty,
                             cpu_shares=cpu_shares, cpus=cpus, network=network, tree=tree,
                             upper=upper)
    try:
        c = Container(kernel, engine, cid, name, memory, config, weight=cpu_shares, cap=cpus)
    except (OutOfMemory, FrameLimit):
        raise ContainerError(f"{name}: no memory left for the container") from None
    except LayerError as exc:
        raise ContainerError(f"{name}: writable layer: {exc}") from None
    if network:
        net = kernel.networks.get(network)
        if net is None:
            raise ContainerError(f"network {network} not found")
        net.join(c)
    kernel.add(c)
    engine.add(c)
    try:
        _start_init(c, config)
    except ContainerError:
        engine.remove(c)
        kernel.container_ended(c)
        raise
    return c


def _start_init(c, config):
    from .file import FdTable
    fds = FdTable()
    fds.install(TtyFile(c.tty, O_RDONLY), fd=0)
    out = TtyFile(c.tty, O_WRONLY)
    fds.install(out, fd=1)
    fds.install(out, fd=2)
    argv = [a.encode() if isinstance(a, str) else a for a in config.argv]
    env = [e.encode() if isinstance(e, str) else e for e in config.env]
    try:
        p = fork_ops.spawn(c, argv, env, config.workdir.encode(), fds=fds)
    except SysError as exc:
        fds.close_all()
        what = argv[0].decode("utf-8", "replace")
        if exc.errno == ENOENT:
            raise ContainerError(f"exec: \"{what}\": executable file not found in $PATH",
                                 127) from None
        if exc.errno in (EACCES, ENOEXEC):
            raise ContainerError(f"exec: \"{what}\": cannot run: "
                                 f"{os.strerror(exc.errno).lower()}", 126) from None
        raise ContainerError(f"exec: \"{what}\": {os.strerror(exc.errno)}", 126) from None
    except (OutOfMemory, FrameLimit):
        raise ContainerError(f"{c.name}: the memory limit is too small to load "
                             f"{config.argv[0]}", 125) from None
    c.runq.remove(p)
    c.tty.fg_pgrp = c.tty.sid = p.pid
    c.switch_to(p)
    return p


def run(engine, image, argv=None, input=None, **kw):
    """create + start; ``input`` (bytes) is the container's stdin (then end of input)."""
    c = create(engine, image, argv, **kw)
    if input is not None:
        c.send_input(input)
        c.close_input()
    engine.start(c)
    return c


def exec_in(c, argv, env=None, workdir="/", tty=False, sink=None):
    """`hv container exec`: a new process in the container's namespaces, with its own
    terminal or streams (``sink`` gets its output; feed its input with ``.term.feed``).
    It has no parent (as nsenter's): its exit status stays on the returned process."""
    from .file import FdTable
    from .tty import Terminal
    with c.lock:
        if c.done:
            raise ContainerError(f"container {c.name} is not running", 125)
        term = Terminal(c, tty, sink)
        fds = FdTable()
        fds.install(TtyFile(term, O_RDONLY), fd=0)
        out = TtyFile(term, O_WRONLY)
        fds.install(out, fd=1)
        fds.install(out, fd=2)
        argv = [a.encode() if isinstance(a, str) else a for a in argv]
        env = [e.encode() for e in (env or c.config.env)]
        try:
            p = fork_ops.spawn(c, argv, env, workdir.encode(), parent=None, fds=fds)
        except SysError as exc:
            fds.close_all()
            raise ContainerError(f"exec: {argv[0].decode()}: {os.strerror(exc.errno)}",
                                 127 if exc.errno == ENOENT else 126) from None
        p.term = term
        term.fg_pgrp = term.sid = p.pid
        if c.idle:
            c.idle = False
            c.engine.wake(c)
        return p
