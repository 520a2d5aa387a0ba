"""Namespaces (namespaces(7)): what a container's processes can see, one container each.

    PID     the container's ``procs`` table: its first process is pid 1, and no pid of another
            container (or of the host) can be named: kill(2), /proc and wait(2) look only here
    mount   the container's own root (vfs.py): its image's layers under its writable layer,
            with /proc (procfs.py) and /dev mounted on it; nothing outside it has a name
    UTS     the hostname (the container's name unless --hostname) and domain name
    IPC     pipes, the terminal and sockets are objects of this container only: no name
            reaches another container's (there is no shared table to look them up in)
    network net.py: the container's own loopback, and bridge networks it joined
"""
from .tty import Terminal
from .vfs import S_IFCHR, Dir, Namei, Node, skeleton

DEVICES = {b"null": (1, 3), b"zero": (1, 5), b"full": (1, 7), b"random": (1, 8),
           b"urandom": (1, 9)}


class HostsFile(Node):
    mount = True
    lower = True

    def __init__(self, container):
        super().__init__(0o100644)
        self.container = container

    @property
    def data(self):
        return bytearray(self.container.kernel.networks.hosts_file(self.container))

    @data.setter
    def data(self, value):
        pass


class Namespaces:
    def __init__(self, container, config):
        self.container = container
        self.hostname = (config.hostname or container.name).encode()
        self.domainname = b"(none)"
        self.image_root = config.tree
        self.root = skeleton(config.tree)
        if config.upper is not None:
            from .layers import apply_tar
            import io
            apply_tar(self.root, io.BytesIO(config.upper), lower=False)
        self.namei = Namei(self.root)
        self._mount_dev()
        self._mount_proc()
        self._mount_hosts()

    def make_tty(self):
        self.tty = Terminal(self.container, self.container.config.tty)
        return self.tty

    def _mount_dev(self):
        old = self.root.entries.pop(b"dev", None)
        dev = Dir(0o755)
        dev.mount = True
        dev.origin = old.origin if isinstance(old, Dir) else None
        self.root.link(b"dev", dev)
        for name, (major, minor) in DEVICES.items():
            n = Node(S_IFCHR | 0o666)
            n.rdev, n.device = (major << 8) | minor, name.decode()
            dev.link(name, n)
        for name in (b"tty", b"console", b"stdin", b"stdout", b"stderr"):
            n = Node(S_IFCHR | 0o666)
            n.rdev, n.device = (5 << 8), "tty"
            dev.link(name, n)
        shm = Dir(0o1777)
        dev.link(b"shm", shm)
        self.dev = dev

    def _mount_hosts(self):
        """/etc/hosts names every container of the networks this one joined (Docker puts
        them in its embedded DNS; a file is what musl's resolver reads first)."""
        etc = self.root.entries.get(b"etc")
        if not isinstance(etc, Dir):
            return
        etc.entries.pop(b"hosts", None)
        etc.link(b"hosts", HostsFile(self.container))

    def _mount_proc(self):
        from .procfs import ProcRoot
        old = self.root.entries.pop(b"proc", None)
        proc = ProcRoot(self.container)
        proc.origin = old.origin if isinstance(old, Dir) else None
        self.root.link(b"proc", proc)
