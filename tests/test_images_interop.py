"""hvlab's images as the standard tools see them: skopeo inspects and copies them (to the
registry and back), umoci unpacks them to the same root file system as hvlab's union view,
and images made by umoci and skopeo are accepted by hvlab."""
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from hypervisor import images
from hypervisor.images.union import view
from oci_helpers import _own_store, hv, make_context, registry, tar_bytes  # noqa: F401

SKOPEO, UMOCI = shutil.which("skopeo"), shutil.which("umoci")
need_skopeo = pytest.mark.skipif(not SKOPEO, reason="skopeo is not installed "
                                 "(apt-get install skopeo)")
need_umoci = pytest.mark.skipif(not UMOCI, reason="umoci is not installed "
                                "(apt-get install umoci)")


def run(*argv):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{argv}: {p.stderr}"
    return p.stdout


def built(capsys, tmp_path, tag="demo:1"):
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b"FROM scratch\nCOPY bin/ /bin/\nENV PATH=/bin\n"
                     b"LABEL org.hvlab.lab=images\nCMD [\"/bin/hello\"]\n",
        "bin/hello": ("mode", b"#!/bin/sh\necho hi\n", 0o755), "bin/hi": ("symlink", "hello")})
    assert hv(capsys, "image", "build", "-t", tag, ctx)[0] == 0
    return images.open_image(tag)


def tricky(capsys, tmp_path):
    """An image whose layers exercise every rule of layer.md's changesets."""
    base = tmp_path / "base.tar"
    base.write_bytes(tar_bytes([
        ("etc", "dir", None), ("etc/passwd", "file", b"root:x:0:0\n", {"mode": 0o644}),
        ("etc/motd", "file", b"welcome\n"), ("var", "dir", None),
        ("var/cache", "dir", None), ("var/cache/a", "file", b"a"),
        ("var/cache/sub", "dir", None), ("var/cache/sub/b", "file", b"b"),
        ("usr", "dir", None), ("usr/bin", "dir", None),
        ("usr/bin/busybox", "file", b"\x7fELF" + bytes(100), {"mode": 0o755}),
        ("usr/bin/sh", "hardlink", "usr/bin/busybox"), ("bin", "symlink", "usr/bin"),
        ("opt", "file", b"a file that becomes a directory"),
        ("srv", "dir", None), ("srv/x", "file", b"x"),
        ("home", "dir", None, {"mode": 0o700, "uid": 1000, "gid": 100}),
        ("home/notes", "file", b"n", {"uid": 1000, "gid": 100, "mode": 0o600}),
        ("tmp", "dir", None, {"mode": 0o1777})]))
    assert hv(capsys, "image", "import", base, "tricky:0")[0] == 0
    upper = tar_bytes([
        ("etc", "dir", None), ("etc/.wh.motd", "file", b""),            # a whiteout
        ("etc/passwd", "file", b"root:x:0:0\nuser:x:1000:100\n"),        # a change
        ("var", "dir", None), ("var/cache", "dir", None),
        ("var/cache/.wh..wh..opq", "file", b""),                         # opaque directory
        ("var/cache/fresh", "file", b"f"),
        ("bin/ls", "hardlink", "usr/bin/busybox"),                       # through a symlink
        ("opt", "dir", None), ("opt/tool", "file", b"t"),               # file -> directory
        ("srv", "file", b"directory -> file"),                           # directory -> file
        ("lib", "symlink", "usr/lib"), ("run", "fifo", None)])
    return images.commit("tricky:0", io.BytesIO(upper), {}, "tricky:1", "tricky layer")


