"""The shared kernel's page cache (frames.py, mm.FileImage): an executable of the image is
mapped from the file, its pages filled on first touch, its read-only pages one frame shared by
every process that runs it (as Linux's page cache shares them), copy-on-write if one makes
them writable, and given back when the container's memory runs short.  The reference for the
page contents is the ELF file itself, read here with pyelftools-free arithmetic on its program
headers."""
import struct
import time

import pytest

from hypervisor.catalog import rootfs_path


@pytest.fixture
def engine():
    """Host-clock time, so `sleep 1000` sleeps (in virtual time, an idle container skips to
    its next deadline at once, as a VM's wfi does)."""
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20, wall_clock=True)
    yield e
    e.shutdown()


def userland_shell(engine, memory=16 << 20):
    from hypervisor.kernel import runtime
    c = runtime.create(engine, str(rootfs_path("userland")), ["/bin/sh"], memory=memory)
    engine.start(c)
    return c


def until(c, text, timeout=30):
    end = time.time() + timeout
    while text not in c.console.text():
        assert time.time() < end and not c.done, c.console.text()[-300:]
        time.sleep(0.01)
    while not c.idle:
        assert time.time() < end
        time.sleep(0.01)


def text_segment(blob):
    """(vaddr, file offset, size) of the first PT_LOAD with PF_X: from the ELF headers."""
    phoff, = struct.unpack_from("<I", blob, 28)
    phnum, = struct.unpack_from("<H", blob, 44)
    for i in range(phnum):
        p_type, off, vaddr, _, filesz, _, flags, _ = struct.unpack_from("<8I", blob,
                                                                        phoff + 32 * i)
        if p_type == 1 and flags & 1:
            return vaddr, off, filesz
    raise AssertionError("no text segment")


def test_processes_of_one_executable_share_its_text(engine):
    """Ten `sleep`s (BusyBox, 1.6 MB) add a few pages each, not a copy of the program: their
    text pages are the same frames, holding the file's bytes."""
    c = userland_shell(engine)
    c.send_input(b"echo one; true\n")
    until(c, "one\n")
    before = c.frames.used
    c.send_input(b"for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done; echo started\n")
    until(c, "started\n")
    with c.lock:
        grown = c.frames.used - before
        sleepers = [p for p in c.procs.values() if p.cmdline[:1] == [b"sleep"]]
        assert len(sleepers) == 10
        node = c.ns.namei.walk(c.ns.root, b"/bin/busybox")
        blob = bytes(node.data)
        vaddr, off, size = text_segment(blob)
        text = [{(vpn, f) for vpn, (f, cow) in p.mm.pages.items()
                 if vaddr >> 12 <= vpn < (vaddr + size) >> 12} for p in sleepers]
        shared = set.intersection(*text)
        assert len(shared) > 10 and shared == set.union(*text)  # the text they ran: one copy
        for vpn, f in shared:
            assert c.frames.cache[(node.ino, vpn)] == f
            page, h = vpn << 12, c.frames.host(f)
            lo = max(page, vaddr)
            hi = min(page + 4096, vaddr + size)
            assert bytes(c.ram32.view("u1")[h + lo - page:h + hi - page]) == \
                blob[off + lo - vaddr:off + hi - vaddr]
    assert grown < 10 * 16                  # a few private pages each (stack, data, tables)
    assert grown * 4096 < len(blob) // 4
    engine.kill(c)


def test_a_write_to_a_shared_text_page_is_private(engine):
    """mprotect(PROT_WRITE) and a write give the writer its own copy: the page cache and the
    other processes keep the file's bytes."""
    from hypervisor.kernel.mm import PROT_EXEC, PROT_READ, PROT_WRITE
    c = userland_shell(engine)
    c.send_input(b"sleep 1000 & sleep 1000 & echo two\n")
    until(c, "two\n")
    with c.lock:
        a, b = [p for p in c.procs.values() if p.cmdline[:1] == [b"sleep"]]
        vpn = next(v for v, (f, _) in a.mm.pages.items()
                   if b.mm.pages.get(v, [None])[0] == f and (v, f) and
                   any(k[1] == v for k in c.frames.cache))
        page = vpn << 12
        shared = a.mm.pages[vpn][0]
        original = c.ram32.view("u1")[c.frames.host(shared):c.frames.host(shared) + 4096].copy()
        a.mm.protect(page, page + 4096, PROT_READ | PROT_WRITE | PROT_EXEC)
        a.mm.write(page + 8, b"written!")
        mine = a.mm.pages[vpn][0]
        assert mine != shared and b.mm.pages[vpn][0] == shared
        assert a.mm.read(page + 8, 8) == b"written!"
        assert b.mm.read(page, 4096) == bytes(original)     # the file's bytes, unchanged
        assert bytes(c.ram32.view("u1")[c.frames.host(shared):c.frames.host(shared) + 4096]) \
            == bytes(original)
    engine.kill(c)


def test_unmapped_cached_pages_are_given_back_under_the_limit(engine):
    """The cache counts in the container's memory (Cached in its /proc/meminfo); pages no
    process maps are available: an allocation past the free frames takes them back instead of
    failing, as Linux reclaims clean page cache before an OOM kill."""
    from hypervisor.kernel.frames import FrameLimit
    c = userland_shell(engine, memory=8 << 20)
    c.send_input(b"ls -lR / > /dev/null; cat /proc/meminfo; echo listed\n")
    until(c, "listed\n")
    info = {line.split(":")[0]: int(line.split()[1]) for line in c.console.text().splitlines()
            if line.endswith(" kB")}
    assert info["Cached"] > 0 and info["MemAvailable"] > info["MemFree"]
    with c.lock:
        idle = c.frames.reclaimable
        free = c.frames.count - c.frames.used
        assert idle > 10
        got = []
        with pytest.raises(FrameLimit):
            while True:
                got.append(c.frames.alloc())
        assert len(got) == free + idle                      # every idle cached page came back
        assert c.frames.reclaimable == 0
        for f in got:
            c.frames.put(f)
    c.send_input(b"echo still fine\n")                      # the shell's own pages were kept
    until(c, "still fine\n")
    engine.kill(c)
