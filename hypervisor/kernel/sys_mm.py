"""Memory calls: brk, mmap2, munmap, mprotect, mremap, msync, mlock (brk(2), mmap(2)).

Nothing is allocated when memory is mapped: pages come on first touch (mm.py), from the
container's frames, so the memory limit (--memory) is felt when memory is *used*: a mapping
larger than the whole limit fails at once with ENOMEM (as an over-commit check would), and
touching memory past the limit OOM-kills the container's biggest process.
"""
from .errno import EINVAL, ENODEV, ENOMEM, EACCES, SysError
from .mm import MMAP_BOTTOM, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, USER_TOP
from .syscalls import signed, syscall

MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 1, 2, 0x10, 0x20
MAP_FIXED_NOREPLACE = 0x100000
PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC


def _pages(n):
    return (n + PAGE - 1) & ~(PAGE - 1)


@syscall("brk")
def sys_brk(c, p, addr, *_):
    """Linux's brk returns the new break, or the old one when it cannot move."""
    mm = p.mm
    if addr < mm.brk_start:
        return mm.brk
    new_end, old_end = _pages(addr), _pages(mm.brk)
    if new_end - mm.brk_start > c.mem:
        c.log(f"pid {p.pid} ({p.name()}): brk past the memory limit ({c.mem} bytes): ENOMEM")
        return mm.brk
    if new_end > old_end:
        if not mm._is_free(old_end, new_end) or new_end > MMAP_BOTTOM * 64:
            return mm.brk
        heap = next((v for v in mm.vmas if v.kind == "heap"), None)
        if heap is None:
            mm.add_vma(old_end, new_end, PROT_READ | PROT_WRITE, "heap")
        else:
            heap.end = new_end
    elif new_end < old_end:
        mm.remove_range(new_end, old_end)
        heap = next((v for v in mm.vmas if v.kind == "heap"), None)
        if heap is None and new_end > mm.brk_start:
            mm.add_vma(_pages(mm.brk_start), new_end, PROT_READ | PROT_WRITE, "heap")
    mm.brk = addr
    return addr


@syscall("mmap2")
def sys_mmap2(c, p, addr, length, prot, flags, fd, pgoff):
    mm = p.mm
    if length == 0 or addr & 0xFFF or prot & ~PROT_ALL:
        raise SysError(EINVAL)
    size = _pages(length)
    if size > c.mem or size >= USER_TOP:
        c.log(f"pid {p.pid} ({p.name()}): mmap of {length} bytes is larger than the memory "
              f"limit ({c.mem} bytes): ENOMEM")
        raise SysError(ENOMEM)
    kind = flags & 3
    if kind not in (MAP_SHARED, MAP_PRIVATE):
        raise SysError(EINVAL)
    data = None
    if not flags & MAP_ANONYMOUS:
        f = p.fds.get(signed(fd))
        node = f.node
        if node.is_dir or node.device is not None and node.device not in ("zero",):
            raise SysError(ENODEV)
        if not f.readable:
            raise SysError(EACCES)
        if kind == MAP_SHARED and prot & PROT_WRITE:
            raise SysError(ENODEV, "shared writable file mappings are not supported")
        if node.device is None:
            off = pgoff * PAGE
            data = bytes(node.data[off:off + length])
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        if addr + size > USER_TOP or addr < PAGE:
            raise SysError(EINVAL if flags & MAP_FIXED else ENOMEM)
        if flags & MAP_FIXED_NOREPLACE and not mm._is_free(addr, addr + size):
            from .errno import EEXIST
            raise SysError(EEXIST)
        mm.remove_range(addr, addr + size)
        start = addr
    else:
        start = mm.free_range(size, addr if addr and addr + size <= USER_TOP else 0)
    mm.add_vma(start, start + size, prot, "shared" if kind == MAP_SHARED else "anon")
    if data:
        keep = mm.find(start)
        saved = keep.prot
        keep.prot = PROT_READ | PROT_WRITE      # fill as the kernel, then set the protection
        try:
            mm.write(start, data)
        finally:
            keep.prot = saved
        mm.protect(start, start + size, prot)
    return start


@syscall("munmap")
def sys_munmap(c, p, addr, length, *_):
    if addr & 0xFFF or length == 0 or addr + length > USER_TOP:
        raise SysError(EINVAL)
    p.mm.remove_range(addr, addr + _pages(length))
    return 0


@syscall("mprotect")
def sys_mprotect(c, p, addr, length, prot, *_):
    if addr & 0xFFF or prot & ~PROT_ALL:
        raise SysError(EINVAL)
    if length == 0:
        return 0
    if addr + length > USER_TOP:
        raise SysError(ENOMEM)
    p.mm.protect(addr, addr + _pages(length), prot)
    return 0


@syscall("mremap")
def sys_mremap(c, p, *_):
    raise SysError(ENOMEM)          # musl's realloc falls back to malloc + copy


@syscall("msync", "mlock", "munlock", "mlockall", "munlockall")
def sys_msync(c, p, *_):
    return 0
