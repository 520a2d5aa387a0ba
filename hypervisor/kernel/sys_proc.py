"""Process calls: exit, exit_group, clone, execve, waitid, the ids, process groups and
sessions, uname/sethostname, sysinfo, prlimit64, getrandom, umask, sched_yield, prctl,
getrusage, set_tid_address, set_robust_list.

Pids are the container's (its PID namespace): a pid of another container is simply not found
(ESRCH), whatever number is guessed.
"""
import struct

from . import exit as exit_ops
from . import fork as fork_ops
from . import threads
from .errno import E2BIG, EINVAL, EPERM, ESRCH, SysError
from .syscalls import NORETURN
from .syscalls import signed, syscall

MAX_ARGS = 4096


@syscall("exit")
def sys_exit(c, p, code, *_):
    """exit(2) ends the calling thread (the process, if it was the last)."""
    threads.exit_thread(c, p, (code & 0xFF) << 8)
    return NORETURN


@syscall("exit_group")
def sys_exit_group(c, p, code, *_):
    exit_ops.exit(c, p, (code & 0xFF) << 8)
    return NORETURN


@syscall("clone")
def sys_clone(c, p, flags, stack, ptid, tls, ctid, *_):
    return fork_ops.fork(c, p, flags, stack, ptid, tls, ctid)


def _strings(p, addr):
    out = []
    if not addr:
        return out
    while True:
        if len(out) >= MAX_ARGS:
            raise SysError(E2BIG)
        ptr = p.mm.read_u32(addr + 4 * len(out))
        if ptr == 0:
            return out
        out.append(p.mm.read_str(ptr, 128 * 1024))


@syscall("execve")
def sys_execve(c, p, path, argv, envp, *_):
    name = p.mm.read_str(path)
    if not name:
        from .errno import ENOENT
        raise SysError(ENOENT)
    fork_ops.execve(c, p, name, _strings(p, argv), _strings(p, envp))
    return NORETURN


@syscall("waitid")
def sys_waitid(c, p, idtype, ident, infop, options, rusage, *_):
    return exit_ops.waitid(c, p, idtype, signed(ident), infop, options, rusage)


@syscall("getpid")
def sys_getpid(c, p, *_):
    return p.tgid                       # the process's pid: its leader's


@syscall("gettid")
def sys_gettid(c, p, *_):
    return p.pid


@syscall("getppid")
def sys_getppid(c, p, *_):
    parent = p.leader.parent
    return parent.pid if parent is not None and parent.alive else 0


@syscall("getuid", "geteuid", "getgid", "getegid")
def sys_getuid(c, p, *_):
    return 0


@syscall("setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
         "setfsuid", "setfsgid")
def sys_setuid(c, p, *_):
    return 0


@syscall("getresuid", "getresgid")
def sys_getresuid(c, p, a, b, d, *_):
    for addr in (a, b, d):
        p.mm.write_u32(addr, 0)
    return 0


@syscall("getgroups")
def sys_getgroups(c, p, size, lst, *_):
    if size & 0x80000000:       # getgroups(2): size is an int; kernel/groups.c: < 0 is EINVAL
        raise SysError(EINVAL)
    return 0


@syscall("set_tid_address")
def sys_set_tid_address(c, p, addr, *_):
    p.clear_tid = addr
    return p.pid


@syscall("set_robust_list", "rseq", "membarrier", "sched_setaffinity", "sched_setscheduler",
         "sched_setparam", "madvise")
def sys_nothing(c, p, *_):
    return 0


@syscall("sched_yield")
def sys_sched_yield(c, p, *_):
    if c.runq:
        c.runq.append(p)
        c.st[32] = (int(c.st[32]) + 4) & 0xFFFFFFFF
        c.st[10] = 0
        c._switch_next()
        return NORETURN
    return 0


@syscall("sched_getaffinity")
def sys_sched_getaffinity(c, p, pid, size, mask, *_):
    if size < 4:
        raise SysError(EINVAL)
    p.mm.write(mask, struct.pack("<I", 1))
    return 4


def _proc(c, p, pid):
    if pid == 0:
        return p
    q = c.procs.get(pid)
    if q is None:
        raise SysError(ESRCH)
    return q


@syscall("setpgid")
def sys_setpgid(c, p, pid, pgid, *_):
    q = _proc(c, p, signed(pid))
    if signed(pgid) < 0:
        raise SysError(EINVAL)
    q.pgid = pgid or q.pid
    return 0


@syscall("getpgid")
def sys_getpgid(c, p, pid, *_):
    return _proc(c, p, signed(pid)).pgid


