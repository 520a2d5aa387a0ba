"""What hvlab accepts inside a layer tar, checked before any layer is stored or used.

A layer (image-spec layer.md) is a tar of file system changes.  A hostile one can try to name
files outside the root, smuggle devices or setuid programs, or expand until the host runs out
of disk.  The rules, each refusing or stripping with the entry named:

  refused (the whole layer, nothing is stored):
    * an absolute path (`/etc/passwd`) or a `..` component
    * a symlink whose relative target climbs above the root (`../../..`); an absolute target
      is fine: it is resolved inside the container's root, as the kernel's mount namespace does
    * a hard link whose target is absolute, has `..`, or is the entry itself
    * a name longer than 4096 bytes (PATH_MAX), an unknown entry type, an unknown whiteout
      (`.wh..wh.` prefix other than the opaque marker), a whiteout of `.` or `..`
    * one entry past `max_entry` bytes, more than `max_entries` entries, or past `max_layer`
      bytes in all (tar bombs; the decompressed size is limited as it streams, in layers.py)
  stripped (the layer is kept, the entry or bit is left out when the layer is read):
    * character and block devices (a container must not open the host's disks)
    * setuid and setgid bits, and `security.capability` extended attributes (no privilege
      comes with an image)
"""
import os
import stat
import tarfile
import tempfile
from dataclasses import dataclass

from .errors import OCIError, UnsafeLayer

PATH_MAX = 4096
OPAQUE = ".wh..wh..opq"
WHITEOUT = ".wh."
_CAP = "SCHILY.xattr.security.capability"


def _size(text, default):
    if not text:
        return default
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    try:
        value = int(text.rstrip("KMG")) * scale
    except ValueError:
        raise OCIError(f"bad size {text!r} in an HV_IMAGE_MAX_* variable") from None
    return value


@dataclass(frozen=True)
class Limits:
    """Bounds on one layer; `from_env` reads HV_IMAGE_MAX_{BLOB,LAYER,ENTRY,ENTRIES}."""
    max_blob: int = 2 << 30         # compressed bytes
    max_layer: int = 4 << 30        # uncompressed bytes
    max_entry: int = 2 << 30        # one file's bytes
    max_entries: int = 500_000

    @classmethod
    def from_env(cls):
        env = os.environ.get
        return cls(_size(env("HV_IMAGE_MAX_BLOB"), cls.max_blob),
                   _size(env("HV_IMAGE_MAX_LAYER"), cls.max_layer),
                   _size(env("HV_IMAGE_MAX_ENTRY"), cls.max_entry),
                   int(_size(env("HV_IMAGE_MAX_ENTRIES"), cls.max_entries)))


def human(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def normalize(name, layer):
    """A tar entry name as a root-relative path without `.` parts ("" is the root), or
    UnsafeLayer for absolute paths and `..`."""
    if name.startswith("/"):
        raise UnsafeLayer(layer, name, "absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeLayer(layer, name, "'..' in the path")
    path = "/".join(parts)
    if len(path.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise UnsafeLayer(layer, name[:60] + "...", f"name longer than {PATH_MAX} bytes")
    return path


def symlink_escapes(path, target):
    """True when a relative symlink at `path` climbs above the root."""
    if target.startswith("/"):
        return False
    depth = path.count("/")     # components of the link's directory
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


@dataclass
class Finding:
    entry: str
    why: str            # "device node", "setuid/setgid bits", "file capability"

    def __str__(self):
        return f"entry {self.entry!r} stripped: {self.why}"


def scan(f, layer, limits):
    """Check every entry of the uncompressed tar in `f` (seekable); returns what must be
    stripped when it is read.  Raises UnsafeLayer / OCIError for what is refused."""
    findings, count, total = [], 0, 0
    try:
        tf = tarfile.open(fileobj=f, mode="r:")
        while True:
            m = tf.next()
            if m is None:
                break
            count += 1
            if count > limits.max_entries:
                raise UnsafeLayer(layer, m.name, f"more than {limits.max_entries} entries "
                                  "(a tar bomb?)")
            tf.members.clear()          # tarfile keeps every header: not for a bomb's sake
            _check(m, layer, limits, findings)
            total += m.size
            if total > limits.max_layer:
                raise UnsafeLayer(layer, m.name, f"layer past {human(limits.max_layer)} "
                                  "(a tar bomb?)")
    except tarfile.TarError as exc:
        raise OCIError(f"layer {layer}: not a valid tar archive ({exc})") from None
    finally:
        f.seek(0)
    return findings


def _check(m, layer, limits, findings):
    path = normalize(m.name, layer)
    base = path.rsplit("/", 1)[-1]
    if base.startswith(WHITEOUT + WHITEOUT) and base != OPAQUE:
        raise UnsafeLayer(layer, m.name, "unknown whiteout (only .wh..wh..opq is defined)")
    if base == WHITEOUT:
        raise UnsafeLayer(layer, m.name, "whiteout of an empty name")
    if base in (WHITEOUT + ".", WHITEOUT + ".."):
        # `d/.wh..` named d itself (union.py deleted the directory holding it) and `d/.wh...`
        # its parent; layer.md's whiteouts name an entry *in* the directory, so refuse both
        raise UnsafeLayer(layer, m.name, f"whiteout of {base[len(WHITEOUT):]!r}")
    if m.isreg():
        if m.size > limits.max_entry:
            raise UnsafeLayer(layer, m.name, f"{human(m.size)}, past the limit of "
                              f"{human(limits.max_entry)} for one file")
    elif m.issym():
        if symlink_escapes(path, m.linkname):
            raise UnsafeLayer(layer, m.name, f"symlink to {m.linkname!r} escapes the root")
    elif m.islnk():
        target = m.linkname
        if target.startswith("/") or ".." in target.split("/"):
            raise UnsafeLayer(layer, m.name, f"hard link to {target!r} outside the root")
        if normalize(target, layer) == path:
            raise UnsafeLayer(layer, m.name, "hard link to itself")
    elif m.ischr() or m.isblk():
        findings.append(Finding(m.name, "device node"))
        return
    elif not (m.isdir() or m.isfifo()):
        raise UnsafeLayer(layer, m.name, f"unsupported entry type {m.type!r}")
    if m.mode & (stat.S_ISUID | stat.S_ISGID):
        findings.append(Finding(m.name, "setuid/setgid bits"))
    if _CAP in (m.pax_headers or {}):
        findings.append(Finding(m.name, "file capability"))


def sanitize(f, findings):
    """A copy of the tar in `f` with the found entries and bits stripped."""
    devices = {x.entry for x in findings if x.why == "device node"}
    out = tempfile.SpooledTemporaryFile(8 << 20)
    with tarfile.open(fileobj=f, mode="r:") as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src:
            if m.name in devices and (m.ischr() or m.isblk()):
                continue
            m.mode &= ~(stat.S_ISUID | stat.S_ISGID)
            m.pax_headers = {k: v for k, v in m.pax_headers.items() if k != _CAP}
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
            src.members.clear()
    f.close()
    out.seek(0)
    return out
