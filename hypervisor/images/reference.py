"""Image references: `[registry[:port]/]path[:tag][@sha256:...]`, as Docker and the OCI
distribution spec write them.

The grammar is distribution's reference package (the one `docker pull` uses): path components
are lowercase letters and digits joined by `.`, `_`, `__` or dashes, separated by `/`; the first
component names a registry when it holds a `.` or a `:` or is `localhost`; a tag is up to 128
word characters, dots and dashes, not starting with either; the tag defaults to `latest`.  The
distribution spec (spec.md, "Pulling manifests") restricts `<name>` the same way.
"""
import re
from dataclasses import dataclass

from .digest import check
from .errors import OCIError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DOMAIN = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
                     r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                     r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class Reference:
    domain: str | None      # registry host[:port], None for a local-only name
    path: str               # repository path, e.g. "demo/busybox"
    tag: str | None
    digest: str | None

    @property
    def name(self):
        """The repository name with its registry: what a local store calls the image."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    def __str__(self):
        text = self.name
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text


def parse(text, default_tag=DEFAULT_TAG):
    """A Reference from user text, or OCIError with the reason."""
    if not isinstance(text, str) or not text or len(text) > 255 + 128 + 72:
        raise OCIError(f"bad image reference {str(text)[:80]!r}")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        check(digest, f"digest in reference {text!r}")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:                       # a colon after the last slash starts the tag
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise OCIError(f"bad tag {tag!r} in {text!r} (letters, digits, '_', '.', '-')")
    domain, path = None, rest
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            raise OCIError(f"bad registry {first!r} in {text!r}")
        domain, path = first, remainder
    if not _PATH.fullmatch(path):
        raise OCIError(f"bad image name {path!r} in {text!r} "
                       "(lowercase letters, digits and . _ - separators, / between parts)")
    if tag is None and digest is None:
        tag = default_tag
    return Reference(domain, path, tag, digest)


def local_name(text):
    """The string a store tags an image with (its ref.name annotation): `name:tag`."""
    ref = parse(text)
    return str(ref)


def familiar(text):
    """Docker's short form of a Docker Hub name: docker.io/library/x:1 -> x:1, docker.io/a/b
    -> a/b (what `docker save` archives and containerd annotations spell out in full)."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/",
                   "index.docker.io/"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text