@syscall("getsid")
def sys_getsid(c, p, pid, *_):
    return _proc(c, p, signed(pid)).sid


@syscall("setsid")
def sys_setsid(c, p, *_):
    if any(q.pgid == p.pid for q in c.procs.values() if q is not p):
        raise SysError(EPERM)
    p.sid = p.pgid = p.pid
    return p.pid


@syscall("uname")
def sys_uname(c, p, buf, *_):
    fields = [b"Linux", c.ns.hostname, b"6.1.0-hvlab", b"#1 SMP hvlab shared kernel",
              b"riscv32", c.ns.domainname]
    p.mm.write(buf, b"".join(f[:64].ljust(65, b"\0") for f in fields))
    return 0


@syscall("sethostname", "setdomainname")
def sys_sethostname(c, p, addr, length, *_):
    if signed(length) < 0 or length > 64:
        raise SysError(EINVAL)
    name = p.mm.read(addr, length)
    if c.kernel.name_of(int(c.st[17])) == "sethostname":
        c.ns.hostname = name
    else:
        c.ns.domainname = name
    return 0


@syscall("sysinfo")
def sys_sysinfo(c, p, buf, *_):
    up = c.now_ns() // 10**9
    total, used = c.frames.count * 4096, c.frames.used * 4096
    running = len([q for q in c.procs.values() if q.alive])
    # struct sysinfo (sysinfo(2)): uptime, loads[3], totalram, freeram, sharedram, bufferram,
    # totalswap, freeswap, procs, pad, totalhigh, freehigh, mem_unit
    p.mm.write(buf, struct.pack("<i3I6IHHIII", up, 0, 0, 0, total, total - used, 0, 0, 0, 0,
                                running, 0, 0, 0, 1).ljust(64, b"\0"))
    return 0


RLIM_INF = 0xFFFFFFFFFFFFFFFF


@syscall("prlimit64")
def sys_prlimit64(c, p, pid, resource, new, old, *_):
    _proc(c, p, signed(pid))
    if resource > 15:
        raise SysError(EINVAL)
    limits = {3: (8 << 20, RLIM_INF), 7: (1024, 1024), 6: (c.config.pids_limit or 4096,) * 2,
              9: (c.mem, c.mem), 2: (c.mem, c.mem)}
    cur, mx = limits.get(resource, (RLIM_INF, RLIM_INF))
    if old:
        p.mm.write(old, struct.pack("<QQ", cur, mx))
    if new:
        p.mm.read(new, 16)                  # accepted, not enforced beyond the built-in ones
    return 0


@syscall("getrandom")
def sys_getrandom(c, p, buf, n, flags, *_):
    if flags & ~7:
        raise SysError(EINVAL)
    n = min(n, 1 << 20)
    p.mm.write(buf, c.random_bytes(n))
    return n


@syscall("umask")
def sys_umask(c, p, mask, *_):
    old, p.umask = p.umask, mask & 0o777
    return old


@syscall("prctl")
def sys_prctl(c, p, option, arg2, *_):
    if option == 15:                        # PR_SET_NAME
        p.comm = p.mm.read_str(arg2, 16)[:15]
        return 0
    if option == 16:                        # PR_GET_NAME
        p.mm.write(arg2, p.comm[:15].ljust(16, b"\0"))
        return 0
    raise SysError(EINVAL)


@syscall("getrusage")
def sys_getrusage(c, p, who, buf, *_):
    """getrusage(2): RUSAGE_SELF (0) the whole process, RUSAGE_CHILDREN (-1) its reaped
    children, RUSAGE_THREAD (1) the caller; the kernel's 72-byte rv32 struct."""
    who = signed(who)
    if who == 0:
        insns = p.leader.proc_insns
    elif who == -1:
        insns = p.leader.child_insns
    elif who == 1:
        insns = p.cpu_insns
    else:
        raise SysError(EINVAL)
    p.mm.write(buf, exit_ops.rusage_bytes(insns))
    return 0


@syscall("getpriority")
def sys_getpriority(c, p, *_):
    return 20


@syscall("setpriority")
def sys_setpriority(c, p, *_):
    return 0


@syscall("personality")
def sys_personality(c, p, *_):
    return 0


@syscall("reboot", "mount", "umount2", "pivot_root", "swapon", "swapoff", "init_module", "syslog",
         "delete_module", "unshare", "setns", "kexec_load", "ptrace", "acct")
def sys_not_in_a_container(c, p, *_):
    raise SysError(EPERM)
