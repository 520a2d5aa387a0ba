"""The union view: an image's root file system, its layers applied in order (layer.md,
"Applying Changesets"), held in memory.

* Whiteouts apply only to lower layers (layer.md: "Files that are present in the same layer as
  a whiteout file can only be hidden by whiteout files in subsequent layers"), so each layer's
  whiteouts are applied first, then its other entries in tar order.
* `DIR/.wh.NAME` deletes NAME (and everything under it); `DIR/.wh..wh..opq` (the opaque
  whiteout) hides every lower entry under DIR.
* A directory entry over a directory changes its metadata and keeps its children; any other
  entry replaces what was there.  A missing parent is created (root, 0755).
* The parents of an entry are resolved inside the root, following symlinks the way containerd
  and umoci apply layers (`bin/ls` when `bin -> usr/bin` lands in `usr/bin/ls`); `..` and
  absolute targets never leave the root.  The last component is never followed.
* A hard link is the same Node bound to a second name.

A Node's data stays in its layer's tar (kept open); `read(node)` returns it.
"""
import hashlib
import stat
import tarfile
from dataclasses import dataclass, field

from .errors import OCIError, short
from .tarsafe import OPAQUE, WHITEOUT, normalize

MAX_LINKS = 40      # symlinks followed in one lookup (Linux's MAXSYMLINKS)
MISSING = object()  # resolve(): a directory on the way does not exist


@dataclass(eq=False)
class Node:
    kind: str                   # "dir", "file", "symlink", "fifo"
    mode: int                   # permission bits (with sticky/suid as stored)
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    size: int = 0
    link: str = ""              # a symlink's target
    layer: int = -1             # index of the layer that made this node (-1: implied)
    data: tuple = None          # (layer index, TarInfo) of a file's bytes
    xattrs: dict = field(default_factory=dict)
    children: dict = None       # name -> Node, for a directory


def _dir(mode=0o755, layer=-1):
    return Node("dir", mode, layer=layer, children={})


def _node(m, layer):
    kind = ("dir" if m.isdir() else "symlink" if m.issym() else "fifo" if m.isfifo()
            else "file")
    xattrs = {k[len("SCHILY.xattr."):]: v for k, v in (m.pax_headers or {}).items()
              if k.startswith("SCHILY.xattr.")}
    node = Node(kind, m.mode & 0o7777, m.uid, m.gid, int(m.mtime), m.size if kind == "file"
                else 0, m.linkname if kind == "symlink" else "", layer, xattrs=xattrs)
    if kind == "dir":
        node.children = {}
    elif kind == "file":
        node.data = (layer, m)
    return node


