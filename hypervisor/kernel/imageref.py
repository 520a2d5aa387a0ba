"""What IMAGE names in `hv container run IMAGE`, and where `commit` puts a container's layer.

In order: a path to a rootfs directory or a layer tar (handy for a class's own root trees),
else a name in the OCI image store of issue 14 (``hypervisor.images``: tags, digests, ids),
whose layers are read in order with their digests checked.  ``commit`` hands the container's
writable-layer tar to that store as a new layer over the container's image.
"""
import os

from .runtime import ContainerError


class StoreImage:
    """An OCI store image as the runtime reads it: ``layers`` (file objects, in order),
    ``config`` (the run config), ``name`` and ``key`` (its manifest digest)."""

    def __init__(self, image):
        self.image = image
        self.name = image.name
        self.key = ("oci", image.digest)
        self.config = image.runconfig

    @property
    def layers(self):
        return list(self.image.open_layers())


def oci_store():
    try:
        from ..images import store as oci
    except ImportError:
        return None
    return oci.Store()


def resolve(ref):
    """A path string, or a StoreImage; ContainerError(125) when IMAGE names nothing."""
    if os.path.exists(ref):
        return os.path.abspath(ref)
    store = oci_store()
    if store is None:
        raise ContainerError(f"Unable to find image '{ref}': not a rootfs directory or layer "
                             f"tar, and this build has no image store")
    from ..images import image as oci_image
    try:
        img = oci_image.load(store, ref)
        img.check_platform()
    except Exception as exc:  # the store's own one-line errors (OCIError and kin)  # noqa: BLE001
        raise ContainerError(f"Unable to find image '{ref}': {exc}") from None
    return StoreImage(img)


def commit(base_ref, layer_path, new_ref, changes=None):
    store = oci_store()
    if store is None:
        raise ContainerError("commit needs the image store (issue 14), not in this build")
    from ..images import newlayer
    base = None if os.path.exists(base_ref) else base_ref
    try:
        img = newlayer.commit(store, base, str(layer_path), changes or {}, new_ref)
    except Exception as exc:  # noqa: BLE001
        raise ContainerError(f"commit: {exc}") from None
    return img.digest
