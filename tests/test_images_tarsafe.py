"""Bad input: hostile layer tars (each refused or stripped with the entry named), tar and
decompression bombs stopped by limits, digest mismatches with nothing stored, and images
for another architecture refused when run."""
import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from hypervisor import images
from hypervisor.images.errors import OCIError
from hypervisor.images.image import new_config, write
from hypervisor.images.layers import store_layer
from hypervisor.images.union import view
from oci_helpers import _own_store, hv, make_context, tar_bytes  # noqa: F401


def import_layer(tmp_path, capsys, entries, name="bad:1"):
    path = tmp_path / "layer.tar"
    path.write_bytes(tar_bytes(entries) if isinstance(entries, list) else entries)
    return hv(capsys, "image", "import", path, name)


def stored_blobs(tmp_path):
    d = tmp_path / "store" / "blobs" / "sha256"
    return sorted(os.listdir(d)) if d.exists() else []


@pytest.mark.parametrize("entries, message", [
    ([("/etc/passwd", "file", b"root::0:0")], "entry '/etc/passwd' refused: absolute path"),
    ([("a/../../etc/passwd", "file", b"x")], "entry 'a/../../etc/passwd' refused: '..' in "
     "the path"),
    ([("bin", "dir", None), ("bin/up", "symlink", "../../../etc")],
     "entry 'bin/up' refused: symlink to '../../../etc' escapes the root"),
    ([("f", "file", b"x"), ("g", "hardlink", "/etc/shadow")],
     "entry 'g' refused: hard link to '/etc/shadow' outside the root"),
    ([("g", "hardlink", "../x")], "entry 'g' refused: hard link to '../x' outside the root"),
    ([("d/.wh..wh.plnk", "file", b"")], "entry 'd/.wh..wh.plnk' refused: unknown whiteout"),
    ([("x" * 5000, "file", b"")], "refused: name longer than 4096 bytes"),
])
def test_hostile_entries_are_refused_and_nothing_is_stored(tmp_path, capsys, entries,
                                                           message):
    status, out, err = import_layer(tmp_path, capsys, entries)
    assert status == 1
    assert message in err and err.count("\n") == 1, err
    assert stored_blobs(tmp_path) == []


def test_devices_setuid_and_capabilities_are_stripped(tmp_path, capsys):
    status, out, err = import_layer(tmp_path, capsys, [
        ("dev", "dir", None), ("dev/sda", "blk", None), ("dev/mem", "chr", None),
        ("bin", "dir", None), ("bin/su", "file", b"su", {"mode": 0o4755}),
        ("bin/ping", "file", b"ping", {"pax": {"SCHILY.xattr.security.capability": "x"}}),
        ("run/fifo", "fifo", None), ("etc/ok", "symlink", "/etc/elsewhere")], "strip:1")
    assert status == 0, err
    with view(images.open_image("strip:1")) as u:
        assert u.get("dev").kind == "dir" and u.get("dev/sda") is None
        assert u.get("dev/mem") is None
        assert u.get("bin/su").mode == 0o755
        assert "security.capability" not in u.get("bin/ping").xattrs
        assert u.get("run/fifo").kind == "fifo"
        assert u.get("etc/ok").link == "/etc/elsewhere"     # absolute: resolved in the root
    tar = next(images.open_image("strip:1").open_layers())
    with tarfile.open(fileobj=tar) as tf:
        names = tf.getnames()
        assert "dev/sda" not in names and tf.getmember("bin/su").mode == 0o755


def test_a_layer_can_redirect_nothing_outside_the_root(tmp_path, capsys):
    # an absolute symlink, then a file "through" it: lands inside the root, as in umoci
    status, out, err = import_layer(tmp_path, capsys, [
        ("etc", "symlink", "/"), ("etc/passwd", "file", b"evil")], "through:1")
    assert status == 0, err
    with view(images.open_image("through:1")) as u:
        assert u.read(u.get("passwd")) == b"evil" and u.get("etc").kind == "symlink"


def test_size_and_count_limits_stop_tar_bombs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HV_IMAGE_MAX_ENTRY", "1K")
    status, _, err = import_layer(tmp_path, capsys, [("big", "file", b"x" * 2048)])
    assert status == 1 and "entry 'big' refused: 2.0 kB, past the limit of 1.0 kB" in err
    monkeypatch.setenv("HV_IMAGE_MAX_ENTRIES", "100")
    status, _, err = import_layer(tmp_path, capsys,
                                  [(f"f{i}", "file", b"") for i in range(101)])
    assert status == 1 and "entry 'f100' refused: more than 100 entries (a tar bomb?)" in err
    monkeypatch.setenv("HV_IMAGE_MAX_LAYER", "1M")
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(tar_bytes([("zeros", "file", bytes(8 << 20))]), 9))
    assert bomb.stat().st_size < 20_000
    status, _, err = hv(capsys, "image", "import", bomb, "bomb:1")
    assert status == 1 and "expands past the limit of 1.0 MB (a decompression bomb?)" in err
    assert stored_blobs(tmp_path) == []


