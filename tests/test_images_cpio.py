"""The initramfs packer: an image's union view as a newc cpio, read back by GNU cpio (`cpio -t`
lists it, `cpio -i` extracts it to the same tree as the union view and as umoci's unpack)."""
import hashlib
import io
import os
import shutil
import stat
import subprocess

import pytest

from hypervisor import images
from hypervisor.images.cpio import header
from hypervisor.images.union import view
from oci_helpers import _own_store, hv, tar_bytes  # noqa: F401

CPIO = shutil.which("cpio")
need_cpio = pytest.mark.skipif(not CPIO, reason="GNU cpio is not installed "
                               "(apt-get install cpio)")


def image(capsys, tmp_path):
    base = tmp_path / "rootfs.tar"
    base.write_bytes(tar_bytes([
        ("bin", "dir", None), ("bin/busybox", "file", b"\x7fELF" + os.urandom(3001),
                               {"mode": 0o755, "mtime": 1234567}),
        ("bin/sh", "hardlink", "bin/busybox"), ("bin/ls", "hardlink", "bin/busybox"),
        ("init", "symlink", "bin/busybox"), ("etc", "dir", None),
        ("etc/inittab", "file", b"::sysinit:/etc/rc\n", {"uid": 5, "gid": 6}),
        ("etc/gone", "file", b"x"), ("tmp", "dir", None, {"mode": 0o1777}),
        ("dev", "dir", None), ("dev/console", "chr", None), ("run", "fifo", None),
        ("empty", "file", b"")]))
    assert hv(capsys, "image", "import", base, "initrd:0")[0] == 0
    return images.commit("initrd:0", io.BytesIO(tar_bytes([("etc/.wh.gone", "file", b"")])),
                         {}, "initrd:1")


def listing(u):
    return sorted(p for p, _ in u.walk())


@need_cpio
def test_gnu_cpio_lists_and_extracts_the_union_view(tmp_path, capsys):
    img = image(capsys, tmp_path)
    out = tmp_path / "initrd.cpio"
    status, stdout, err = hv(capsys, "image", "initramfs", "initrd:1", "-o", out)
    assert status == 0, err
    names = subprocess.run([CPIO, "-t", "--quiet"], stdin=open(out, "rb"),
                           capture_output=True, text=True, check=True).stdout.split()
    with view(img) as u:
        assert sorted(names) == listing(u)
        assert "etc/gone" not in names and "dev/console" not in names
        dest = tmp_path / "x"
        dest.mkdir()
        subprocess.run([CPIO, "-i", "-d", "-m", "--quiet", "--no-absolute-filenames"],
                       stdin=open(out, "rb"), cwd=dest, check=True)
        inodes = {}
        for path, node in u.walk():
            st = os.lstat(dest / path)
            kind = {"dir": stat.S_ISDIR, "file": stat.S_ISREG, "symlink": stat.S_ISLNK,
                    "fifo": stat.S_ISFIFO}[node.kind]
            assert kind(st.st_mode), path
            if node.kind != "symlink":
                assert stat.S_IMODE(st.st_mode) == node.mode, path
            assert (st.st_uid, st.st_gid) == (node.uid, node.gid), path
            if node.kind == "file":
                assert (dest / path).read_bytes() == u.read(node), path
                assert int(st.st_mtime) == node.mtime, path
                inodes.setdefault(st.st_ino, set()).add(path)
            if node.kind == "symlink":
                assert os.readlink(dest / path) == node.link
        assert {"bin/busybox", "bin/sh", "bin/ls"} in inodes.values()   # links kept


def test_the_format_by_hand(tmp_path, capsys):
    """newc per the kernel's buffer-format.rst, derived by hand for one file."""
    h = header(1, 0o100644, 0, 0, 1, 0x5F5E100, 5, b"a")
    assert h == (b"070701" + b"00000001" + b"000081A4" + b"00000000" * 2 + b"00000001"
                 + b"05F5E100" + b"00000005" + b"00000000" * 4 + b"00000002" + b"00000000"
                 + b"a\0")
    assert len(h) % 4 == 0
    img = image(capsys, tmp_path)
    out = tmp_path / "i.cpio"
    assert hv(capsys, "image", "initramfs", "initrd:1", "-o", out)[0] == 0
    data = out.read_bytes()
    assert data.endswith(b"TRAILER!!!\0" + b"\0" * (-(110 + 11) % 4))
    assert len(data) % 4 == 0
    # reproducible: the same image packs to the same bytes
    again = tmp_path / "j.cpio"
    assert hv(capsys, "image", "initramfs", "initrd:1", "-o", again)[0] == 0
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert img.digest