def tree_of_disk(root):
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            kind = ("dir" if stat.S_ISDIR(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode)
                    else "fifo" if stat.S_ISFIFO(st.st_mode) else "file")
            entry = [kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            if kind == "symlink":
                entry.append(os.readlink(full))
            elif kind == "file":
                with open(full, "rb") as f:
                    entry.append(hashlib.sha256(f.read()).hexdigest())
                inodes.setdefault(st.st_ino, []).append(rel)
            if kind != "dir":
                entry.append(int(st.st_mtime))
            out[rel] = entry
    links = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
    return out, links


def tree_of_union(img):
    out, nodes = {}, {}
    with view(img) as u:
        for path, n in u.walk():
            entry = [n.kind, n.mode if n.kind != "symlink" else 0o777, n.uid, n.gid]
            if n.kind == "symlink":
                entry.append(n.link)
            elif n.kind == "file":
                entry.append(u.digest(n))
                nodes.setdefault(id(n), []).append(path)
            if n.kind != "dir":
                entry.append(n.mtime)
            out[path] = entry
    links = sorted(sorted(v) for v in nodes.values() if len(v) > 1)
    return out, links


@need_skopeo
def test_skopeo_inspects_the_store(tmp_path, capsys):
    img = built(capsys, tmp_path)
    store = tmp_path / "store"
    info = json.loads(run(SKOPEO, "inspect", f"oci:{store}:demo:1"))
    assert info["Digest"] == img.digest
    assert (info["Architecture"], info["Os"]) == ("riscv32", "linux")
    assert info["Layers"] == [d["digest"] for d in img.layers]
    assert info["Env"] == ["PATH=/bin"] and info["Labels"] == {"org.hvlab.lab": "images"}
    config = json.loads(run(SKOPEO, "inspect", "--config", f"oci:{store}:demo:1"))
    assert config == img.config
    raw = run(SKOPEO, "inspect", "--raw", f"oci:{store}:demo:1").encode()
    assert hashlib.sha256(raw).hexdigest() == img.digest[7:]


@need_skopeo
def test_skopeo_copies_to_the_registry_and_back(tmp_path, capsys, registry):
    img = built(capsys, tmp_path)
    store = tmp_path / "store"
    dest = f"{registry.host}/skopeo/demo:1"
    run(SKOPEO, "copy", "--dest-tls-verify=false", f"oci:{store}:demo:1", f"docker://{dest}")
    status, out, err = hv(capsys, "pull", dest, "--insecure", "--store", tmp_path / "h2")
    assert status == 0, err
    assert out.strip() == img.digest                    # skopeo kept the manifest's bytes
    # and the other way: hv push, skopeo pulls into a layout, hvlab reads that layout
    mine = f"{registry.host}/hv/demo:2"
    assert hv(capsys, "image", "tag", "demo:1", mine)[0] == 0
    assert hv(capsys, "push", mine, "--insecure")[0] == 0
    run(SKOPEO, "copy", "--src-tls-verify=false", f"docker://{mine}",
        f"oci:{tmp_path / 'skopeo-layout'}:demo:2")
    other = images.open_image("demo:2", tmp_path / "skopeo-layout")
    assert other.digest == img.digest and other.diff_ids == img.diff_ids
    assert hv(capsys, "image", "check", "--store", tmp_path / "skopeo-layout")[0] == 0


@need_umoci
def test_umoci_unpacks_the_same_root_file_system_as_the_union_view(tmp_path, capsys):
    img = tricky(capsys, tmp_path)
    bundle = tmp_path / "bundle"
    run(UMOCI, "unpack", "--image", f"{tmp_path / 'store'}:tricky:1", bundle)
    disk, disk_links = tree_of_disk(bundle / "rootfs")
    mine, my_links = tree_of_union(img)
    assert mine == disk
    assert my_links == disk_links == [["usr/bin/busybox", "usr/bin/ls", "usr/bin/sh"]]
    # the rules, as both see them
    assert "etc/motd" not in mine and "var/cache/a" not in mine and "var/cache/fresh" in mine
    assert mine["opt"][0] == "dir" and mine["srv"][0] == "file" and "srv/x" not in mine
    assert mine["tmp"][1] == 0o1777 and mine["home"][1:4] == [0o700, 1000, 100]


@need_umoci
@need_skopeo
def test_an_image_built_by_umoci_is_accepted(tmp_path, capsys):
    layout = tmp_path / "umoci-layout"
    run(UMOCI, "init", "--layout", layout)
    run(UMOCI, "new", "--image", f"{layout}:base")
    run(UMOCI, "config", "--image", f"{layout}:base", "--architecture", "riscv32",
        "--config.cmd", "/bin/hello", "--config.env", "GREETING=hi")
    bundle = tmp_path / "b"
    run(UMOCI, "unpack", "--image", f"{layout}:base", bundle)
    os.makedirs(bundle / "rootfs" / "bin")
    (bundle / "rootfs" / "bin" / "hello").write_bytes(b"\x7fELF hello")
    os.chmod(bundle / "rootfs" / "bin" / "hello", 0o755)
    run(UMOCI, "repack", "--image", f"{layout}:base", bundle)
    # copied into hvlab's store by skopeo, and as an oci-archive through hv image load
    run(SKOPEO, "copy", f"oci:{layout}:base", f"oci:{tmp_path / 'store'}:umoci:1")
    run(SKOPEO, "copy", f"oci:{layout}:base", f"oci-archive:{tmp_path / 'u.tar'}:umoci:2")
    status, out, err = hv(capsys, "image", "load", "-i", tmp_path / "u.tar")
    assert status == 0, err
    for ref in ("umoci:1", "umoci:2"):
        img = images.open_image(ref).check_platform()
        assert img.runconfig["Cmd"] == ["/bin/hello"] and "GREETING=hi" in img.runconfig["Env"]
        with view(img) as u:
            assert u.read(u.get("bin/hello")) == b"\x7fELF hello"
    assert images.open_image("umoci:1").digest == images.open_image("umoci:2").digest
    assert hv(capsys, "image", "check")[0] == 0


@need_umoci
@need_skopeo
def test_an_image_built_by_umoci_runs_as_a_container(tmp_path):
    """umoci makes the image (its layer tar, config and manifest), skopeo copies it into
    hvlab's store, and hvlab's runtime runs it: the config's Entrypoint, Cmd, Env and
    WorkingDir decide what runs where, as a Docker runtime would (OCI image spec, config.md:
    Entrypoint + Cmd; Env; WorkingDir)."""
    from hypervisor.engine import Engine
    from hypervisor.kernel.imageref import resolve
    from hypervisor.kernel.runtime import run as run_container
    layout = tmp_path / "umoci-layout"
    run(UMOCI, "init", "--layout", layout)
    run(UMOCI, "new", "--image", f"{layout}:base")
    run(UMOCI, "config", "--image", f"{layout}:base", "--architecture", "riscv32",
        "--config.entrypoint", "/bin/tool", "--config.cmd", "cat",
        "--config.cmd", "greeting", "--config.workingdir", "/srv")
    bundle = tmp_path / "b"
    run(UMOCI, "unpack", "--image", f"{layout}:base", bundle)
    root = bundle / "rootfs"
    os.makedirs(root / "bin")
    os.makedirs(root / "srv")
    tool = Path(__file__).resolve().parent.parent / "guests" / "containers" / "tool"
    shutil.copy(tool, root / "bin" / "tool")
    os.chmod(root / "bin" / "tool", 0o755)
    (root / "srv" / "greeting").write_text("made by umoci\n")
    run(UMOCI, "repack", "--image", f"{layout}:base", bundle)
    run(SKOPEO, "copy", f"oci:{layout}:base", f"oci:{tmp_path / 'store'}:umoci:run")
    engine = Engine(host_mem=64 << 20)
    try:
        c = run_container(engine, resolve("umoci:run"))      # as `hv container run` does
        assert engine.wait(timeout=60, vms=[c]), c.outcome
        # the relative path resolves in WorkingDir; the tool prints "PATH: CONTENT"
        assert c.console.text() == "greeting: made by umoci\n\n" and c.exit_code == 0
    finally:
        engine.shutdown()


@need_skopeo
def test_docker_v2_manifests_from_a_registry_are_accepted(tmp_path, capsys, registry):
    img = built(capsys, tmp_path)
    dest = f"{registry.host}/v2s2/demo:1"
    run(SKOPEO, "copy", "--format", "v2s2", "--dest-tls-verify=false",
        f"oci:{tmp_path / 'store'}:demo:1", f"docker://{dest}")
    status, out, err = hv(capsys, "pull", dest, "--insecure", "--store", tmp_path / "h2")
    assert status == 0, err
    other = images.open_image(dest, tmp_path / "h2")
    assert other.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert {d["mediaType"] for d in other.layers} == {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"}
    assert other.diff_ids == img.diff_ids             # the same file system, another format
    assert tree_of_union(other) == tree_of_union(img)