def test_garbage_layers(tmp_path, capsys):
    status, _, err = import_layer(tmp_path, capsys, b"this is not a tar archive" * 40)
    assert status == 1 and "not a valid tar archive" in err
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(gzip.compress(tar_bytes([("f", "file", b"x" * 1000)]))[:-20])
    status, _, err = hv(capsys, "image", "import", path, "b:1")
    assert status == 1 and "corrupt gzip data" in err


def _saved(tmp_path, capsys):
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM scratch\nCOPY f /f\n",
                                          "f": b"payload " * 100})
    assert hv(capsys, "image", "build", "-t", "s:1", ctx, "--store", tmp_path / "src")[0] == 0
    assert hv(capsys, "image", "save", "s:1", "-o", tmp_path / "s.tar", "--store",
              tmp_path / "src")[0] == 0
    return images.open_image("s:1", tmp_path / "src")


def _rewrite(src, dst, change):
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isreg() else None
            data = change(m.name, data)
            if data is not None:
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)


def test_load_refuses_a_digest_mismatch_and_stores_nothing(tmp_path, capsys):
    img = _saved(tmp_path, capsys)
    layer = f"blobs/sha256/{img.layers[0]['digest'][7:]}"
    other = gzip.compress(tar_bytes([("f", "file", b"tampered")]), mtime=0)

    def swap(name, data):
        return other if name == layer else data
    _rewrite(tmp_path / "s.tar", tmp_path / "bad.tar", swap)
    status, out, err = hv(capsys, "image", "load", "-i", tmp_path / "bad.tar")
    assert status == 1 and "digest mismatch" in err and img.layers[0]["digest"] in err
    assert stored_blobs(tmp_path) == [] and hv(capsys, "image", "ls", "-q")[1] == ""


def test_load_refuses_a_layer_that_is_not_its_diff_id(tmp_path, capsys):
    """A consistent manifest whose config lies about the uncompressed layer (diff_id)."""
    src = images.open_store(tmp_path / "src")
    layer, _ = store_layer(src, io.BytesIO(tar_bytes([("f", "file", b"evil")])))
    config = new_config("2024-01-01T00:00:00Z")
    claimed = "sha256:" + hashlib.sha256(tar_bytes([("f", "file", b"good")])).hexdigest()
    config["rootfs"]["diff_ids"] = [claimed]
    write(src, config, [layer], "liar:1")
    assert hv(capsys, "image", "save", "liar:1", "-o", tmp_path / "l.tar", "--store",
              tmp_path / "src")[0] == 0
    status, _, err = hv(capsys, "image", "load", "-i", tmp_path / "l.tar")
    assert status == 1 and "digest mismatch" in err and "its diff_id" in err
    assert f"expected {claimed}" in err
    assert stored_blobs(tmp_path) == []


def test_an_image_for_another_architecture_is_refused_when_run(tmp_path):
    store = images.open_store()
    layer, diff_id = store_layer(store, io.BytesIO(tar_bytes([("f", "file", b"x")])))
    config = new_config("2024-01-01T00:00:00Z")
    config["architecture"] = "amd64"
    config["rootfs"]["diff_ids"] = [diff_id]
    write(store, config, [layer], "x86:1")
    img = images.open_image("x86:1")            # stored and inspectable...
    with pytest.raises(OCIError, match="image x86:1 is for linux/amd64; hvlab runs "
                                       "linux/riscv32 images"):
        img.check_platform()                    # ...but not run


def test_a_manifest_that_is_not_json_is_one_line(tmp_path, capsys):
    store = images.open_store()
    digest = store.put_blob(b"<html>not a manifest</html>")
    store.tag("junk:1", {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "digest": digest, "size": 27})
    status, _, err = hv(capsys, "image", "inspect", "junk:1")
    assert status == 1 and "not JSON" in err and err.count("\n") == 1
    status, out, err = hv(capsys, "image", "ls")
    assert status == 0 and "junk:1" in err and "warning" in err
    json.dumps(out)
