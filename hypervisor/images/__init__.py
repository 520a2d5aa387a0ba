"""OCI images: immutable, layered, content-addressed (issue 14).  See docs/images.md.

The API the container runtime (hypervisor/kernel/, issue 13) calls — everything else in this
package is for `hv image ...`:

    from hypervisor import images

    img = images.open_image("busybox:1.35")       # tag, full digest or id prefix
    img.check_platform()        # OCIError unless linux/riscv32 (a "manifest for another
                                # architecture is refused when run")
    img.runconfig               # {"Entrypoint": [...], "Cmd": [...], "Env": ["K=V", ...],
                                #  "WorkingDir": "/", "User": "", "Labels": {...}, ...}
    img.architecture, img.os, img.digest (manifest), img.id (config digest)
    for tar in img.open_layers():   # in order, bottom first: uncompressed tar file objects,
        ...                         # digest and diff_id checked, unsafe entries refused or
        tar.close()                 # stripped (tarsafe.py); OCI whiteouts inside

    images.register_use("busybox:1.35", "c0ffee12")  # container c0ffee12 uses that image:
    images.unregister_use("c0ffee12")                # `hv image rm` refuses until then,
    images.in_use("busybox:1.35")  -> ["c0ffee12"]   # prune keeps its blobs

    new = images.commit("busybox:1.35", "/tmp/upper.tar",      # the writable layer: a tar
                        changes={"Cmd": ["/bin/sh"]},          # with OCI whiteouts
                        new_ref="mine:1", comment="hv container commit c0ffee12")

`union.view(img)` gives the flattened root file system in memory, if the runtime wants it.
Every function takes `store=` (a Store or a path); the default is $HV_STORE or the user data
directory.  Errors are OCIError (one line for the user).

`RUN` in a Buildfile calls `runtime.run_step` (see runtime.py), which the shared kernel provides.
"""
from .errors import DigestMismatch, OCIError, UnsafeLayer
from .store import Store

__all__ = ["OCIError", "DigestMismatch", "UnsafeLayer", "Store", "open_store", "open_image",
           "commit", "register_use", "unregister_use", "in_use"]


def open_store(store=None):
    """A Store from a Store, a path, or None (the default store)."""
    return store if isinstance(store, Store) else Store(store)


def open_image(ref, store=None):
    """The Image `ref` names (tag, digest or id prefix)."""
    from .image import load
    return load(open_store(store), ref)


def commit(base_ref, layer_tar, changes=None, new_ref=None, comment="", author="",
           store=None):
    """A new image: `base_ref`'s layers plus `layer_tar` (a path or a binary file object of an
    uncompressed tar, whiteouts as in layer.md), its config updated by `changes` (keys of the
    config's `config` object: Cmd, Entrypoint, Env, WorkingDir, User, ExposedPorts, Labels;
    Labels are merged, the others replaced), with a history entry; tagged `new_ref` if given.
    `base_ref` None means an image from scratch.  Returns the new Image."""
    from .newlayer import commit as _commit
    return _commit(open_store(store), base_ref, layer_tar, changes or {}, new_ref, comment,
                   author)


def register_use(ref, holder, store=None):
    """Record that container `holder` (an id: letters, digits, _ . -) uses image `ref`;
    returns the manifest digest it was pinned to (a later re-tag does not change it)."""
    s = open_store(store)
    image = open_image(ref, s)
    s.register_use(image.digest, holder)
    return image.digest


def unregister_use(holder, store=None):
    """Container `holder` no longer uses its image (it was removed)."""
    open_store(store).unregister_use(holder)


def in_use(ref, store=None):
    """Ids of the containers using the image `ref` names (sorted)."""
    s = open_store(store)
    digest = open_image(ref, s).digest
    return sorted(h for h, d in s.users().items() if d == digest)
