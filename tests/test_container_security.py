"""A hostile container beside a victim: the victim's pages (every host page it owns) and files
are hashed before and after the attacks and must not change; each attack gets its errno or
signal and one line in the attacker's log, never an exception in the kernel."""
import hashlib
import time

import pytest

from kernelhelp import make_rootfs, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=128 << 20)
    yield e
    e.shutdown()


def _memory_hash(engine, c):
    with c.lock:
        pages = engine.memory.pages_of(c.id)
        h = hashlib.sha256(c.gmap.tobytes())
        for p in pages:
            h.update(engine.memory.page(int(p)).tobytes())
    return h.hexdigest(), len(pages)


def _files_hash(c):
    from hypervisor.kernel.vfs import walk_tree
    h = hashlib.sha256()
    for path, node in walk_tree(c.ns.root):
        h.update(path + bytes(node.data) if not node.is_dir else path)
    return h.hexdigest()


def test_attacks_leave_the_victim_untouched(engine, tmp_path):
    from hypervisor.kernel import runtime
    root = make_rootfs(tmp_path / "root")
    victim = runtime.run(engine, str(root), ["/bin/tool", "victim"], memory=8 << 20)
    end = time.time() + 20
    while "ready" not in victim.console.text() or not victim.idle:
        assert time.time() < end
        time.sleep(0.01)
    before = _memory_hash(engine, victim), _files_hash(victim)
    probe = run(engine, root, ["/bin/tool", "probe"], memory=8 << 20)
    assert probe.console.text().splitlines() == [
        "mmap fixed 0: Invalid argument", "mmap fixed 0x1000: mapped",
        "mmap fixed 0x7fffe000: mapped", "mmap fixed 0x7ffff000: mapped",
        "mmap fixed 0x80000000: Invalid argument", "mmap fixed 0x80001000: Invalid argument",
        "mmap fixed 0xfffff000: Invalid argument", "mprotect trampoline: ok",
        "brk huge: Out of memory", "write wild: Bad address", "read wild: Bad address",
        "mmap huge: Out of memory"]
    hog = run(engine, root, ["/bin/tool", "hog", "100"], memory=8 << 20)
    assert hog.exit_code == 137 and any("out of memory" in x for x in hog.klog)
    bomb = run(engine, root, ["/bin/tool", "forkbomb"], pids_limit=30)
    assert "fork failed after 29" in bomb.console.text()
    flood = runtime.create(engine, str(root), ["/bin/tool", "flood"])
    lines = []
    flood.console.listeners.append(lambda d: lines.append(d) if b"\0" not in d else None)
    engine.start(flood)
    assert engine.wait(timeout=60, vms=[flood]) and flood.exit_code == 0
    assert lines == [b"pipe took 65536 bytes, then: Resource temporarily unavailable\n",
                     b"console flood done\n"]
    assert flood.console.total > 2_000_000 and len(flood.console.tail(10**7)) <= 8192
    for pid in (1, 2, victim.id):
        run(engine, root, ["/bin/tool", "kill", str(pid + 1)])
    segv = run(engine, root, ["/bin/tool", "segv"])
    assert segv.exit_code == 139
    assert (_memory_hash(engine, victim), _files_hash(victim)) == before
    assert not victim.done and victim.procs[1].state == "S"
    with victim.lock:
        secret = victim.ns.root.entries[b"secret"]
    assert bytes(secret.data) == b"victim data"
    engine.kill(victim)


def test_spinning_container_is_preempted_and_shares_the_host(engine, tmp_path):
    from hypervisor.kernel import runtime
    root = make_rootfs(tmp_path / "root")
    (root / "bin" / "spin").write_bytes((root / "bin" / "tool").read_bytes())
    spin = runtime.run(engine, str(root), ["/bin/tool", "syscalls", "100000000"])
    quick = run(engine, root, ["/bin/tool", "cat", "/etc/hostname"], timeout=30)
    assert quick.exit_code == 0 and not spin.done       # the spinner did not hold the host
    engine.kill(spin)
    assert engine.wait(timeout=10, vms=[spin]) and spin.outcome == "killed"


def test_cpu_shares_and_cap_are_the_schedulers_weight_and_cap(engine, tmp_path):
    from hypervisor.kernel import runtime
    root = make_rootfs(tmp_path / "root")
    c = runtime.create(engine, str(root), ["/bin/tool", "cat", "/x"], cpu_shares=512, cpus=0.25)
    assert (c.weight, c.cap) == (512, 0.25)
    with pytest.raises(runtime.ContainerError):
        runtime.create(engine, str(root), ["/bin/tool"], cpus=2)
    engine.remove(c)
