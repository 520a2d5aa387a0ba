"""Making processes: clone(2) with fork semantics, execve(2), and a container's first process.

clone without CLONE_VM (musl's fork) copies the address space copy-on-write (mm.py), the fd
table and signal dispositions; clone with CLONE_VM|CLONE_VFORK (musl's posix_spawn) is served
the same way on the stack it names (the child only execs, so a private copy is
indistinguishable); threads (CLONE_THREAD) are not supported: EINVAL and a log line.
--pids-limit caps the processes a container may have (the pids cgroup: EAGAIN past it).
"""
from .. import state as S
from ..mmu import tlb_flush
from . import exec as elf
from . import signal as sig
from .errno import EACCES, EAGAIN, EINVAL, ELOOP, ENOENT, SysError
from .file import FdTable
from .proc import RUNNING, Process
from .vfs import S_IFREG

CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_VFORK, CLONE_PARENT, CLONE_THREAD = 0x4000, 0x8000, 0x10000
CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID = 0x80000, 0x100000, 0x200000
CLONE_CHILD_SETTID = 0x1000000
NEWNS_FLAGS = 0x7E020000            # CLONE_NEW*: a container cannot make namespaces


def fork(c, p, flags, stack, ptid, tls, ctid):
    if flags & (CLONE_THREAD | CLONE_SIGHAND) or flags & CLONE_VM and not flags & CLONE_VFORK:
        raise SysError(EINVAL, "threads (clone with CLONE_VM/CLONE_THREAD) are not supported")
    if flags & NEWNS_FLAGS:
        raise SysError(EINVAL, "new namespaces inside a container are not supported")
    limit = c.config.pids_limit
    if limit and len(c.procs) >= limit:
        raise SysError(EAGAIN, f"--pids-limit {limit} reached: fork refused")
    child = Process(c, c.new_pid(), parent=p)
    child.mm = p.mm.fork()
    child.fds = p.fds.fork()
    child.cwd = p.cwd
    child.comm, child.cmdline = p.comm, list(p.cmdline)
    child.pgid, child.sid, child.umask = p.pgid, p.sid, p.umask
    child.actions = dict(p.actions)
    child.blocked = p.blocked
    child.start_ns = c.now_ns()
    regs = c.regs_of(p)
    child.regs[:] = regs
    child.regs[10] = 0                          # the child's clone() returns 0
    child.regs[32] = (int(regs[32]) + 4) & 0xFFFFFFFF
    if stack:
        child.regs[2] = stack
    if flags & CLONE_SETTLS:
        child.regs[4] = tls                     # tp
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_tid = ctid
    if flags & CLONE_PARENT_SETTID and ptid:
        p.mm.write_u32(ptid, child.pid)
    if flags & CLONE_CHILD_SETTID and ctid:
        child.mm.write_u32(ctid, child.pid)
    c.procs[child.pid] = child
    p.children.append(child)
    c.runq.append(child)
    return child.pid


def _lookup_exec(c, p, path):
    node = c.ns.namei.walk(p.cwd, path)
    if node.is_dir:
        raise SysError(EACCES)
    if node.type != S_IFREG:
        raise SysError(EACCES)
    if not node.mode & 0o111:
        raise SysError(EACCES)
    return node


def load_program(c, p, path, argv, envp, depth=0):
    """Resolve and check everything execve needs; nothing of ``p`` changes on failure.
    Returns (address space, entry, sp)."""
    if depth > 4:
        raise SysError(ELOOP)
    node = _lookup_exec(c, p, path)
    blob = bytes(node.data)
    script = elf.script_interpreter(blob, path)
    if script is not None:
        interp, arg = script
        return load_program(c, p, interp, [interp] + arg + [path] + argv[1:], envp, depth + 1)
    try:
        program = elf.parse(blob, path.decode("utf-8", "replace"))
    except SysError as exc:
        c.log(f"pid {p.pid}: execve: {exc.why}")
        raise SysError(exc.errno) from None
    mm = elf.load(program, c.frames, c.ram32, c.tlb, c.trampoline)
    try:
        sp = elf.build_stack(mm, program, argv, envp, path, c.random_bytes(16))
    except BaseException:
        mm.destroy()
        raise
    return mm, program.entry, sp, argv


def execve(c, p, path, argv, envp):
    mm, entry, sp, argv = load_program(c, p, path, argv, envp)
    old = p.mm
    if old is not None:
        old.active = False
        old.destroy()
    p.mm = mm
    p.fds.close_on_exec()
    p.actions = {s: a for s, a in p.actions.items() if a[0] == sig.SIG_IGN}
    p.comm = argv[0].rsplit(b"/", 1)[-1][:15] if argv else path.rsplit(b"/", 1)[-1][:15]
    p.cmdline = list(argv)
    regs = c.regs_of(p)
    regs[:] = 0
    regs[32] = entry
    regs[2] = sp
    if p is c.current:
        c.st[S.SATP] = mm.satp          # the hart walks the new tables
        mm.active = True
        tlb_flush(c.tlb)


def spawn(c, argv, envp, cwd=b"/", parent=None, fds=None):
    """A new process of the container running ``argv`` (its init, or `hv container exec`).
    Raises SysError (ENOENT: docker's 127, EACCES/ENOEXEC: 126)."""
    limit = c.config.pids_limit
    if limit and len(c.procs) >= limit:
        raise SysError(EAGAIN)
    p = Process(c, c.new_pid(), parent=parent)
    try:
        p.cwd = c.ns.namei.walk(c.ns.root, cwd)
    except SysError:
        p.cwd = c.ns.root
    p.fds = fds if fds is not None else FdTable()
    path = argv[0]
    if b"/" not in path:
        path = _search_path(c, p, path, envp)
    p.start_ns = c.now_ns()
    mm, entry, sp, argv = load_program(c, p, path, list(argv), list(envp))
    p.mm = mm
    p.regs[32], p.regs[2] = entry, sp
    p.comm = argv[0].rsplit(b"/", 1)[-1][:15]
    p.cmdline = list(argv)
    c.procs[p.pid] = p
    if parent is not None:
        parent.children.append(p)
    p.state = RUNNING
    c.runq.append(p)
    return p


def _search_path(c, p, name, envp):
    path = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for e in envp:
        if e.startswith(b"PATH="):
            path = e[5:]
    for d in path.split(b":"):
        cand = (d or b".") + b"/" + name
        try:
            node = c.ns.namei.walk(p.cwd, cand)
        except SysError:
            continue
        if node.type == S_IFREG:
            return cand
    raise SysError(ENOENT)
