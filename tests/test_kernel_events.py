"""eventfd(2) and epoll(7) on the shared kernel (kernel/eventfd.py, kernel/epoll.py) give what
real Linux gives: guests/containers/events.c prints one line per check, under qemu-riscv32
(which passes each eventfd/epoll call to the host's Linux kernel, converting struct
epoll_event between the guest's 16-byte RISC-V layout and the host's) and in a container.

qemu 7.2 does not know epoll_pwait2 (ENOSYS), so `events pwait2`, where every wait of the
program is an epoll_pwait2, is compared with Linux's output of the epoll_pwait program (the man
page: the two differ only in the timeout's type), and both modes run inside the bundled Linux
6.1 VM, rv32 with no qemu between (without the TCP part: that Linux has no sockets).  (Also
checked once by hand: a native x86-64 build of events.c on the host's Linux 6.18 prints the
same in both modes, apart from x86-64's packed 12-byte struct epoll_event.)"""
import shutil
import stat
import subprocess

import pytest

from hypervisor.catalog import IMAGES_DIR, bundled
from kernelhelp import PROGS, make_rootfs, run, run_in_linux_batch

RUN = b"""\
mkdir -p /work && cd /work
echo "== pwait"
/opt/events nonet
echo "== pwait2"
/opt/events pwait2 nonet
"""


@pytest.fixture(scope="module")
def linux(tmp_path_factory):
    qemu = shutil.which("qemu-riscv32")
    if qemu is None:
        pytest.skip("qemu-riscv32 (qemu-user) is not installed: no Linux reference")
    work = tmp_path_factory.mktemp("qemu-events")
    out = subprocess.run([qemu, str(PROGS / "events")], cwd=work, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode()


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=64 << 20)
    yield e
    e.shutdown()


def in_container(engine, tmp_path, *args):
    root = make_rootfs(tmp_path / "root", progs=("events",))
    c = run(engine, root, ["/bin/events", *args], workdir="/work", memory=16 << 20)
    assert c.exit_code == 0, c.klog
    return c


def test_eventfd_and_epoll_match_linux(engine, tmp_path, linux):
    c = in_container(engine, tmp_path)
    got = c.console.text()
    assert got.splitlines() == linux.splitlines()
    # the reference itself ran every part (not a program that stopped early on both sides)
    assert "blocking wait woken by a child = 1 [77 1]" in linux and linux.endswith("done\n")
    assert "sizeof(struct epoll_event) = 16" in linux
    st = c.stats()
    assert st["missing_syscalls"] == {}
    # the blocking waits slept (woken by the child's write, or at the deadline) rather than
    # spinning: about one epoll_pwait per wait of the program
    calls = st["syscalls_by_name"]
    assert 40 < calls["epoll_pwait"] < 80, calls["epoll_pwait"]
    assert calls["eventfd2"] >= 5 and calls["epoll_ctl"] > 30


def test_epoll_pwait2_is_epoll_pwait_with_a_timespec(engine, tmp_path, linux):
    c = in_container(engine, tmp_path, "pwait2")
    assert c.console.text().splitlines() == linux.splitlines()
    assert c.stats()["syscalls_by_name"]["epoll_pwait2"] > 30



def test_a_container_has_at_most_max_watches_epoll_entries():
    """A hostile container cannot grow the host's memory by epoll entries (Linux:
    max_user_watches, ENOSPC); closing an epoll file gives its entries back."""
    from types import SimpleNamespace

    from hypervisor.kernel import epoll
    from hypervisor.kernel.errno import ENOSPC, SysError
    from hypervisor.kernel.eventfd import EventFd
    c = SimpleNamespace(epoll_watches=epoll.MAX_WATCHES - 2)
    a, b = epoll.EpollFile(c), epoll.EpollFile(c)
    files = [EventFd(0, 0) for _ in range(3)]
    a.insert((3, files[0]), files[0], epoll.EPOLLIN, 1)
    b.insert((3, files[1]), files[1], epoll.EPOLLIN, 2)
    with pytest.raises(SysError) as e:
        b.insert((4, files[2]), files[2], epoll.EPOLLIN, 3)
    assert e.value.errno == ENOSPC and c.epoll_watches == epoll.MAX_WATCHES
    a.close()
    b.insert((4, files[2]), files[2], epoll.EPOLLIN, 3)
    assert c.epoll_watches == epoll.MAX_WATCHES and len(b.entries) == 2


@pytest.mark.skipif(bundled("linux") is None or not (IMAGES_DIR / bundled("linux")["file"]).exists(),
                    reason="the Linux image is not installed (make -C guests linux)")
def test_both_modes_same_inside_linux_6_1_on_hvlab(engine, tmp_path):
    """Linux 6.1 itself, rv32, in a VM (events passed in as an extra initrd): epoll_pwait2
    included, with no qemu between the program and the kernel.  The bundled Linux has no
    sockets (CONFIG_NET off), so the program runs without its TCP part there (`nonet`)."""
    files = {"opt": (stat.S_IFDIR | 0o755, b""), "work": (stat.S_IFDIR | 0o755, b""),
             "opt/events": (stat.S_IFREG | 0o755, (PROGS / "events").read_bytes()),
             "opt/run.sh": (stat.S_IFREG | 0o755, RUN)}
    text = run_in_linux_batch(files)
    body = text.split("\n== pwait\n", 1)[1].split("[run] exit status", 1)[0]
    pwait, pwait2 = body.split("== pwait2\n", 1)
    assert pwait.endswith("done\n") and "= -38" not in pwait and pwait2 == pwait
    assert "sizeof(struct epoll_event) = 16" in pwait and "blocking wait woken" in pwait
    for mode in ("pwait", "pwait2"):
        c = in_container(engine, tmp_path / mode, mode, "nonet")
        assert c.console.text().splitlines() == pwait.splitlines(), mode
