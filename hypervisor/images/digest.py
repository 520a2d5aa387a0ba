"""Content addresses: `sha256:<64 hex>` digests (OCI image-spec descriptor.md, "Digests").

Only sha256 is accepted: the spec's registered algorithms are sha256 and sha512, and every
tool hvlab talks to (skopeo, umoci, distribution 2.8) writes sha256.  A digest string that comes
from outside (an index, a manifest, a registry header) is validated with `check` before it is
ever used to build a path, so `sha256:../../x` can never name a file outside the store.
"""
import hashlib
import re

from .errors import DigestMismatch, OCIError

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


def check(digest, what="digest"):
    """`digest` if it is a well-formed sha256 digest, else OCIError naming `what`."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise OCIError(f"bad {what} {str(digest)[:80]!r} (hvlab reads sha256:<64 hex digits>)")
    return digest


def of(data):
    """The digest of a bytes object."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify(data, expected, what):
    """`data` if its digest is `expected`, else DigestMismatch."""
    got = of(data)
    if got != expected:
        raise DigestMismatch(what, expected, got)
    return data


class Hasher:
    """A write-through sha256 and byte count, for streams too big to hold in memory."""

    def __init__(self):
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, chunk):
        self._h.update(chunk)
        self.size += len(chunk)

    @property
    def digest(self):
        return "sha256:" + self._h.hexdigest()


class HashingWriter:
    """A binary file wrapper that hashes every byte written through it (tarfile writes here)."""

    def __init__(self, f):
        self._f, self.hasher = f, Hasher()

    def write(self, data):
        self.hasher.update(data)
        return self._f.write(data)

    def tell(self):
        return self.hasher.size

    def flush(self):
        self._f.flush()
