"""The build context and the layers COPY and ADD make from it.

Reproducible by construction: entries sorted by path, owner 0:0 and mtime = the build's epoch
($SOURCE_DATE_EPOCH, else 0) unless --chown says otherwise, modes reduced to 0755 (any execute
bit, and directories) or 0644, so a checkout with another umask gives the same layer.  An ADDed
tar keeps its own entries' owners, modes and times ("unless the source says otherwise"), less
what tarsafe strips.  `.dockerignore` in the context is honoured (patterns, `!` exceptions).
"""
import glob
import os
import re
import stat
import tarfile
import tempfile

from .errors import OCIError
from .layers import SPOOL
from .tarsafe import normalize, symlink_escapes

_EXEC = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


class Context:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise OCIError(f"build context {root}: not a directory")
        self.ignore = []
        path = os.path.join(self.root, ".dockerignore")
        if os.path.isfile(path):
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        neg = line.startswith("!")
                        self.ignore.append((neg, _pattern(line[1:] if neg else line)))

    def ignored(self, rel):
        """.dockerignore: patterns from the context's root (`*` within one name, `**` across
        directories); a pattern matching a directory covers what is in it; the last
        matching pattern wins, `!` making an exception."""
        result, parts = False, rel.split("/")
        for neg, rx in self.ignore:
            if any(rx.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
                result = not neg
        return result

    def sources(self, pattern, where):
        """Absolute paths the COPY source `pattern` names, inside the context."""
        if "://" in pattern:
            raise OCIError(f"{where}: {pattern}: URLs are not supported (no network in a "
                           "build); put the file in the build context")
        rel = os.path.normpath(pattern.lstrip("/"))
        if rel == ".." or rel.startswith("../"):
            raise OCIError(f"{where}: {pattern} is outside the build context")
        full = os.path.join(self.root, rel)
        found = sorted(glob.glob(full)) if glob.has_magic(rel) else [full]
        out = []
        for path in found:
            real = os.path.realpath(path)
            if real != self.root and not real.startswith(self.root + os.sep):
                raise OCIError(f"{where}: {pattern} is outside the build context")
            if not os.path.lexists(path):
                raise OCIError(f"{where}: {pattern}: no such file in the build context")
            if rel != "." and self.ignored(os.path.relpath(path, self.root)):
                continue
            out.append(path)
        if not out:
            raise OCIError(f"{where}: {pattern}: no such file in the build context")
        return out


def _pattern(text):
    """A .dockerignore pattern (Go's filepath.Match, plus `**`) as a regular expression."""
    text = os.path.normpath(text.strip()).lstrip("/")
    out, i = [], 0
    while i < len(text):
        if text.startswith("**", i):
            out.append(".*")
            i += 2
            if text.startswith("/", i):
                out[-1] = "(?:.*/)?"
                i += 1
            continue
        c = text[i]
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out))


def norm_mode(st_mode):
    return 0o755 if stat.S_ISDIR(st_mode) or st_mode & _EXEC else 0o644


