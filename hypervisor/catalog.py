"""Finding guest images: the bundled ones by name (hypervisor/guest_images/manifest.json, package
data built from guests/ by `make -C guests`), files by path, and assembly sources (`.s`), which are
assembled on the fly by hvlab's own assembler."""
import json
import os
from dataclasses import replace
from pathlib import Path

from .devices.layout import RAM_BASE

# the loader (and pyelftools) is imported by the functions that load: `hv images` needs neither

IMAGES_DIR = Path(os.environ.get("HVLAB_IMAGES",
                                 Path(__file__).resolve().parent / "guest_images"))


def manifest():
    """The bundled images: a list of dicts (name, file, description, mem, sha256, and
    "interactive": true for images that read their console, such as echo)."""
    try:
        with open(IMAGES_DIR / "manifest.json") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    return data.get("images", data) if isinstance(data, dict) else data


def root_filesystems():
    """The bundled root file systems (the manifest's "rootfs" section: name, file, description,
    sha256): not bootable, they are the userland of containers and OCI images."""
    try:
        with open(IMAGES_DIR / "manifest.json") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    return data.get("rootfs", []) if isinstance(data, dict) else []


def rootfs_path(name="userland"):
    """The path of a bundled root file system (a tar), or None."""
    for entry in root_filesystems():
        if entry.get("name") == name:
            return IMAGES_DIR / entry["file"]
    return None


def bundled(name):
    for entry in manifest():
        if entry.get("name") == name:
            return entry
    return None


def is_interactive(image):
    """Whether ``image`` (as given on a command line) is a bundled image that reads its console
    (Ctrl-C goes to it, and it gets the keyboard first)."""
    text = str(image)
    entry = bundled(text)
    return bool(entry and entry.get("interactive")) and not os.path.isfile(text)


def suggested_mem(image):
    """The RAM a bundled image suggests (the RAM column of `hv images`), in bytes; None for a
    file or an image without one."""
    from .memory import parse_size
    text = str(image)
    entry = bundled(text)
    if entry is None or os.path.isfile(text) or not entry.get("mem"):
        return None
    try:
        return parse_size(entry["mem"])
    except ValueError:
        return None


def resolve_image(image, mem):
    """An Image from a loaded Image, raw ELF bytes, a bundled name, an ELF path or a `.s` file."""
    from .loader import Image, ImageError, load_image
    if isinstance(image, Image):
        return image
    if isinstance(image, (bytes, bytearray)):
        return load_image(bytes(image), RAM_BASE, mem)
    text = str(image)
    entry = bundled(text)
    if entry is not None and not os.path.isfile(text):
        image = _load_cached(IMAGES_DIR / entry["file"], mem, text)
        if entry.get("append"):         # its default command line (a copy: the cache's is
            image = replace(image, bootargs=entry["append"])    # shared)
        return image
    if text in {e.get("name") for e in root_filesystems()} and not os.path.isfile(text):
        raise ImageError(f"{text}: a root file system (for containers), not a bootable image")
    if os.path.isdir(text):
        raise ImageError(f"{text}: is a directory, not an image (give an ELF file, a .s file "
                         f"or a bundled image name)")
    if text.endswith((".s", ".S")):
        return load_image(_assemble(text), RAM_BASE, mem, name=text)
    if not os.path.isfile(text):
        names = ", ".join(e["name"] for e in manifest()) or "none installed"
        raise ImageError(f"{text}: no such file or bundled image (see `hv images`: {names})")
    return _load_cached(text, mem, text)


_cache = {}
CACHE_ENTRIES = 32


def _load_cached(path, mem, name):
    """A file parsed and validated once per (file version, RAM size): `-n 1024` or a restart
    does not read and check the same ELF again.  Images are never modified after loading."""
    from .loader import ImageError, load_image
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ImageError(f"{name}: cannot read: {exc.strerror}") from None
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size, mem, name)
    image = _cache.get(key)
    if image is None:
        image = load_image(path, RAM_BASE, mem, name=name)
        if len(_cache) >= CACHE_ENTRIES:
            _cache.pop(next(iter(_cache)))
        _cache[key] = image
    return image


def _assemble(path):
    from .loader import ImageError
    try:
        from .asm import AsmError, assemble_files
    except ImportError:
        raise ImageError(f"{path}: this hvlab has no assembler") from None
    try:
        return assemble_files([path])
    except AsmError as exc:
        raise ImageError(exc.located) from None     # the caller says "error" once
    except OSError as exc:
        raise ImageError(f"{path}: cannot read: {exc.strerror}") from None
