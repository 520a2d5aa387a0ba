"""Containers on the shared kernel: processes, faults, limits, isolation, the kernel-bug switch.

References: hand-derived values (exit statuses as docker run gives them: the code, 128 + the
signal), the programs' own output, and the host pages the engine's allocator reports.
"""
import time

import pytest

from kernelhelp import make_rootfs, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20)
    yield e
    e.shutdown()


@pytest.fixture
def root(tmp_path):
    return make_rootfs(tmp_path / "root")


def test_segfault_kills_the_process_not_the_kernel(engine, root):
    c = run(engine, root, ["/bin/tool", "segv"])
    assert c.console.text() == "about to fault\n"
    assert c.exit_code == 128 + 11                  # docker: killed by SIGSEGV
    assert any("segmentation fault at 0x00000010" in line for line in c.klog)
    d = run(engine, root, ["/bin/tool", "cat", "/etc/hostname"])   # the kernel serves on
    assert d.console.text() == "/etc/hostname: inside\n\n" and d.exit_code == 0


def test_exit_status_and_missing_command(engine, root):
    from hypervisor.kernel.runtime import ContainerError, create
    c = run(engine, root, ["/bin/tool", "nonsense"])
    assert c.exit_code == 2 and "usage" in c.console.text()
    with pytest.raises(ContainerError) as err:
        create(engine, str(root), ["/bin/nothere"])
    assert err.value.status == 127
    with pytest.raises(ContainerError) as err:
        create(engine, str(root), ["/etc/hostname"])      # not executable
    assert err.value.status == 126


def test_exec_of_non_elf_and_malformed_elf(engine, root):
    (root / "bin" / "bad").write_bytes(b"\x7fELF" + b"\x01\x01\x01" + bytes(60))
    (root / "bin" / "bad").chmod(0o755)
    (root / "bin" / "text").write_bytes(b"just text\n")
    (root / "bin" / "text").chmod(0o755)
    c = run(engine, root, ["/bin/tool", "exec", "/bin/bad"])
    assert c.console.text() == "execve /bin/bad: Exec format error\n" and c.exit_code == 3
    assert any("execve: /bin/bad: machine 0 is not RISC-V" in line for line in c.klog)
    c = run(engine, root, ["/bin/tool", "exec", "/bin/text"])
    assert c.console.text() == "execve /bin/text: Exec format error\n"


def _static_elf(code, skip):
    """A static RV32 executable: one R+X PT_LOAD of the whole file at 0x10000 (headers
    included, as GNU ld lays out a small static program), its code after the 84 bytes of
    ELF and program headers, entered ``skip`` bytes into the code."""
    import struct
    vaddr, off = 0x10000, 52 + 32
    size = off + len(code)
    ident = b"\x7fELF" + bytes((1, 1, 1, 0)) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, vaddr + off + skip, 52, 0, 0,
                                 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<8I", 1, 0, vaddr, vaddr, size, size, 5, 0x1000)    # PF_R | PF_X
    return header + phdr + code


def test_exec_enters_a_2_byte_aligned_entry_point(engine, root):
    """With C, an entry point need only be 2-byte aligned.  The code (hand-encoded): c.nop,
    then the entry: li a0, 7; li a7, 93 (exit); ecall.  Entered at the c.nop it would run
    the same; entered one byte in, it is refused before it runs."""
    code = (0x0001).to_bytes(2, "little") + b"".join(
        x.to_bytes(4, "little") for x in (0x00700513, 0x05D00893, 0x00000073))
    for name, skip in (("odd2", 2), ("odd1", 1)):
        (root / "bin" / name).write_bytes(_static_elf(code, skip))
        (root / "bin" / name).chmod(0o755)
    assert run(engine, root, ["/bin/odd2"]).exit_code == 7
    c = run(engine, root, ["/bin/tool", "exec", "/bin/odd1"])
    assert c.console.text() == "execve /bin/odd1: Exec format error\n"
    assert any("entry point 0x10055 is not 2-byte aligned" in line for line in c.klog)


def test_fork_bomb_stopped_by_pids_limit(engine, root):
    c = run(engine, root, ["/bin/tool", "forkbomb"], pids_limit=20)
    assert c.console.text() == "fork failed after 19: Resource temporarily unavailable\n"
    assert any("--pids-limit 20 reached" in line for line in c.klog)


def test_memory_limit_oom_kills_the_hog_only(engine, root):
    free_before = engine.memory.free_pages
    c = run(engine, root, ["/bin/tool", "hog", "64"], memory=8 << 20)
    out = c.console.text().splitlines()
    assert out and out[-1] in ("5 MiB", "6 MiB", "7 MiB")   # 8 MiB less code, stack, tables
    assert c.exit_code == 128 + 9
    assert any("out of memory: killed process 1" in line for line in c.klog)
    assert c.peak_pages <= (8 << 20) // 4096               # never past its limit
    for _ in range(100):                                    # the worker frees them just
        if engine.memory.free_pages == free_before:         # after it leaves the hart
            break
        time.sleep(0.01)
    assert engine.memory.free_pages == free_before          # every page came back


def test_mmap_larger_than_the_limit_fails_with_enomem(engine, root):
    c = run(engine, root, ["/bin/tool", "bigmap", "9"], memory=8 << 20)
    assert c.console.text() == "mmap 9 MiB: Out of memory\n" and c.exit_code == 1
    c = run(engine, root, ["/bin/tool", "bigmap", "7"], memory=8 << 20)
    assert c.console.text() == "mmap 7 MiB: ok\n" and c.exit_code == 0


