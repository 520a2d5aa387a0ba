"""`hv image save` / `hv image load`: OCI layout tars read back by skopeo and hvlab, Docker's
`docker save` format (as skopeo's docker-archive writes it) loaded with the same digests."""
import hashlib
import json
import shutil
import subprocess
import tarfile

import pytest

from hypervisor import images
from oci_helpers import _own_store, hv, make_context  # noqa: F401

SKOPEO = shutil.which("skopeo")
need_skopeo = pytest.mark.skipif(not SKOPEO, reason="skopeo is not installed "
                                 "(apt-get install skopeo)")


def two_images(capsys, tmp_path):
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b"FROM scratch\nCOPY a /a\nCMD [\"/a\"]\n", "Child": b"FROM one:1\n"
        b"COPY b /b\n", "a": b"alpha" * 1000, "b": b"beta"})
    assert hv(capsys, "image", "build", "-t", "one:1", ctx)[0] == 0
    assert hv(capsys, "image", "build", "-f", ctx / "Child", "-t", "two:1", ctx)[0] == 0
    return images.open_image("one:1"), images.open_image("two:1")


def test_save_then_load_on_another_host(tmp_path, capsys):
    one, two = two_images(capsys, tmp_path)
    out = tmp_path / "images.tar"
    status, stdout, err = hv(capsys, "image", "save", "one:1", "two:1", "-o", out)
    assert status == 0 and "saved 2 images" in stdout
    with tarfile.open(out) as tf:
        names = tf.getnames()
        assert {"oci-layout", "index.json", "manifest.json"} <= set(names)
        index = json.load(tf.extractfile("index.json"))
        docker = json.load(tf.extractfile("manifest.json"))
        for m in tf.getmembers():
            if m.isreg() and m.name.startswith("blobs/sha256/"):
                data = tf.extractfile(m).read()
                assert hashlib.sha256(data).hexdigest() == m.name.rsplit("/", 1)[1]
    assert len([n for n in names if n.startswith("blobs/sha256/")]) == 6    # shared once
    assert [d["annotations"]["org.opencontainers.image.ref.name"] for d in
            index["manifests"]] == ["one:1", "two:1"]
    assert [e["RepoTags"] for e in docker] == [["one:1"], ["two:1"]]
    assert all(f"blobs/sha256/{e['Config'][13:]}" == e["Config"] for e in docker)
    status, stdout, err = hv(capsys, "image", "load", "-i", out, "--store", tmp_path / "h2")
    assert status == 0, err
    assert stdout.count("Loaded image:") == 2
    for img in (one, two):
        other = images.open_image(img.names[0], tmp_path / "h2")
        assert (other.digest, other.id, other.layers) == (img.digest, img.id, img.layers)
    # the archive is reproducible: saving again gives the same bytes
    again = tmp_path / "again.tar"
    assert hv(capsys, "image", "save", "one:1", "two:1", "-o", again)[0] == 0
    assert again.read_bytes() == out.read_bytes()


@need_skopeo
def test_skopeo_reads_the_saved_archive_both_ways(tmp_path, capsys):
    one, _ = two_images(capsys, tmp_path)
    out = tmp_path / "one.tar"
    assert hv(capsys, "image", "save", "one:1", "-o", out)[0] == 0
    as_oci = json.loads(subprocess.check_output([SKOPEO, "inspect",
                                                 f"oci-archive:{out}:one:1"]))
    assert as_oci["Digest"] == one.digest
    as_docker = json.loads(subprocess.check_output([SKOPEO, "inspect", "--config",
                                                    f"docker-archive:{out}"]))
    assert as_docker == one.config          # Docker's manifest.json names the same config


@need_skopeo
def test_load_docker_save_format(tmp_path, capsys):
    one, _ = two_images(capsys, tmp_path)
    archive = tmp_path / "docker.tar"
    subprocess.run([SKOPEO, "copy", f"oci:{tmp_path / 'store'}:one:1",
                    f"docker-archive:{archive}:course/one:1"], check=True, capture_output=True)
    with tarfile.open(archive) as tf:       # the classic layout: <id>/layer.tar, repositories
        names = tf.getnames()
    assert "repositories" in names and any(n.endswith("/layer.tar") for n in names)
    assert "index.json" not in names
    status, stdout, err = hv(capsys, "image", "load", "-i", archive, "--store", tmp_path / "h2")
    assert status == 0, err
    loaded = images.open_image("course/one:1", tmp_path / "h2")
    assert loaded.id == one.id and loaded.diff_ids == one.diff_ids
    assert loaded.digest == one.digest      # hvlab's gzip is reproducible: same layer blobs


def test_load_rejects_what_is_not_an_image_archive(tmp_path, capsys):
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w") as tf:
        tf.add(__file__, "hello.py")
    status, _, err = hv(capsys, "image", "load", "-i", junk)
    assert status == 1 and "neither an OCI layout" in err
    (tmp_path / "text").write_text("hello")
    status, _, err = hv(capsys, "image", "load", "-i", tmp_path / "text")
    assert status == 1 and "not a readable tar archive" in err
    status, _, err = hv(capsys, "image", "save", "nothere:1", "-o", tmp_path / "x.tar")
    assert status == 1 and "no image 'nothere:1'" in err
