"""Media types hvlab reads and writes (OCI image-spec media-types.md; Docker's v2 schema 2).

hvlab writes only OCI types.  It reads Docker's too, because `docker save` archives and many
registries' images use them; a Docker layer type names the same tar (+gzip) bytes.
"""
OCI_LAYOUT_VERSION = "1.0.0"   # image-layout.md: the oci-layout file's imageLayoutVersion

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFESTS = (MANIFEST, DOCKER_MANIFEST)
INDEXES = (INDEX, DOCKER_LIST)
CONFIGS = (CONFIG, DOCKER_CONFIG)

# layer media type -> compression ("none", "gzip", "zstd")
LAYERS = {
    LAYER_TAR: "none", DOCKER_LAYER: "none",
    LAYER_GZIP: "gzip", DOCKER_LAYER_GZIP: "gzip",
    LAYER_ZSTD: "zstd",
}
LAYER_FOR = {"none": LAYER_TAR, "gzip": LAYER_GZIP, "zstd": LAYER_ZSTD}

# annotations.md: the tag of a manifest in an image layout's index.json
REF_NAME = "org.opencontainers.image.ref.name"
CREATED = "org.opencontainers.image.created"

# hvlab's own label: the path, inside the image, of a kernel that boots the image as a VM
KERNEL_LABEL = "org.hvlab.kernel"
APPEND_LABEL = "org.hvlab.append"      # and the kernel command line it boots with

# the platform hvlab runs (config.md: architecture and os use Go's names; Go has no riscv32,
# and the image-spec leaves other values to be agreed on: `riscv32` is what skopeo shows)
ARCH, OS = "riscv32", "linux"
