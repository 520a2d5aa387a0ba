"""Bad operator input to `hv container run` and `hv image`: one clear line, a non-zero exit,
never a traceback, and nothing left behind (a hostile-input review, helpers' stream
`review`).  Docker's behaviour is the reference where it has one."""
import pytest

from kernelhelp import make_rootfs
from oci_helpers import hv as hv_inproc
from test_container_cli import hv  # noqa: F401  (the fixture: hv in a subprocess, own daemon)


def one_line(r):
    err = r.stderr.decode()
    assert "Traceback" not in err, err
    if r.returncode == 2:       # argparse: its usage lines, then the one error line
        return err.splitlines()[-1]
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("flags, status, message", [
    (["--memory", "-1"], 2, "bad size '-1'"),
    (["--memory", "1x"], 2, "bad size '1x'"),
    (["--memory", "99999999G"], 125, "--memory must be whole pages"),
    # a port past 65535 reached bind(): OverflowError in the daemon, "the daemon closed the
    # connection" at the client and a --rm container left behind in "Created"
    (["-p", "99999:80"], 125, "port 99999"),
    (["-p", "8080:0"], 125, "port 0"),            # docker: invalid containerPort: 0
    (["-w", "relative"], 125, "absolute path"),   # docker: "it needs to be an absolute path"
    (["--cpus", "abc"], 2, "invalid float value"),
])
def test_bad_run_flags_are_one_line_and_leave_nothing(hv, tmp_path, flags, status, message):  # noqa: F811
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "--rm", *flags, str(root), "/bin/tool", "cat", "/etc/hostname")
    err = one_line(r)
    assert r.returncode == status and message in err, (r.returncode, err)
    assert hv("container", "ls", "-a").stdout.count(b"\n") == 1, "a container was left behind"


def test_non_positive_pids_limit_means_no_limit_and_shares_are_clamped(hv, tmp_path):  # noqa: F811
    # OCI runtime-spec config-linux.md (pids.limit): "<= 0 implies no limit", as docker and
    # podman read --pids-limit 0 / -1; -5 used to refuse even the first process (EAGAIN ->
    # "exec: Resource temporarily unavailable", status 126)
    root = make_rootfs(tmp_path / "root")
    for value in ("0", "-1", "-5"):
        r = hv("container", "run", "--rm", "--pids-limit", value, str(root), "/bin/tool", "cat",
               "/etc/hostname")
        assert r.returncode == 0 and r.stdout == b"/etc/hostname: inside\n\n", (value, r)


def test_cpu_shares_are_clamped_like_the_kernels_cpu_shares():
    # kernel/sched/core.c: cpu.shares is clamped to [MIN_SHARES 2, MAX_SHARES 1 << 18]; an
    # unclamped 10**20 made the container's virtual runtime stand still: every other one starved
    from hypervisor.kernel.runtime import clamp_shares
    assert clamp_shares(10 ** 20) == 1 << 18 and clamp_shares(-5) == 2
    assert clamp_shares(1) == 2 and clamp_shares(1024) == 1024


@pytest.mark.parametrize("argv, message", [
    (["image", "inspect", "::"], "bad tag ''"),
    (["image", "inspect", "busybox@sha256:abc"], "bad digest"),
    (["image", "inspect", ""], "bad image reference"),
    (["image", "inspect", "A"], "bad image name 'A'"),
    (["image", "rm", "a@sha256:" + "0" * 63], "bad digest"),
    (["image", "tag", "x", "b::"], "bad tag"),
    (["image", "save", "-o", "out.tar", "::"], "bad tag"),
    (["image", "history", "nosuch:1"], "nosuch"),
])
def test_bad_image_references_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setenv("HV_STORE", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    status, out, err = hv_inproc(capsys, *argv)
    assert status == 1 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out.tar").exists()


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path, capsys, monkeypatch):
    # `hv image save -o /no/such/dir/x.tar` (and initramfs -o) was a FileNotFoundError
    # traceback; docker save: "open /no/such/dir/x.tar: no such file or directory"
    from oci_helpers import make_context
    monkeypatch.setenv("HV_STORE", str(tmp_path / "store"))
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM scratch\nCOPY f /f\n",
                                          "f": b"x"})
    assert hv_inproc(capsys, "image", "build", "-q", "-t", "s:1", ctx)[0] == 0
    for verb in ("save", "initramfs"):
        for out, why in ((tmp_path / "no" / "x.tar", "No such file or directory"),
                         (tmp_path, "Is a directory")):
            status, _, err = hv_inproc(capsys, "image", verb, "s:1", "-o", out)
            assert status == 1 and err == f"hv image {verb}: error: {out}: {why}\n", err
