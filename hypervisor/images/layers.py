"""Layer blobs: compressing a layer tar into the store, and reading one back verified.

Reading (`open_layer`) streams the stored blob through its decompressor into a spooled temp
file while hashing both sides, and hands the tar out only when the compressed bytes match the
descriptor's digest and the uncompressed ones the config's diff_id (config.md: "rootfs.diff_ids
... the digest of the uncompressed layer tar"), after tarsafe has passed every entry.  A layer
that does not match is never handed out, so nothing from it is ever extracted.

Writing (`store_layer`) is reproducible: gzip with no name and mtime 0 (RFC 1952 MTIME = 0
means "no time stamp"), zstd without a dictionary, each at a fixed level.
"""
import contextlib
import gzip
import shutil
import tempfile
import zlib

from . import mediatypes as mt
from .digest import Hasher, HashingWriter
from .errors import DigestMismatch, OCIError, short
from .tarsafe import Limits, human, sanitize, scan

CHUNK = 1 << 20
SPOOL = 16 << 20        # a layer up to this size stays in memory


class _HashingReader:
    """Reads from `f`, hashing, refusing past `limit` bytes."""

    def __init__(self, f, limit, what):
        self._f, self.hasher, self._limit, self._what = f, Hasher(), limit, what

    def read(self, n=-1):
        data = self._f.read(n if n is not None and n >= 0 else CHUNK)
        self.hasher.update(data)
        if self.hasher.size > self._limit:
            raise OCIError(f"{self._what}: blob past the limit of {human(self._limit)}")
        return data

    def readable(self):
        return True


def _zstd():
    try:
        import zstandard
    except ImportError:
        raise OCIError("tar+zstd layers need the zstandard package "
                       "(pip install zstandard)") from None
    return zstandard


def _decompressor(f, compression):
    if compression == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")
    if compression == "zstd":
        return _zstd().ZstdDecompressor().stream_reader(f, read_across_frames=True)
    return f


def compression_of(media_type, what="layer"):
    try:
        return mt.LAYERS[media_type]
    except KeyError:
        raise OCIError(f"{what}: unsupported layer media type {media_type!r}") from None


def unpack(src, compression, limits, what, expected=None):
    """(uncompressed spool at 0, diff_id, compressed digest) of a compressed stream.  When the
    data is corrupt and `expected` is given, a digest mismatch is the error reported (a
    changed byte usually breaks the compression too, but the digest is the finding)."""
    reader = _HashingReader(src, limits.max_blob, what)
    spool, plain = tempfile.SpooledTemporaryFile(SPOOL), Hasher()
    try:
        inner = _decompressor(reader, compression)
        while True:
            chunk = inner.read(CHUNK)
            if not chunk:
                break
            plain.update(chunk)
            if plain.size > limits.max_layer:
                raise OCIError(f"{what}: expands past the limit of {human(limits.max_layer)} "
                               "(a decompression bomb?)")
            spool.write(chunk)
        while reader.read(CHUNK):       # bytes after the compressed stream still count
            pass
    except Exception as exc:
        spool.close()
        if not isinstance(exc, (OSError, EOFError, zlib.error)) and \
                not type(exc).__module__.startswith("zstandard"):
            raise
        if expected is not None:
            with contextlib.suppress(OSError, OCIError):
                while reader.read(CHUNK):
                    pass
            if reader.hasher.digest != expected:
                raise DigestMismatch(what, expected, reader.hasher.digest) from None
        raise OCIError(f"{what}: corrupt {compression} data ({exc})") from None
    spool.seek(0)
    return spool, plain.digest, reader.hasher.digest


def check_layer_file(path, desc, diff_id=None, limits=None, what=None):
    """Verify the layer blob at `path` against its descriptor (and diff_id, if known); returns
    (uncompressed tar spool, diff_id, findings).  Raises DigestMismatch / UnsafeLayer."""
    limits = limits or Limits.from_env()
    what = what or f"layer {short(desc['digest'])}"
    compression = compression_of(desc.get("mediaType"), what)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise OCIError(f"{what}: blob {desc['digest']} is missing from the store") from None
    with f:
        spool, got_diff, got = unpack(f, compression, limits, what, desc["digest"])
    try:
        if got != desc["digest"]:
            raise DigestMismatch(what, desc["digest"], got)
        if diff_id is not None and got_diff != diff_id:
            raise DigestMismatch(f"{what} uncompressed (its diff_id)", diff_id, got_diff)
        findings = scan(spool, desc["digest"], limits)
    except BaseException:
        spool.close()
        raise
    return spool, got_diff, findings


def open_layer(store, desc, diff_id=None, limits=None):
    """The uncompressed, verified, sanitized tar of a stored layer (a file object at 0)."""
    spool, _, findings = check_layer_file(store.blob_path(desc["digest"]), desc, diff_id,
                                          limits)
    return sanitize(spool, findings) if findings else spool


def store_layer(store, tar, compression="gzip", advance=None):
    """Compress the uncompressed tar file object `tar` into a blob; (descriptor, diff_id).
    `advance(n)` is called with each n bytes read (a progress bar)."""
    if compression not in mt.LAYER_FOR:
        raise OCIError(f"unknown compression {compression!r} (gzip, zstd or none)")
    plain = Hasher()
    with store.temp() as (f, path):
        out = HashingWriter(f)
        if compression == "gzip":
            sink = gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6)
        elif compression == "zstd":
            sink = _zstd().ZstdCompressor(level=3).stream_writer(out, closefd=False)
        else:
            sink = out
        while True:
            chunk = tar.read(CHUNK)
            if not chunk:
                break
            plain.update(chunk)
            sink.write(chunk)
            if advance:
                advance(len(chunk))
        if sink is not out:
            sink.close()
        f.flush()
        digest = out.hasher.digest
        store.adopt(path, digest)
    return {"mediaType": mt.LAYER_FOR[compression], "digest": digest,
            "size": out.hasher.size}, plain.digest


def copy_stream(src, dst):
    shutil.copyfileobj(src, dst, CHUNK)