class LayerBuilder:
    """The entries of one new layer: {path: (TarInfo, source)}, written sorted."""

    def __init__(self, epoch, owner=(0, 0), chmod=None):
        self.epoch, self.owner, self.chmod = int(epoch), owner, chmod
        self.entries = {}
        self.implicit = set()       # directories made only to hold what is copied
        self.findings = []

    def _info(self, path, kind, mode, size=0, link=""):
        t = tarfile.TarInfo(path)
        t.type, t.mode, t.size, t.linkname = kind, mode, size, link
        t.uid, t.gid = self.owner
        t.uname = t.gname = ""
        t.mtime = self.epoch
        return t

    def dir(self, path, mode=0o755):
        if path and path not in self.entries:
            self.entries[path] = (self._info(path, tarfile.DIRTYPE, self.chmod or mode), None)
            self.implicit.add(path)

    def host_file(self, path, host):
        st = os.lstat(host)
        if stat.S_ISLNK(st.st_mode):
            self.entries[path] = (self._info(path, tarfile.SYMTYPE, 0o777,
                                             link=os.readlink(host)), None)
        elif stat.S_ISREG(st.st_mode):
            mode = self.chmod or norm_mode(st.st_mode)
            self.entries[path] = (self._info(path, tarfile.REGTYPE, mode, st.st_size), host)
        elif stat.S_ISDIR(st.st_mode):
            self.dir(path)
            self.implicit.discard(path)
        else:
            raise OCIError(f"{host}: not a regular file, directory or symlink")

    def host_tree(self, dest, host, ctx):
        """The contents of host directory `host` under `dest` (Docker: a directory source
        copies its contents, not itself)."""
        self.dir(dest)
        for dirpath, dirnames, filenames in os.walk(host):
            dirnames.sort()
            rel = os.path.relpath(dirpath, host)
            base = dest if rel == "." else f"{dest}/{rel}".lstrip("/")
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                if ctx.ignored(os.path.relpath(full, ctx.root)):
                    if name in dirnames:
                        dirnames.remove(name)
                    continue
                self.host_file(f"{base}/{name}".lstrip("/"), full)

    def tar_members(self, dest, tar_path, where):
        """ADD of a local tar: its entries under `dest`, their metadata kept."""
        try:
            tf = tarfile.open(tar_path, "r:*")
        except (tarfile.TarError, OSError) as exc:
            raise OCIError(f"{where}: {tar_path}: cannot read the tar ({exc})") from None
        self.dir(dest)
        with tf:
            for m in tf:
                rel = normalize(m.name, os.path.basename(tar_path))
                path = f"{dest}/{rel}".strip("/") if rel else dest
                if m.ischr() or m.isblk():
                    self.findings.append(f"ADD {m.name!r}: device node left out")
                    continue
                if m.issym() and symlink_escapes(path, m.linkname):
                    raise OCIError(f"{where}: {m.name!r}: symlink escapes the root")
                if m.mode & (stat.S_ISUID | stat.S_ISGID):
                    self.findings.append(f"ADD {m.name!r}: setuid/setgid bits cleared")
                info = copy_info(m, path, self.chmod, self.owner if self.owner != (0, 0)
                                 else None)
                if m.islnk():
                    info.linkname = f"{dest}/{normalize(m.linkname, where)}".strip("/")
                data = None
                if m.isreg():
                    with tf.extractfile(m) as src:
                        data = spool_copy(src)
                elif not (m.isdir() or m.issym() or m.islnk() or m.isfifo()):
                    raise OCIError(f"{where}: {m.name!r}: unsupported entry type")
                self.entries[path] = (info, data)
                self.implicit.discard(path)

    def write(self):
        """An uncompressed tar (spooled file at 0): parents first, names sorted; a hard link
        always after the file it names."""
        out = tempfile.SpooledTemporaryFile(SPOOL)
        done = set()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for path in sorted(self.entries, key=lambda p: p.split("/")):
                info, source = self.entries[path]
                if info.islnk() and info.linkname not in done:
                    target, tsrc = self.entries.get(info.linkname, (None, None))
                    if target is None or not target.isreg():
                        raise OCIError(f"hard link {path!r}: {info.linkname!r} is not a file")
                    info = copy_info(target, path)      # the link's first name gets the data
                    source = tsrc
                    self.entries[target.name] = (_link(target, path), None)
                    done.add(path)
                if info.isreg():
                    _add_data(tf, info, source)
                else:
                    tf.addfile(info)
                done.add(path)
        out.seek(0)
        return out


def _link(target, to):
    t = copy_info(target, target.name)
    t.type, t.linkname, t.size = tarfile.LNKTYPE, to, 0
    return t


def copy_info(m, path, chmod=None, owner=None):
    t = tarfile.TarInfo(path)
    t.type, t.linkname, t.size = m.type, m.linkname, m.size if m.isreg() else 0
    t.mode = (chmod or m.mode) & 0o1777
    t.uid, t.gid = owner or (m.uid, m.gid)
    t.uname, t.gname = "", ""
    t.mtime = int(m.mtime)
    return t


def spool_copy(src):
    f = tempfile.SpooledTemporaryFile(SPOOL)
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            break
        f.write(chunk)
    f.seek(0)
    return f


def _add_data(tf, info, source):
    if source is None:
        tf.addfile(info)
    elif isinstance(source, str):
        with open(source, "rb") as f:
            if os.fstat(f.fileno()).st_size != info.size:
                raise OCIError(f"{source}: changed while the layer was written")
            tf.addfile(info, f)
    else:
        source.seek(0)
        tf.addfile(info, source)