class Union:
    def __init__(self):
        self.root = _dir()
        self.tars = []          # open TarFile per applied layer
        self.changes = []       # per layer: [(op, path)], op in A(dd) C(hange) D(elete) O(paque)

    # -- lookup ------------------------------------------------------------------------------
    def resolve(self, path, follow=False, create=False, layer=-1):
        """(parent directory Node, name, resolved path) of `path` inside the root."""
        parts, done, hops = [p for p in path.split("/") if p not in ("", ".")], [], 0
        cur = self.root
        while parts:
            name = parts.pop(0)
            if name == "..":
                if done:
                    done.pop()
                cur = self._walk(done)
                continue
            child = cur.children.get(name)
            last_link = follow and child is not None and child.kind == "symlink"
            if not parts and not last_link:
                return cur, name, "/".join(done + [name])
            if child is not None and child.kind == "symlink":
                hops += 1
                if hops > MAX_LINKS:
                    raise OCIError(f"{path}: too many levels of symbolic links")
                target = [p for p in child.link.split("/") if p not in ("", ".")]
                if child.link.startswith("/"):
                    done, cur = [], self.root
                parts = target + parts
                continue
            if child is None:
                if not create:          # a missing directory on the way: nothing is there
                    return MISSING, name, "/".join(done + [name] + parts)
                child = cur.children[name] = _dir(layer=layer)
            elif child.kind != "dir":
                raise OCIError(f"/{'/'.join(done + [name])} is not a directory")
            done.append(name)
            cur = child
        return None, "", "/".join(done)        # the root itself

    def _walk(self, parts):
        cur = self.root
        for p in parts:
            cur = cur.children[p]
        return cur

    def get(self, path, follow=False):
        """The Node at `path`, or None."""
        parent, name, _ = self.resolve(path, follow)
        if parent is None:
            return self.root
        if parent is MISSING:
            return None
        return parent.children.get(name)

    # -- applying ----------------------------------------------------------------------------
    def apply(self, tar, layer_name="layer"):
        """Apply one layer (an uncompressed tar file object, already checked by tarsafe)."""
        index = len(self.tars)
        tf = tarfile.open(fileobj=tar, mode="r:")
        self.tars.append(tf)
        members = tf.getmembers()
        log = []
        for m in members:                               # whiteouts first: lower layers only
            path = normalize(m.name, layer_name)
            head, _, base = path.rpartition("/")
            if base == OPAQUE:
                d = self.get(head, follow=True)
                if d is not None and d.kind == "dir":
                    d.children = {k: v for k, v in d.children.items() if v.layer == index}
                log.append(("O", head or "/"))
            elif base.startswith(WHITEOUT):
                try:
                    parent, name, real = self.resolve(f"{head}/{base[len(WHITEOUT):]}")
                except OCIError:        # under a file: there is nothing to white out
                    continue
                if parent not in (None, MISSING) and name in parent.children:
                    del parent.children[name]
                log.append(("D", real))
        for m in members:
            path = normalize(m.name, layer_name)
            base = path.rpartition("/")[2]
            if base.startswith(WHITEOUT) or m.ischr() or m.isblk():
                continue
            op, real = self._add(path, m, index, layer_name)
            if op:
                log.append((op, real))
        self.changes.append(log)

    def _add(self, path, m, index, layer_name):
        if not path:                                    # "./": the root's own metadata
            new = _node(m, index)
            self.root.mode, self.root.uid, self.root.gid = new.mode, new.uid, new.gid
            self.root.mtime = new.mtime
            return None, ""
        parent, name, real = self.resolve(path, create=True, layer=index)
        if parent is None:
            return None, ""
        assert parent is not MISSING
        old = parent.children.get(name)
        if m.islnk():
            target = self.get(normalize(m.linkname, layer_name))
            if target is None or target.kind == "dir":
                raise OCIError(f"layer {short(layer_name)}: hard link {m.name!r} to "
                               f"{m.linkname!r}, which is not a file in the image")
            parent.children[name] = target
        else:
            new = _node(m, index)
            if new.kind == "dir" and old is not None and old.kind == "dir":
                new.children = old.children
            parent.children[name] = new
        return ("C" if old is not None else "A"), real

    # -- reading -----------------------------------------------------------------------------
    def walk(self, node=None, prefix=""):
        """(path, Node) for every entry, parents before children, names sorted."""
        node = node or self.root
        for name in sorted(node.children):
            child = node.children[name]
            path = f"{prefix}{name}"
            yield path, child
            if child.kind == "dir":
                yield from self.walk(child, path + "/")

    def read(self, node):
        """A file Node's bytes."""
        if node.data is None:
            return b""
        layer, info = node.data
        f = self.tars[layer].extractfile(info)
        return f.read() if f else b""

    def digest(self, node):
        return hashlib.sha256(self.read(node)).hexdigest() if node.kind == "file" else ""

    def close(self):
        for tf in self.tars:
            tf.fileobj.close()
            tf.close()
        self.tars = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def view(image, limits=None):
    """The Union of an Image's layers (close it, or use it as a context manager)."""
    u = Union()
    try:
        for desc, tar in zip(image.layers, image.open_layers(limits)):
            u.apply(tar, desc["digest"])
    except BaseException:
        u.close()
        raise
    return u


def mode_string(node):
    kind = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "symlink": stat.S_IFLNK,
            "fifo": stat.S_IFIFO}[node.kind]
    return stat.filemode(kind | node.mode)