def test_path_tricks_stay_inside_the_root(engine, root):
    c = run(engine, root, ["/bin/tool", "escape"])
    lines = c.console.text().splitlines()
    assert lines[:4] == ["../../../../../../../etc/hostname: inside", "",
                         "/../../etc/hostname: inside", ""]
    assert lines[4:8] == ["/tmp/link: inside", "", "/tmp/link2: inside", ""]
    assert lines[8:] == ["/proc/1/root/etc/hostname: No such file or directory",
                         "/proc/self/root/etc/hostname: No such file or directory",
                         "long path: Filename too long"]


def test_pid_namespace_kill_cannot_reach_another_container(engine, root):
    from hypervisor.kernel import runtime
    v = runtime.run(engine, str(root), ["/bin/tool", "ticker", "40"])
    for pid in (2, 3, 100, v.id + 1):       # guessed pids: none exists in the attacker's view
        a = run(engine, root, ["/bin/tool", "kill", str(pid)])
        assert a.console.text() == f"kill {pid}: No such process\n"
    assert engine.wait(timeout=60, vms=[v]) and v.exit_code == 0
    assert v.console.text().count("tick") == 40


def test_files_written_in_one_container_are_invisible_to_another(engine, root):
    a = run(engine, root, ["/bin/tool", "write", "/etc/hostname", "changed"])
    assert a.exit_code == 0
    b = run(engine, root, ["/bin/tool", "cat", "/etc/hostname"])
    assert b.console.text() == "/etc/hostname: inside\n\n"
    assert (root / "etc" / "hostname").read_text() == "inside\n"     # the image is untouched
    tree = a.ns.root.entries[b"etc"].entries[b"hostname"]
    assert bytes(tree.data) == b"changed" and not tree.lower         # copied up in a only


def test_sleeping_processes_skip_virtual_time(engine, root):
    c = run(engine, root, ["/bin/tool", "ticker", "50"])
    assert c.console.text().count("tick") == 50
    # 50 sleeps of 10 ms: at least 0.5 s of virtual time, few instructions actually run
    assert c.now_ns() >= 500_000_000
    assert c.stats()["instructions"] < 5_000_000


def test_kernel_bug_stops_every_container_and_no_vm(engine, root):
    from hypervisor.kernel import runtime
    from hypervisor.kernel.kernel import Kernel
    vm = engine.create("timer", name="vm")
    engine.start(vm)
    cs = [runtime.run(engine, str(root), ["/bin/tool", "ticker", "100000"]) for _ in range(3)]
    import time
    time.sleep(0.3)
    Kernel.of(engine).inject_bug(after=5)
    assert engine.wait(timeout=30, vms=cs)
    assert all(c.status == "crashed" and "shared kernel panic" in c.reason for c in cs)
    assert not vm.done or vm.status == "halted" and vm.exit_code == 0
    engine.kill(vm)


def test_init_of_the_namespace_ignores_sigkill_from_inside(engine, root):
    # pid_namespaces(7): only signals init has a handler for reach it from inside
    c = run(engine, root, ["/bin/tool", "kill", "1"])
    assert c.console.text() == "kill 1: ok\n" and c.exit_code == 0


def test_mutated_executables_never_hurt_the_kernel(engine, root):
    """Random byte and header mutations of a real executable: each run ends (exit status,
    signal or ENOEXEC), the kernel serves the next container, and no exception escapes."""
    import random
    from hypervisor.kernel import runtime
    rng = random.Random(13)
    good = (root / "bin" / "tool").read_bytes()
    outcomes = set()
    for i in range(24):
        blob = bytearray(good)
        for _ in range(rng.choice((1, 4, 16))):
            pos = rng.randrange(0, 52 + 32 * 8) if rng.random() < 0.6 else \
                rng.randrange(len(blob))
            blob[pos] = rng.randrange(256)
        if i % 6 == 0:
            blob = blob[:rng.randrange(16, 400)]                    # truncated
        path = root / "bin" / f"m{i}"
        path.write_bytes(bytes(blob))
        path.chmod(0o755)
        try:
            c = runtime.run(engine, str(root), [f"/bin/m{i}", "cat", "/etc/hostname"],
                            memory=8 << 20)
        except runtime.ContainerError as exc:
            assert exc.status == 126                                 # cannot run: ENOEXEC
            outcomes.add("enoexec")
            continue
        assert engine.wait(timeout=30, vms=[c]), f"m{i} did not end"
        if c.status == "crashed":
            assert "shared kernel error" not in c.reason, c.klog
        outcomes.add(c.outcome.split(" ")[0])
    assert "enoexec" in outcomes
    after = run(engine, root, ["/bin/tool", "cat", "/etc/hostname"])
    assert after.console.text() == "/etc/hostname: inside\n\n"


def test_fork_shares_pages_copy_on_write(engine, root):
    from hypervisor.kernel import fork, runtime
    c = runtime.run(engine, str(root), ["/bin/tool", "victim"])    # 1 MiB touched, paused
    end = time.time() + 20
    while not (c.idle and "ready" in c.console.text()):
        assert time.time() < end
        time.sleep(0.01)
    with c.lock:
        parent = c.procs[1]
        rss, before = parent.rss_pages, c.frames.used
        c.switch_to(parent)
        pid = fork.fork(c, parent, 17, 0, 0, 0, 0)
        child = c.procs[pid]
        grown = c.frames.used - before
        shared = sum(1 for vpn, (f, _) in child.mm.pages.items()
                     if parent.mm.pages.get(vpn, [None])[0] == f)
    assert rss > 256 and shared == rss == child.rss_pages    # every page shared at first
    assert grown == 1 + len(child.mm.tables)                  # only the child's page tables
    engine.kill(c)
