"""What IMAGE names in `hv container run IMAGE`, and where `commit` puts a container's layer.

In order: a path to a rootfs directory or a layer tar (handy for a class's own root trees),
else a name in the OCI image store of issue 14, reached only through its stable API
(``hypervisor.images``: ``open_image``, ``check_platform``, ``runconfig``, ``open_layers``,
``commit``, ``register_use``/``unregister_use``): tags, digests, ids; its layers are read in
order with their digests checked.  An image for another platform than linux/riscv32 is
refused when run (image-spec config.md: `architecture`, `os`), as Docker refuses one that
"does not match the detected host platform".  ``commit`` hands the container's writable-layer
tar to that store as a new layer over the container's image.

Every function takes ``store``: the image store (a path), None for the default ($HV_STORE or
the user's data directory).
"""
import os

from .runtime import ContainerError


def _images():
    try:
        from .. import images
    except ImportError:         # a build without the image store (issue 14)
        return None
    return images


class StoreImage:
    """An OCI store image as the runtime reads it: ``layers`` (open tar file objects, in
    order, closed by the runtime once read), ``config`` (the run config), ``name``, ``digest``
    and ``key`` (its manifest digest: one shared read-only tree per image)."""

    close_layers = True                 # runtime.open_image closes them once read

    def __init__(self, image, name=None):
        self.image = image
        self.name = name or image.name
        self.digest = image.digest
        self.key = ("oci", image.digest)
        self.config = image.runconfig

    @property
    def layers(self):
        images = _images()
        opened = []
        try:
            for tar in self.image.open_layers():
                opened.append(tar)
        except images.OCIError as exc:      # a digest mismatch, an unsafe entry: one line
            for tar in opened:
                tar.close()
            raise ContainerError(f"image {self.name}: {exc}") from None
        return opened


def is_path(ref):
    return os.path.exists(ref)


def resolve(ref, store=None, name=None):
    """A path string, or a StoreImage (shown as ``name``, else its own name); ContainerError
    (125) when IMAGE names nothing or names an image for another platform."""
    if is_path(ref):
        return os.path.abspath(ref)
    images = _images()
    if images is None:
        raise ContainerError(f"Unable to find image '{ref}': not a rootfs directory or layer "
                             f"tar, and this build has no image store")
    try:
        img = images.open_image(ref, store)
    except images.OCIError as exc:
        raise ContainerError(f"Unable to find image '{ref}': {exc}") from None
    try:
        img.check_platform()
    except images.OCIError as exc:
        raise ContainerError(f"image '{ref}' does not match the host platform: {exc}") from None
    return StoreImage(img, name)


def register(ref, holder, store=None):
    """Record that container ``holder`` uses the store image ``ref`` (so `hv image rm` refuses
    and prune keeps its blobs); returns the manifest digest it was pinned to, or None for a
    rootfs path.  ContainerError (125) as ``resolve``, before anything is recorded."""
    image = resolve(ref, store)
    if not isinstance(image, StoreImage):
        return None
    images = _images()
    try:
        return images.register_use(image.digest, holder, store)
    except images.OCIError as exc:
        raise ContainerError(f"image {ref}: {exc}") from None


def unregister(holder, store=None):
    """Container ``holder`` was removed: its image may go."""
    images = _images()
    if images is not None:
        try:
            images.unregister_use(holder, store)
        except (images.OCIError, OSError):
            pass                # the store went away: nothing left to release


def commit(base_ref, layer_path, new_ref, changes=None, comment="", store=None):
    images = _images()
    if images is None:
        raise ContainerError("commit needs the image store (issue 14), not in this build")
    base = None if base_ref is None or is_path(base_ref) else base_ref
    try:
        img = images.commit(base, str(layer_path), changes or {}, new_ref, comment, store=store)
    except (images.OCIError, OSError) as exc:
        raise ContainerError(f"commit: {exc}") from None
    return img.digest
