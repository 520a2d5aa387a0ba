"""`hv image build`: each Buildfile instruction, the step cache, reproducible digests, RUN
without the container runtime, Buildfile errors.  Expected values are derived by hand from
Docker's documented semantics; the interop tests compare the same images with umoci/skopeo."""
import gzip
import io
import os
import tarfile

import pytest

from hypervisor import images
from hypervisor.images.union import view
from oci_helpers import _own_store, hv, make_context, tar_bytes  # noqa: F401

BUILDFILE = """\
# a comment
FROM scratch
COPY bin/ /bin/
ENV PATH=/bin GREETING="hello world"
ENV HOME /root
COPY etc/app.conf /etc/
WORKDIR /srv/app
COPY --chmod=600 --chown=1000:1000 secret ./
LABEL org.example.course="os-101" \\
      org.example.lab=images
USER 1000:1000
EXPOSE 8080 53/udp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/hello"]
CMD ["--loud"]
"""


def context(tmp_path, name="ctx"):
    return make_context(tmp_path / name, {
        "Buildfile": BUILDFILE.encode(),
        "bin/hello": ("mode", b"#!/bin/sh\necho hello\n", 0o775),
        "bin/hi": ("symlink", "hello"),
        "etc/app.conf": b"level=3\n",
        "secret": b"s3cret\n",
        "notes.txt": b"not copied\n",
    })


def blobs(tmp_path):
    d = tmp_path / "store" / "blobs" / "sha256"
    return set(os.listdir(d)) if d.exists() else set()


def test_every_instruction_lands_in_the_config_and_layers(tmp_path, capsys):
    status, out, err = hv(capsys, "image", "build", "-t", "demo:1", context(tmp_path))
    assert status == 0, err
    img = images.open_image("demo:1")
    run = img.runconfig
    assert run["Env"] == ["PATH=/bin", "GREETING=hello world", "HOME=/root"]
    assert run["WorkingDir"] == "/srv/app"
    assert run["User"] == "1000:1000"
    assert run["Entrypoint"] == ["/bin/hello"] and run["Cmd"] == ["--loud"]
    assert run["Labels"] == {"org.example.course": "os-101", "org.example.lab": "images"}
    assert run["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert run["StopSignal"] == "SIGTERM"
    assert (img.architecture, img.os) == ("riscv32", "linux")
    # COPY bin/, COPY etc/app.conf, WORKDIR (a new directory), COPY secret: four layers
    assert len(img.layers) == 4 and len(img.diff_ids) == 4
    history = img.config["history"]
    assert len(history) == 12 and sum(not h.get("empty_layer") for h in history) == 4
    assert history[1]["created_by"] == 'ENV PATH=/bin GREETING="hello world"'
    with view(img) as u:
        files = {p: n for p, n in u.walk()}
        assert sorted(files) == ["bin", "bin/hello", "bin/hi", "etc", "etc/app.conf", "srv",
                                 "srv/app", "srv/app/secret"]
        hello = files["bin/hello"]
        assert (hello.mode, hello.uid, hello.gid, hello.mtime) == (0o755, 0, 0, 0)
        assert u.read(hello) == b"#!/bin/sh\necho hello\n"
        assert files["bin/hi"].kind == "symlink" and files["bin/hi"].link == "hello"
        assert files["etc/app.conf"].mode == 0o644
        secret = files["srv/app/secret"]
        assert (secret.mode, secret.uid, secret.gid) == (0o600, 1000, 1000)
    assert "[13/13] CMD" in err and "built demo:1 sha256:" in err


def test_unchanged_rebuild_is_cached_and_writes_no_blob(tmp_path, capsys):
    ctx = context(tmp_path)
    assert hv(capsys, "image", "build", "-t", "demo:1", ctx)[0] == 0
    first, before = images.open_image("demo:1").digest, blobs(tmp_path)
    status, out, err = hv(capsys, "image", "build", "-t", "demo:1", ctx)
    assert status == 0
    assert err.count("      cached") == 4 and "      layer " not in err
    assert "0 built, 4 cached" in err
    assert images.open_image("demo:1").digest == first and blobs(tmp_path) == before
    # a changed file rebuilds that step and what follows, not what comes before
    (ctx / "etc" / "app.conf").write_bytes(b"level=4\n")
    status, out, err = hv(capsys, "image", "build", "-t", "demo:1", ctx)
    assert status == 0 and "1 cached" in err and "3 built" in err
    assert images.open_image("demo:1").digest != first
    # --no-cache builds every step (and, being reproducible, gets the same layers)
    status, out, err = hv(capsys, "image", "build", "--no-cache", "-t", "demo:2", ctx)
    assert "0 cached" in err
    assert images.open_image("demo:2").digest == images.open_image("demo:1").digest


def test_two_builds_in_different_directories_give_the_same_digests(tmp_path, capsys,
                                                                    monkeypatch):
    a, b = context(tmp_path, "checkout-a"), context(tmp_path, "elsewhere/checkout-b")
    for path in b.rglob("*"):       # another checkout: other times and another umask
        if not path.is_symlink():
            os.utime(path, (1.7e9, 1.7e9))
            mode = path.stat().st_mode & 0o777
            os.chmod(path, mode | 0o020 if path.is_dir() else mode & ~0o044 | 0o020)
    assert hv(capsys, "image", "build", "-t", "a:1", a, "--store", tmp_path / "s1")[0] == 0
    assert hv(capsys, "image", "build", "-t", "b:1", b, "--store", tmp_path / "s2")[0] == 0
    ia = images.open_image("a:1", tmp_path / "s1")
    ib = images.open_image("b:1", tmp_path / "s2")
    assert ia.layers == ib.layers and ia.diff_ids == ib.diff_ids
    assert ia.digest == ib.digest
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert hv(capsys, "image", "build", "-t", "c:1", a, "--store", tmp_path / "s3")[0] == 0
    ic = images.open_image("c:1", tmp_path / "s3")
    assert ic.digest != ia.digest and ic.config["created"] == "2023-11-14T22:13:20Z"


def test_add_unpacks_local_tars_keeping_their_metadata(tmp_path, capsys):
    payload = tar_bytes([("opt/tool", "dir", None, {"mode": 0o750, "uid": 7, "mtime": 5}),
                         ("opt/tool/run", "file", b"run!", {"mode": 0o4755, "uid": 7}),
                         ("opt/tool/again", "hardlink", "opt/tool/run"),
                         ("dev/sda", "blk", None)])
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b"FROM scratch\nADD tool.tar.gz /\nADD plain.txt /doc/\n",
        "tool.tar.gz": gzip.compress(payload), "plain.txt": b"stays a file\n"})
    status, out, err = hv(capsys, "image", "build", "-t", "add:1", ctx)
    assert status == 0, err
    assert "'opt/tool/run': setuid/setgid bits cleared" in err
    assert "'dev/sda': device node left out" in err
    with view(images.open_image("add:1")) as u:
        tool, run = u.get("opt/tool"), u.get("opt/tool/run")
        assert (tool.mode, tool.uid, tool.mtime) == (0o750, 7, 5)
        assert (run.mode, run.uid, run.mtime) == (0o755, 7, 1000)
        assert u.get("opt/tool/again") is run          # a hard link: one node, two names
        assert u.get("dev/sda") is None
        assert u.read(u.get("doc/plain.txt")) == b"stays a file\n"


