"""Threads on the shared kernel (threads.py, futex.py): a musl program with pthreads
(guests/containers/threads.c) gives what it gives on real Linux (qemu-riscv32, which runs each
thread as a host thread; test_container_vs_linux.py compares with Linux 6.1 in a VM too).
The threads of a container share its one virtual CPU and its pids limit, and ps sees one
process."""
import shutil
import subprocess
import time

import pytest

from kernelhelp import PROGS, make_rootfs, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=128 << 20)
    yield e
    e.shutdown()


@pytest.fixture
def root(tmp_path):
    return make_rootfs(tmp_path / "root", progs=("threads",))


def qemu(args, cwd):
    exe = shutil.which("qemu-riscv32")
    if exe is None:
        pytest.skip("qemu-riscv32 is not installed: no Linux reference")
    return subprocess.run([exe, str(PROGS / "threads"), *args], cwd=cwd, capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("args, status", [
    (["8", "5000"], 0),                 # mutex, condvar, semaphore, TLS, join
    (["segv"], 139),                    # a thread's fault ends every thread
    (["exit"], 3),                      # exit(3) in a thread is exit_group
    (["mainexit"], 0),                  # main's pthread_exit: the other runs on
])
def test_pthreads_as_on_linux(engine, root, tmp_path, args, status):
    ref = qemu(args, tmp_path)
    want = status if status < 128 else -(status - 128)
    assert ref.returncode == want, ref.stderr
    c = run(engine, root, ["/bin/threads", *args], memory=96 << 20)
    assert c.exit_code == status, c.klog
    assert c.console.text() == ref.stdout.decode()
    if status == 139:
        assert any("segmentation fault" in line for line in c.klog)


def test_threads_are_one_process(engine, root):
    """While 6 threads run: /proc and hv top's rows show one process (its status says 7
    threads), stats count 7 threads, each with its own id in the PID namespace, one tgid and
    one address space."""
    from hypervisor.kernel import runtime
    c = runtime.run(engine, str(root), ["/bin/threads", "6", "100000"], memory=96 << 20)
    end = time.time() + 60
    while c.stats()["threads"] < 7:
        assert time.time() < end and not c.done, c.klog
        time.sleep(0.005)
    with c.lock:
        s = c.stats()
        tasks = list(c.procs.values())
        proc_names = c.ns.root.entries[b"proc"].names()
        status = c.ns.root.entries[b"proc"].lookup(b"1").lookup(b"status").data
    assert s["processes"] == 1 and s["threads"] == 7
    assert [p.pid for p in c.processes] == [1]
    assert sorted(p.pid for p in tasks) == list(range(1, 8))
    assert {p.tgid for p in tasks} == {1} and len({id(p.mm) for p in tasks}) == 1
    assert [n for n in proc_names if n.isdigit()] == [b"1"]
    assert b"Threads:\t7\n" in bytes(status)
    assert engine.wait(timeout=120, vms=[c]) and c.exit_code == 0, c.klog
    assert c.console.text().endswith("counter 600000 (expected 600000), main tls 0\n")


def test_threads_count_against_the_pids_limit(engine, root):
    """The pids cgroup counts threads (Documentation/admin-guide/cgroup-v2.rst, "PID"):
    pthread_create past --pids-limit fails with EAGAIN."""
    c = run(engine, root, ["/bin/threads", "4", "10"], memory=96 << 20, pids_limit=3)
    assert c.exit_code == 1
    assert c.console.text() == "pthread_create: Resource temporarily unavailable\n"
