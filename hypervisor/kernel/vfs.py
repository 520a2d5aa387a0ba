"""The virtual file system: in-memory inodes, a container's union root, and path resolution.

A container's root is a union (OCI image spec, "Image Layer Filesystem Changeset"): the files
of its image's read-only layers, shared with every container of that image and never written,
and the container's own changes on top.  hvlab keeps it simple and readable: each container
owns its *directories* (copied from the image when the container is made: a few dozen nodes),
while *files and symlinks* stay the image's nodes (``lower = True``) until the first write,
which copies the file up into the container (overlayfs's copy-up).  layers.py turns the
difference between a container's tree and its image's back into a layer tar with whiteouts.

Path resolution (path_resolution(7)) walks one component at a time inside the kernel: ``..``
at the container's root stays at the root, a symlink's target is resolved against the same
root, and no string a process gives ever becomes a host path.
"""
import itertools
import time

from .errno import EEXIST, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, SysError

S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFIFO, S_IFSOCK = \
    0o170000, 0o040000, 0o100000, 0o120000, 0o020000, 0o010000, 0o140000
DT = {S_IFDIR: 4, S_IFREG: 8, S_IFLNK: 10, S_IFCHR: 2, S_IFIFO: 1, S_IFSOCK: 12}
PATH_MAX = 4096
NAME_MAX = 255
MAXSYMLINKS = 40
_ino = itertools.count(2)


class Node:
    """An inode.  ``mode`` holds the type (S_IF*) and permission bits, as st_mode does."""

    lower = False                       # True: a node of an image layer (read-only, shared)
    mount = False                       # /proc and /dev: not part of the writable layer

    def __init__(self, mode, data=b"", uid=0, gid=0, mtime=None):
        self.mode = mode
        self.uid, self.gid = uid, gid
        self.mtime = time.time() if mtime is None else mtime
        self.ino = next(_ino)
        self.nlink = 1
        self.data = bytearray(data) if mode & S_IFMT == S_IFREG else bytes(data)
        self.rdev = 0
        self.device = None              # a character device's name (devices.py)

    @property
    def type(self):
        return self.mode & S_IFMT

    @property
    def is_dir(self):
        return self.type == S_IFDIR

    @property
    def size(self):
        return len(self.data)

    def copy(self):
        n = Node(self.mode, self.data, self.uid, self.gid, self.mtime)
        n.rdev, n.device = self.rdev, self.device
        return n


class Dir(Node):
    def __init__(self, mode=0o755, uid=0, gid=0, mtime=None):
        super().__init__(S_IFDIR | (mode & 0o7777), b"", uid, gid, mtime)
        self.entries = {}               # name (bytes) -> Node
        self.parent = self
        self.name = b""
        self.origin = None              # the image directory this one was copied from

    @property
    def size(self):
        return 4096

    def lookup(self, name):
        return self.entries.get(name)

    def names(self):
        return list(self.entries)

    def link(self, name, node):
        if len(name) > NAME_MAX:
            raise SysError(ENAMETOOLONG)
        if name in self.entries:
            raise SysError(EEXIST)
        self.entries[name] = node
        if isinstance(node, Dir):
            node.parent, node.name = self, name
        self.mtime = time.time()

    def unlink(self, name):
        node = self.entries.pop(name)
        node.nlink -= 1
        self.mtime = time.time()
        return node


def skeleton(image_dir, lower=True):
    """The container's own copy of an image's directories, sharing the image's files."""
    d = Dir(image_dir.mode, image_dir.uid, image_dir.gid, image_dir.mtime)
    d.origin = image_dir
    for name, node in image_dir.entries.items():
        d.link(name, skeleton(node) if isinstance(node, Dir) else node)
    return d


class Namei:
    """Path resolution inside one root (a container's, or a process's after chroot)."""

    def __init__(self, root):
        self.root = root

    def walk(self, cwd, path, follow=True, depth=0):
        """The node ``path`` names (relative to ``cwd``); SysError ENOENT/ENOTDIR/ELOOP."""
        parent, name = self.parent(cwd, path, depth)
        if name is None:
            return parent
        node = self._step(parent, name)
        if node is None:
            raise SysError(ENOENT)
        if node.type == S_IFLNK and follow:
            return self._follow(parent, node, depth)
        return node

    def parent(self, cwd, path, depth=0):
        """(directory, last component) of ``path``; the component is None for '/' or '.'-ish
        paths that name a directory itself."""
        if not path:
            raise SysError(ENOENT)
        if len(path) >= PATH_MAX:
            raise SysError(ENAMETOOLONG)
        node = self.root if path.startswith(b"/") else cwd
        parts = [p for p in path.split(b"/") if p]
        if not parts:
            return node, None
        for part in parts[:-1]:
            node = self._dir_step(node, part, depth)
        last = parts[-1]
        if last in (b".", b".."):
            return self._dir_step(node, last, depth), None
        if not node.is_dir:
            raise SysError(ENOTDIR)
        if path.endswith(b"/"):             # "name/" must be a directory: resolve it fully
            target = self._step(node, last)
            if target is not None and target.type == S_IFLNK:
                target = self._follow(node, target, depth)
            if target is not None:
                if not target.is_dir:
                    raise SysError(ENOTDIR)
                return target, None
        return node, last

    def _dir_step(self, node, part, depth):
        if not node.is_dir:
            raise SysError(ENOTDIR)
        nxt = self._step(node, part)
        if nxt is None:
            raise SysError(ENOENT)
        if nxt.type == S_IFLNK:
            nxt = self._follow(node, nxt, depth)
        if not nxt.is_dir:
            raise SysError(ENOTDIR)
        return nxt

    def _step(self, d, name):
        if name == b".":
            return d
        if name == b"..":
            return d if d is self.root else d.parent     # never above the root
        return d.lookup(name)

    def _follow(self, parent, link, depth):
        if depth >= MAXSYMLINKS:
            raise SysError(ELOOP)
        return self.walk(parent, bytes(link.data), True, depth + 1)

    def path_of(self, d):
        """The absolute path of directory ``d`` as seen from this root (getcwd(2))."""
        parts = []
        seen = 0
        while d is not self.root and d.parent is not d and seen < 4096:
            parts.append(d.name)
            d = d.parent
            seen += 1
        if d is not self.root:
            return None                     # not under this root (removed, or outside)
        return b"/" + b"/".join(reversed(parts))


def walk_tree(d, prefix=b""):
    """(path, node) of every node under directory ``d`` (mounts skipped), parents first."""
    for name in sorted(d.entries):
        node = d.entries[name]
        if node.mount:
            continue
        path = prefix + b"/" + name
        yield path, node
        if isinstance(node, Dir):
            yield from walk_tree(node, path)
