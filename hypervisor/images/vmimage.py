"""An image that boots as a VM (issue 14 item 6): its config names a kernel inside the image
(label `org.hvlab.kernel`, e.g. "/boot/Image"; `org.hvlab.append` may give the kernel command
line), and its root file system, less the kernel, becomes the initramfs (cpio.py) that the
kernel unpacks at boot.  So one image runs as a container (its layers) or as a VM (a kernel
and its layers).

`boot_parts(image)` is what `hv run --image NAME[:TAG]` needs: (kernel bytes, initramfs bytes,
command line).  The VM side (loading a Linux Image, placing the initrd, /chosen in the device
tree) belongs to the Linux guest (issue 12's --initrd).
"""
import io

from . import mediatypes as mt
from .cpio import pack
from .errors import OCIError
from .union import view


def boot_parts(image):
    """(kernel, initramfs, append) of a VM image; OCIError when it is not one."""
    image.check_platform()
    path = image.labels.get(mt.KERNEL_LABEL)
    if not path:
        raise OCIError(f"image {image.name} names no kernel (label {mt.KERNEL_LABEL}); "
                       "run it as a container, or add "
                       f"LABEL {mt.KERNEL_LABEL}=/boot/Image to its Buildfile")
    with view(image) as u:
        node = u.get(path, follow=True)
        if node is None or node.kind != "file":
            raise OCIError(f"image {image.name}: its kernel {path} is not a file in the image")
        kernel = u.read(node)
        real = "/" + u.resolve(path, follow=True)[2]
        out = io.BytesIO()
        pack(u, out, exclude={real})
    return kernel, out.getvalue(), image.labels.get(mt.APPEND_LABEL, "")


def boot_file(ref, store=None):
    """What `hv run --image REF` boots: (the kernel written to a temporary file named after
    the image, so the VM is named so too; removed when the process ends), the initramfs of its
    layers and its command line."""
    import atexit
    import os
    import shutil
    import tempfile
    from . import open_image
    kernel, initramfs, append = boot_parts(open_image(ref, store))
    tmp = tempfile.mkdtemp(prefix="hv-image-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    name = ref.rsplit("/", 1)[-1].split("@")[0].split(":")[0] or "image"
    path = os.path.join(tmp, name + ".Image")
    with open(path, "wb") as f:
        f.write(kernel)
    return path, initramfs, append
