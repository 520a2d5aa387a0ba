"""Layers: image layer tars (or a rootfs directory) into an in-memory tree, and a container's
changes back out as a layer tar.

OCI image spec, "Image Layer Filesystem Changeset": layers are applied in order; a file
``.wh.NAME`` deletes NAME of the layers below, ``.wh..wh..opq`` makes its directory opaque
(nothing below shows through).  A tar entry with an absolute path or ``..`` is refused (its
name in the error); device nodes are skipped; setuid/setgid bits are stripped.  Nodes read from
image layers are marked ``lower`` and are never modified (vfs.py copies them up on write).
"""
import io
import os
import stat
import tarfile

from .vfs import S_IFLNK, S_IFREG, Dir, Node, walk_tree

WH, OPAQUE = b".wh.", b".wh..wh..opq"
MAX_ENTRY = 256 << 20


class LayerError(Exception):
    """A layer that cannot be applied (one line)."""


def _parts(name):
    raw = name.encode() if isinstance(name, str) else name
    parts = [p for p in raw.split(b"/") if p and p != b"."]
    if raw.startswith(b"/") and parts:
        pass                                # tar strips a leading "/": so do we
    if b".." in parts:
        raise LayerError(f"layer entry {name!r} leaves the root (..)")
    return parts


def _dir_of(root, parts, mtime=0):
    d = root
    for p in parts:
        nxt = d.entries.get(p)
        if not isinstance(nxt, Dir):
            if nxt is not None:
                del d.entries[p]
            nxt = Dir(0o755, mtime=mtime)
            d.link(p, nxt)
        d = nxt
    return d


def apply_tar(root, fileobj, lower=True):
    """Apply one layer tar (plain or gzip) onto ``root``."""
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r:*")
    except tarfile.TarError as exc:
        raise LayerError(f"not a tar layer: {exc}") from None
    with tar:
        for m in tar:
            parts = _parts(m.name)
            if not parts:
                continue
            d = _dir_of(root, parts[:-1], m.mtime)
            name = parts[-1]
            if name == OPAQUE:
                d.entries.clear()
                continue
            if name.startswith(WH):
                d.entries.pop(name[len(WH):], None)
                continue
            mode = m.mode & 0o1777          # setuid/setgid stripped
            if m.isdir():
                old = d.entries.get(name)
                if isinstance(old, Dir):
                    old.mode = 0o040000 | mode
                    continue
                d.entries.pop(name, None)
                d.link(name, Dir(mode, m.uid, m.gid, m.mtime))
                continue
            if m.islnk():
                target = root
                try:
                    for p in _parts(m.linkname):
                        target = target.entries[p]
                except (KeyError, AttributeError):
                    raise LayerError(f"layer entry {m.name!r}: hard link to a missing "
                                     f"{m.linkname!r}") from None
                d.entries.pop(name, None)
                d.entries[name] = target
                target.nlink += 1
                continue
            if m.issym():
                node = Node(S_IFLNK | 0o777, m.linkname.encode(), m.uid, m.gid, m.mtime)
            elif m.isreg():
                if m.size > MAX_ENTRY:
                    raise LayerError(f"layer entry {m.name!r} is larger than {MAX_ENTRY} bytes")
                node = Node(S_IFREG | mode, tar.extractfile(m).read(), m.uid, m.gid, m.mtime)
            else:
                continue                    # devices, fifos: not in a container's image
            node.lower = lower
            d.entries.pop(name, None)
            d.link(name, node)


def read_dir(path):
    """A host directory as a one-layer image (symlinks kept as links, never followed)."""
    root = Dir(0o755)

    def fill(d, host):
        for entry in sorted(os.scandir(host), key=lambda e: e.name):
            st = entry.stat(follow_symlinks=False)
            name = os.fsencode(entry.name)
            if stat.S_ISDIR(st.st_mode):
                sub = Dir(st.st_mode & 0o1777, mtime=st.st_mtime)
                d.link(name, sub)
                fill(sub, entry.path)
            elif stat.S_ISLNK(st.st_mode):
                n = Node(S_IFLNK | 0o777, os.fsencode(os.readlink(entry.path)), mtime=st.st_mtime)
                n.lower = True
                d.link(name, n)
            elif stat.S_ISREG(st.st_mode):
                with open(entry.path, "rb") as f:
                    n = Node(S_IFREG | (st.st_mode & 0o1777), f.read(), mtime=st.st_mtime)
                n.lower = True
                d.link(name, n)
    fill(root, path)
    return root


def image_tree(layers):
    """The read-only tree of an image: ``layers`` are tar paths or file objects, in order, or
    one directory."""
    if isinstance(layers, (str, os.PathLike)) and os.path.isdir(layers):
        return read_dir(layers)
    root = Dir(0o755)
    for layer in ([layers] if isinstance(layers, (str, os.PathLike, bytes)) else layers):
        if isinstance(layer, bytes):
            apply_tar(root, io.BytesIO(layer))
        elif hasattr(layer, "read"):
            apply_tar(root, layer)
        else:
            try:
                with open(layer, "rb") as f:
                    apply_tar(root, f)
            except OSError as exc:
                raise LayerError(f"{layer}: {exc.strerror}") from None
    return root


def diff_tar(tree, image, out):
    """Write the container's changes (``tree`` against its ``image``) as a layer tar."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _diff_dir(tar, tree, image, b"")


def _info(path, node):
    ti = tarfile.TarInfo(path.decode("utf-8", "surrogateescape").lstrip("/"))
    ti.mode, ti.uid, ti.gid, ti.mtime = node.mode & 0o7777, node.uid, node.gid, int(node.mtime)
    return ti


def _add(tar, path, node):
    ti = _info(path, node)
    if isinstance(node, Dir):
        ti.type = tarfile.DIRTYPE
        tar.addfile(ti)
    elif node.type == S_IFLNK:
        ti.type, ti.linkname = tarfile.SYMTYPE, bytes(node.data).decode("utf-8", "surrogateescape")
        tar.addfile(ti)
    elif node.type == S_IFREG:
        ti.size = len(node.data)
        tar.addfile(ti, io.BytesIO(bytes(node.data)))


def _diff_dir(tar, d, img, prefix):
    for name in sorted(set(img.entries) - set(d.entries) if img is not None else ()):
        wh = Node(S_IFREG | 0o644, mtime=0)
        _add(tar, prefix + b"/" + WH + name, wh)
    for name in sorted(d.entries):
        node = d.entries[name]
        if node.mount:
            continue
        path = prefix + b"/" + name
        old = img.entries.get(name) if img is not None else None
        if isinstance(node, Dir):
            if old is not None and node.origin is old:
                if node.mode != old.mode:
                    _add(tar, path, node)
                _diff_dir(tar, node, old, path)
            else:
                _add(tar, path, node)
                if isinstance(old, Dir):        # removed and made again: hide what was below
                    _add(tar, path + b"/" + OPAQUE, Node(S_IFREG | 0o644, mtime=0))
                for p, n in walk_tree(node, path):
                    _add(tar, p, n)
        elif node is not old:
            _add(tar, path, node)
