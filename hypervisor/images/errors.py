"""Errors a user can cause with an image, a store, a Buildfile or a registry.

Each is printed by the CLI as one line on stderr with exit status 1 (never a traceback).
"""


class OCIError(Exception):
    """Bad image input, a missing image, a registry failure: one line for the user."""


class DigestMismatch(OCIError):
    """Content whose sha256 is not the one its descriptor names (nothing is kept)."""

    def __init__(self, what, expected, got):
        super().__init__(f"digest mismatch: {what}: expected {expected}, got {got}")
        self.expected, self.got = expected, got


class UnsafeLayer(OCIError):
    """A layer tar with an entry hvlab refuses (absolute path, '..', escaping link, ...)."""

    def __init__(self, layer, entry, why):
        super().__init__(f"layer {short(layer)}: entry {entry!r} refused: {why}")
        self.entry, self.why = entry, why


def short(digest):
    """sha256:0123456789ab... -> 0123456789ab (Docker's short id); anything else unchanged."""
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return digest[7:19]
    return str(digest)
