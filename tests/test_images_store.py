"""The store: an OCI image layout checked file by file against the image-spec, blobs stored
once and verified on read, tags, rm/prune, images in use, commit, the API the container
runtime calls, and image references."""
import hashlib
import io
import json
import os

import pytest

from hypervisor import images
from hypervisor.images.errors import DigestMismatch, OCIError
from hypervisor.images.reference import parse
from hypervisor.images.union import view
from oci_helpers import _own_store, hv, make_context, tar_bytes  # noqa: F401


def build(capsys, tmp_path, tag, files, buildfile):
    ctx = make_context(tmp_path / ("ctx-" + tag.replace(":", "-")),
                       {"Buildfile": buildfile.encode(), **files})
    status, out, err = hv(capsys, "image", "build", "-t", tag, ctx)
    assert status == 0, err
    return images.open_image(tag)


def base_and_child(capsys, tmp_path):
    base = build(capsys, tmp_path, "base:1", {"big": os.urandom(50_000), "etc/os": b"hvlab\n"},
                 "FROM scratch\nCOPY big /data/big\nCOPY etc /etc\n")
    child = build(capsys, tmp_path, "child:1", {"app": b"app\n"},
                  "FROM base:1\nCOPY app /bin/app\nCMD [\"/bin/app\"]\n")
    return base, child


def test_the_store_is_an_oci_image_layout(tmp_path, capsys):
    base, child = base_and_child(capsys, tmp_path)
    root = tmp_path / "store"
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((root / "index.json").read_text())
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    refs = {d["annotations"]["org.opencontainers.image.ref.name"]: d for d in index["manifests"]}
    assert set(refs) == {"base:1", "child:1"}
    for name in os.listdir(root / "blobs" / "sha256"):     # named by their content
        data = (root / "blobs" / "sha256" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == name
    m = json.loads((root / "blobs/sha256" / refs["child:1"]["digest"][7:]).read_bytes())
    assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert refs["child:1"]["size"] == len(json.dumps(m, separators=(",", ":"),
                                                     sort_keys=True).encode())
    c = json.loads((root / "blobs/sha256" / m["config"]["digest"][7:]).read_bytes())
    assert (c["architecture"], c["os"], c["rootfs"]["type"]) == ("riscv32", "linux", "layers")
    assert len(c["rootfs"]["diff_ids"]) == len(m["layers"]) == 3


def test_a_shared_layer_is_stored_once(tmp_path, capsys):
    base, child = base_and_child(capsys, tmp_path)
    blobs = tmp_path / "store" / "blobs" / "sha256"
    stored = sum(p.stat().st_size for p in blobs.iterdir())
    assert child.layers[:2] == base.layers
    # manifests + configs + 3 distinct layers (2 shared): 7 blobs, not 9
    assert len(os.listdir(blobs)) == 7
    shared = sum(d["size"] for d in base.layers)
    assert stored == base.size + child.size - shared


def test_every_read_is_verified(tmp_path, capsys):
    base, _ = base_and_child(capsys, tmp_path)
    layer = tmp_path / "store/blobs/sha256" / base.layers[0]["digest"][7:]
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layer.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        next(images.open_image("base:1").open_layers())
    status, out, err = hv(capsys, "image", "tree", "base:1")
    assert status == 1 and "digest mismatch" in err and err.count("\n") == 1
    status, out, err = hv(capsys, "image", "check")
    assert status == 1 and "corrupt" in out
    config = tmp_path / "store/blobs/sha256" / base.id[7:]
    config.write_bytes(config.read_bytes().replace(b"riscv32", b"riscv64"))
    status, out, err = hv(capsys, "image", "inspect", "base:1")
    assert status == 1 and "digest mismatch" in err


def test_tag_rm_and_prune(tmp_path, capsys):
    base, child = base_and_child(capsys, tmp_path)
    blobs = tmp_path / "store" / "blobs" / "sha256"
    assert hv(capsys, "image", "tag", "child:1", "child:latest")[0] == 0
    status, out, _ = hv(capsys, "image", "ls")
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["base", "1"], ["child", "1"], ["child", "latest"]]
    status, out, err = hv(capsys, "image", "rm", "child:1")
    assert status == 0 and out == "Untagged: child:1\n"
    assert images.open_image("child").digest == child.digest
    status, out, err = hv(capsys, "image", "rm", child.id[7:19])     # by id: its last tag
    assert status == 0 and out == f"Untagged: child:latest\nDeleted: {child.digest}\n"
    assert len(os.listdir(blobs)) == 4          # child's own blobs went, base's stayed
    # a rebuild under the same tag leaves the old image dangling; prune removes it
    build(capsys, tmp_path, "base:1", {"other": b"x"}, "FROM scratch\nCOPY other /o\n")
    status, out, _ = hv(capsys, "image", "ls")
    assert "<none>" in out
    status, out, _ = hv(capsys, "image", "prune", "--dry-run")
    assert out.startswith("would remove 4 blobs") and len(os.listdir(blobs)) == 7
    status, out, _ = hv(capsys, "image", "prune")
    assert out.startswith("removed 4 blobs") and len(os.listdir(blobs)) == 3
    assert "<none>" not in hv(capsys, "image", "ls")[1]
    assert hv(capsys, "image", "check")[1] == "store is sound\n"
    status, _, err = hv(capsys, "image", "rm", "nothere:1")
    assert status == 1 and "no image 'nothere:1'" in err


