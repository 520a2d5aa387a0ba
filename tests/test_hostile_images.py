"""Hostile OCI input, beyond test_images_tarsafe.py (a hostile-input review, helpers' stream
`review`): whiteouts of `.` and `..`, archives whose index lies about a blob (its size, its
type, its very form), truncated archives.  Each: one line, status 1, nothing stored."""
import io
import json
import tarfile

import pytest

from test_images_tarsafe import _rewrite, _saved, import_layer, stored_blobs
from oci_helpers import _own_store, hv  # noqa: F401


@pytest.mark.parametrize("entries, message", [
    # union.py resolved `d/.wh..` to d itself and deleted the directory holding the whiteout
    # (`hv image tree` showed "- /d"); `.wh...` names the parent.  layer.md: a whiteout names
    # an entry in its directory; neither is one, so the layer is refused
    ([("d", "dir", None), ("d/x", "file", b"x"), ("d/.wh..", "file", b"")],
     "entry 'd/.wh..' refused: whiteout of '.'"),
    ([("d", "dir", None), ("d/.wh...", "file", b"")], "entry 'd/.wh...' refused: whiteout "
     "of '..'"),
    ([(".wh...", "file", b"")], "entry '.wh...' refused: whiteout of '..'"),
])
def test_whiteouts_of_dot_and_dotdot_are_refused(tmp_path, capsys, entries, message):
    status, out, err = import_layer(tmp_path, capsys, entries)
    assert status == 1 and message in err and err.count("\n") == 1, err
    assert stored_blobs(tmp_path) == []


def test_layer_oddities_are_one_line_when_used(tmp_path, capsys):
    # duplicates: the last entry wins, as tar(1) and umoci extract
    assert import_layer(tmp_path, capsys, [("f", "file", b"a"), ("f", "file", b"bb")],
                        "dup:1")[0] == 0
    from hypervisor import images
    from hypervisor.images.union import view
    with view(images.open_image("dup:1")) as u:
        assert u.read(u.get("f")) == b"bb"
    # a symlink loop with a file "under" it, a hard link to nothing: stored (a hard link may
    # name a lower layer's file), and a clear line where the tree is built
    for name, entries, message in (
            ("loop:1", [("a", "symlink", "b"), ("b", "symlink", "a"), ("a/x", "file", b"")],
             "too many levels of symbolic links"),
            ("hl:1", [("g", "hardlink", "nope")], "hard link 'g' to 'nope'")):
        assert import_layer(tmp_path, capsys, entries, name)[0] == 0
        status, _, err = hv(capsys, "image", "tree", name)
        assert status == 1 and message in err and err.count("\n") == 1, err


def _index_lies(tmp_path, capsys, change):
    _saved(tmp_path, capsys)

    def edit(name, data):
        if name != "index.json":
            return data
        index = json.loads(data)
        change(index["manifests"][0])
        return json.dumps(index).encode()
    _rewrite(tmp_path / "s.tar", tmp_path / "bad.tar", edit)
    return hv(capsys, "image", "load", "-i", tmp_path / "bad.tar")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(size=d["size"] + 1), "its descriptor says"),
    (lambda d: d.update(size=d["size"] - 1), "its descriptor says"),
    (lambda d: d.update(size=10 ** 15), "its descriptor says"),
    (lambda d: d.update(size=-1), "size"),
    (lambda d: d.update(size="12"), "size"),
    (lambda d: d.update(digest="sha256:" + "0" * 64), "0" * 64 + " is missing"),
    (lambda d: d.update(digest="md5:abc"), "digest"),
    # was loaded as a manifest and tagged with the unknown type
    (lambda d: d.update(mediaType="application/x-unknown"), "'application/x-unknown', not an "
     "image manifest or index"),
    (lambda d: d.pop("digest"), "digest"),
])
def test_an_index_that_lies_is_one_line_and_stores_nothing(tmp_path, capsys, change, message):
    status, out, err = _index_lies(tmp_path, capsys, change)
    assert status == 1 and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err and stored_blobs(tmp_path) == []


@pytest.mark.parametrize("cut", [100, 1000, 0.5, -50])
def test_a_truncated_archive_is_one_line(tmp_path, capsys, cut):
    # (the tar's trailing zero blocks are padding: cutting only them loses nothing, as GNU tar
    # agrees, so the cuts are inside the data; -50: 50 bytes before the last non-zero byte)
    _saved(tmp_path, capsys)
    data = (tmp_path / "s.tar").read_bytes()
    end = len(data.rstrip(b"\0"))
    at = {0.5: end // 2, -50: end - 50}.get(cut, cut)
    (tmp_path / "cut.tar").write_bytes(data[:at])
    status, out, err = hv(capsys, "image", "load", "-i", tmp_path / "cut.tar")
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert stored_blobs(tmp_path) == []


def test_load_of_a_directory_or_an_empty_file_is_one_line(tmp_path, capsys):
    (tmp_path / "empty.tar").write_bytes(b"")
    for path in (tmp_path, tmp_path / "empty.tar"):
        status, out, err = hv(capsys, "image", "load", "-i", path)
        assert status == 1 and err.count("\n") == 1, err
