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