def test_copy_follows_symlinked_directories_inside_the_root(tmp_path, capsys):
    base = tmp_path / "base.tar"
    base.write_bytes(tar_bytes([("usr", "dir", None), ("usr/bin", "dir", None),
                                ("bin", "symlink", "usr/bin")]))
    assert hv(capsys, "image", "import", base, "base:1")[0] == 0
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM base:1\nCOPY tool /bin/\n",
                                          "tool": b"x"})
    assert hv(capsys, "image", "build", "-t", "merged:1", ctx)[0] == 0
    with view(images.open_image("merged:1")) as u:
        assert u.get("usr/bin/tool") is not None and u.get("bin").kind == "symlink"
        assert u.changes[-1] == [("A", "usr/bin/tool")]


def test_dockerignore_globs_and_compressions(tmp_path, capsys):
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b"FROM scratch\nCOPY *.txt /t/\nCOPY src /src\n",
        ".dockerignore": b"# comment\nsrc/build\n**/*.log\n!src/keep.log\n",
        "a.txt": b"a", "b.txt": b"b", "src/main.c": b"int main;", "src/build/x.o": b"o",
        "src/debug.log": b"l", "src/keep.log": b"k"})
    for comp, media in (("zstd", "application/vnd.oci.image.layer.v1.tar+zstd"),
                        ("none", "application/vnd.oci.image.layer.v1.tar"),
                        ("gzip", "application/vnd.oci.image.layer.v1.tar+gzip")):
        status, _, err = hv(capsys, "image", "build", "--compression", comp, "-t",
                            f"ig:{comp}", ctx)
        assert status == 0, err
        img = images.open_image(f"ig:{comp}")
        assert {d["mediaType"] for d in img.layers} == {media}
        with view(img) as u:
            assert sorted(p for p, _ in u.walk()) == ["src", "src/keep.log", "src/main.c",
                                                      "t", "t/a.txt", "t/b.txt"]
    # the same files: the same uncompressed layers whatever the compression
    assert images.open_image("ig:zstd").diff_ids == images.open_image("ig:none").diff_ids


def test_from_a_local_image_shares_its_layers(tmp_path, capsys):
    ctx = context(tmp_path)
    assert hv(capsys, "image", "build", "-t", "base:1", ctx)[0] == 0
    (ctx / "Buildfile2").write_text("FROM base:1\nCOPY notes.txt /\nCMD [\"/bin/sh\"]\n")
    assert hv(capsys, "image", "build", "-f", ctx / "Buildfile2", "-t", "child:1", ctx)[0] == 0
    base, child = images.open_image("base:1"), images.open_image("child:1")
    assert child.layers[:4] == base.layers and len(child.layers) == 5
    assert child.runconfig["Entrypoint"] == ["/bin/hello"] and child.runconfig["Cmd"] == ["/bin/sh"]
    layer_files = {d["digest"][7:] for d in child.layers}
    assert layer_files <= blobs(tmp_path)
    stored = sum((tmp_path / "store/blobs/sha256" / f).stat().st_size for f in blobs(tmp_path))
    assert stored < base.size + child.size         # the shared layers are there once