def test_rm_refuses_an_image_a_container_uses(tmp_path, capsys):
    base, child = base_and_child(capsys, tmp_path)
    assert images.register_use("child:1", "c0ffee12") == child.digest
    assert images.in_use("child:1") == ["c0ffee12"]
    status, out, err = hv(capsys, "image", "rm", "child:1")
    assert status == 1
    assert "image child:1 is used by container(s) c0ffee12" in err
    info = json.loads(hv(capsys, "image", "inspect", "child:1")[1])
    assert info[0]["UsedBy"] == ["c0ffee12"]
    # -f untags, but prune keeps what the container still needs
    assert hv(capsys, "image", "rm", "-f", "child:1")[0] == 0
    hv(capsys, "image", "prune")
    assert images.open_image(child.digest).digest == child.digest
    next(images.open_image(child.digest).open_layers()).close()
    images.unregister_use("c0ffee12")
    hv(capsys, "image", "prune")
    with pytest.raises(OCIError, match="no image"):
        images.open_image(child.digest)


def test_commit_adds_a_writable_layer_as_a_new_image(tmp_path, capsys):
    base, _ = base_and_child(capsys, tmp_path)
    upper = tar_bytes([("etc", "dir", None), ("etc/.wh.os", "file", b""),
                       ("data", "dir", None), ("data/.wh..wh..opq", "file", b""),
                       ("data/new", "file", b"fresh"), ("tmp", "dir", None),
                       ("tmp/log", "file", b"written by a container\n")])
    img = images.commit("base:1", io.BytesIO(upper), {"Cmd": ["/bin/sh"], "Env": ["A=1"],
                                                     "Labels": {"k": "v"}},
                        "committed:1", "hv container commit c1", author="student")
    assert img.names == ["committed:1"]
    assert img.layers[:2] == base.layers and len(img.layers) == 3
    assert img.runconfig["Cmd"] == ["/bin/sh"] and img.runconfig["Env"] == ["A=1"]
    assert img.config["history"][-1]["comment"] == "hv container commit c1"
    assert img.config["history"][-1]["author"] == "student"
    with view(img) as u:
        paths = [p for p, _ in u.walk()]
    assert "etc/os" not in paths and "data/big" not in paths
    assert {"data/new", "tmp/log"} <= set(paths)
    status, out, _ = hv(capsys, "image", "diff", "base:1", "committed:1")
    assert out.splitlines() == ["D /data/big", "A /data/new", "D /etc/os", "A /tmp",
                                "A /tmp/log"]
    status, out, _ = hv(capsys, "image", "tree", "committed:1")
    assert "  * /data (opaque: lower entries hidden)" in out and "  - /etc/os" in out
    with pytest.raises(OCIError, match="unknown change 'Bogus'"):
        images.commit("base:1", io.BytesIO(upper), {"Bogus": 1}, "x:1")
    with pytest.raises(OCIError, match="absolute path"):
        images.commit("base:1", io.BytesIO(tar_bytes([("/etc/passwd", "file", b"")])), {},
                      "x:1")


def test_the_runtime_api(tmp_path, capsys):
    base, child = base_and_child(capsys, tmp_path)
    img = images.open_image("child:1").check_platform()
    assert img.runconfig["Cmd"] == ["/bin/app"]
    tars = list(img.open_layers())
    assert len(tars) == 3 and all(t.read(512)[257:262] == b"ustar" for t in tars)
    for t in tars:
        t.close()
    assert images.open_image(child.id[7:19]).digest == child.digest    # by id prefix
    assert images.open_image(child.digest).digest == child.digest      # by digest


def test_import_makes_a_one_layer_image(tmp_path, capsys):
    import gzip
    rootfs = tmp_path / "rootfs.tar.gz"
    rootfs.write_bytes(gzip.compress(tar_bytes([("bin", "dir", None),
                                                ("bin/sh", "file", b"\x7fELF", {"mode": 0o755})])))
    status, out, err = hv(capsys, "image", "import", rootfs, "imported:1", "-c",
                          'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-m", "from a tar")
    assert status == 0, err
    img = images.open_image("imported:1")
    assert out.strip() == img.digest and len(img.layers) == 1
    assert img.runconfig == {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]}
    assert img.config["history"][0]["comment"] == "from a tar"
    status, _, err = hv(capsys, "image", "import", rootfs, "x:1", "-c", "COPY a /")
    assert status == 1 and "only config instructions" in err
    status, _, err = hv(capsys, "image", "import", tmp_path, "x:1")      # a directory
    assert status == 1 and "is a directory" in err and len(err.splitlines()) == 1


def test_a_store_path_that_is_not_a_layout_is_refused(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    status, _, err = hv(capsys, "image", "ls", "--store", tmp_path / "notes")
    assert status == 1 and "is not an OCI image layout" in err


@pytest.mark.parametrize("text, domain, path, tag, digest", [
    ("busybox", None, "busybox", "latest", None),
    ("busybox:1.35", None, "busybox", "1.35", None),
    ("127.0.0.1:5000/demo/app:v2", "127.0.0.1:5000", "demo/app", "v2", None),
    ("localhost/x", "localhost", "x", "latest", None),
    ("reg.example.org/a_b/c-d@sha256:" + "a" * 64, "reg.example.org", "a_b/c-d", None,
     "sha256:" + "a" * 64),
])
def test_references(text, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)


@pytest.mark.parametrize("text", ["UPPER:1", "a:", "a//b", "-a", "a:" + "x" * 200,
                                  "a@sha256:1234", "a@md5:" + "0" * 32, ""])
def test_bad_references(text):
    with pytest.raises(OCIError):
        parse(text)