@pytest.mark.parametrize("buildfile, files, message", [
    ("FROM scratch\nFROBNICATE x\n", {}, "Buildfile:2: unknown or unsupported instruction "
     "FROBNICATE"),
    ("COPY a /\n", {}, "Buildfile:1: the first instruction must be FROM"),
    ("FROM scratch\nCOPY missing /\n", {}, "Buildfile:2: missing: no such file in the build "
     "context"),
    ("FROM scratch\nCOPY ../outside /\n", {}, "Buildfile:2: ../outside is outside the build "
     "context"),
    ("FROM scratch\nCOPY link /\n", {"link": ("symlink", "/etc/passwd")},
     "Buildfile:2: link is outside the build context"),
    ("FROM nothere:1\n", {}, "no image 'nothere:1' in the store"),
    ("FROM scratch\nCOPY a\n", {"a": b""}, "Buildfile:2: COPY needs a source and a "
     "destination"),
    ("FROM scratch\nADD https://example.org/x /\n", {}, "URLs are not supported"),
    ("FROM scratch\nCOPY a /f\nCOPY a /f/g\n", {"a": b""}, "Buildfile:3: COPY: /f is not a "
     "directory"),
    ("FROM scratch\nENV A\n", {}, "Buildfile:2: ENV needs KEY=VALUE or KEY VALUE"),
    ("FROM scratch\nEXPOSE http\n", {}, "Buildfile:2: bad port 'http'"),
    ("FROM scratch\nFROM scratch\n", {}, "only one FROM"),
])
def test_buildfile_errors_name_the_line(tmp_path, capsys, buildfile, files, message):
    ctx = make_context(tmp_path / "ctx", {"Buildfile": buildfile.encode(), **files})
    status, out, err = hv(capsys, "image", "build", "-t", "bad:1", ctx)
    assert status == 1
    assert message in err
    assert err.strip().splitlines()[-1].startswith("hv image build: error:")
    assert "Traceback" not in err


def test_variables_quotes_and_escapes(tmp_path, capsys):
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"""FROM scratch
ENV DIR=/opt/app NAME=demo
ENV MSG="$NAME in ${DIR}" RAW='$NAME' DEF=${UNSET:-fallback} ALT=${NAME:+set} ESC=\\$NAME
WORKDIR $DIR
COPY f ${DIR}/data/
LABEL title="the $NAME image"
CMD echo $NAME
""", "f": b"1"})
    assert hv(capsys, "image", "build", "-t", "v:1", ctx)[0] == 0
    run = images.open_image("v:1").runconfig
    env = dict(e.split("=", 1) for e in run["Env"])
    assert env["MSG"] == "demo in /opt/app" and env["RAW"] == "$NAME"
    assert env["DEF"] == "fallback" and env["ALT"] == "set" and env["ESC"] == "$NAME"
    assert run["Labels"] == {"title": "the demo image"}
    assert run["Cmd"] == ["/bin/sh", "-c", "echo $NAME"]      # the shell substitutes, later
    with view(images.open_image("v:1")) as u:
        assert u.get("opt/app/data/f") is not None


def test_build_quiet_prints_only_the_digest(tmp_path, capsys):
    status, out, err = hv(capsys, "image", "build", "-q", "-t", "q:1", context(tmp_path))
    assert status == 0 and err == ""
    assert out.strip() == images.open_image("q:1").digest


def test_layer_tars_are_sorted_with_fixed_metadata(tmp_path, capsys):
    assert hv(capsys, "image", "build", "-t", "demo:1", context(tmp_path))[0] == 0
    img = images.open_image("demo:1")
    tar = next(img.open_layers())
    with tarfile.open(fileobj=io.BytesIO(tar.read())) as tf:
        members = tf.getmembers()
    assert [m.name for m in members] == ["bin", "bin/hello", "bin/hi"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 0)}


def test_a_long_build_shows_progress_on_a_terminal(tmp_path):
    from hypervisor.images.build import build
    from hypervisor.images.progress import Reporter
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM scratch\nCOPY big /big\n",
                                          "big": os.urandom(3 << 20)})
    tty, pipe = io.StringIO(), io.StringIO()
    build(images.open_store(), ctx / "Buildfile", ctx, "p:1", reporter=Reporter(tty, live=True))
    build(images.open_store(), ctx / "Buildfile", ctx, "p:2", use_cache=False,
          reporter=Reporter(pipe, live=False))
    assert "gzip layer" in tty.getvalue() and "MB" in tty.getvalue()    # rich's byte bar
    assert "gzip layer" not in pipe.getvalue()                          # a log stays lines
    assert pipe.getvalue().count("\n") == 4
