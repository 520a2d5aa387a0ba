"""/proc for one PID namespace (proc(5)): made up on each lookup from the kernel's tables.

Only the container's own processes appear; ``/proc/self`` is the caller.  Files are
snapshots taken when looked up (read-only).  Provided: /proc/PID/{stat,status,cmdline,comm},
/proc/self, meminfo, uptime, loadavg, stat, version, mounts, cpuinfo.  There is no
/proc/PID/root, cwd or exe link: nothing here leads out of the container's root.
"""
from .vfs import S_IFLNK, S_IFREG, Dir, Node

HZ = 100


def _file(text):
    n = Node(S_IFREG | 0o444, text.encode() if isinstance(text, str) else text)
    n.lower = True                  # never written
    n.mount = True
    return n


class ProcRoot(Dir):
    mount = True

    def __init__(self, container):
        super().__init__(0o555)
        self.container = container
        self._pid_dirs = {}

    def names(self):
        procs = self.container.procs
        return [str(p).encode() for p in sorted(procs) if procs[p].leader is procs[p]] + \
            [b"self", b"meminfo", b"uptime", b"loadavg", b"stat", b"version", b"mounts",
             b"cpuinfo"]

    def lookup(self, name):
        c = self.container
        if name == b"self":
            cur = c.current
            return Node(S_IFLNK | 0o777, str(cur.tgid if cur else 1).encode())
        if name.isdigit():
            p = c.procs.get(int(name))
            if p is None:
                return None
            p = p.leader                # /proc/TID of a thread: its process (as Linux)
            d = self._pid_dirs.get(p.pid)
            if d is None or d.proc is not p:
                d = self._pid_dirs[p.pid] = PidDir(c, p)
                d.parent, d.name = self, name
            return d
        make = getattr(self, "_" + name.decode("ascii", "replace"), None)
        return _file(make()) if make and name.isalpha() else None

    def _meminfo(self):
        """Linux 6.1's fields in its layout (fs/proc/meminfo.c: the name padded to 16, the
        value to 8, " kB"), for the container's frames: its limit is MemTotal; the page cache
        (its executables' shared read-only pages, frames.py) is Cached, and the part no process
        maps counts as available, as Linux counts clean page cache; the rest (processes' own
        pages and page tables) is anonymous.  BusyBox free reads Cached, MemAvailable and
        SReclaimable and prints an extra "-/+ buffers/cache" line when one is missing."""
        c = self.container
        fr = c.frames
        total, free = fr.count * 4, (fr.count - fr.used) * 4
        cached, idle = len(fr.cache) * 4, fr.reclaimable * 4
        anon = total - free - cached
        fields = (("MemTotal", total), ("MemFree", free), ("MemAvailable", free + idle),
                  ("Buffers", 0), ("Cached", cached), ("SwapCached", 0),
                  ("Active", anon + cached - idle), ("Inactive", idle),
                  ("Active(anon)", anon), ("Inactive(anon)", 0),
                  ("Active(file)", cached - idle), ("Inactive(file)", idle), ("Unevictable", 0),
                  ("Mlocked", 0), ("SwapTotal", 0), ("SwapFree", 0), ("Dirty", 0),
                  ("Writeback", 0), ("AnonPages", anon), ("Mapped", cached - idle), ("Shmem", 0),
                  ("KReclaimable", 0), ("Slab", 0), ("SReclaimable", 0), ("SUnreclaim", 0),
                  ("KernelStack", 0), ("PageTables", 0), ("SecPageTables", 0),
                  ("NFS_Unstable", 0), ("Bounce", 0), ("WritebackTmp", 0),
                  ("CommitLimit", total // 2), ("Committed_AS", anon), ("VmallocTotal", 0),
                  ("VmallocUsed", 0), ("VmallocChunk", 0), ("Percpu", 0))
        return "".join(f"{name + ':':<16}{kb:8d} kB\n" for name, kb in fields)

    def _uptime(self):
        t = self.container.now_ns() / 1e9
        return f"{t:.2f} {t:.2f}\n"

    def _loadavg(self):
        c = self.container
        run = sum(1 for p in c.procs.values() if p.state == "R")
        return f"0.00 0.00 0.00 {run}/{len(c.procs)} {c.next_pid - 1}\n"

    def _stat(self):
        ticks = self.container.now_ns() * HZ // 10**9
        return (f"cpu  {ticks} 0 0 0 0 0 0 0 0 0\ncpu0 {ticks} 0 0 0 0 0 0 0 0 0\n"
                f"intr 0\nctxt 0\nbtime 0\nprocesses {self.container.next_pid - 1}\n"
                f"procs_running 1\nprocs_blocked 0\n")

    def _version(self):
        return "Linux version 6.1.0-hvlab (hvlab shared kernel) #1 SMP\n"

    def _mounts(self):
        return "overlay / overlay rw 0 0\nproc /proc proc rw 0 0\ndevtmpfs /dev devtmpfs rw 0 0\n"

    def _cpuinfo(self):
        return "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv32ima_zicsr_zifencei\nmmu\t\t: sv32\n\n"


class PidDir(Dir):
    mount = True

    def __init__(self, container, proc):
        super().__init__(0o555)
        self.container, self.proc = container, proc

    def names(self):
        return [b"stat", b"status", b"cmdline", b"comm"]

    def lookup(self, name):
        make = {b"stat": self._stat, b"status": self._status, b"cmdline": self._cmdline,
                b"comm": lambda: self.proc.name() + "\n"}.get(name)
        return _file(make()) if make else None

    def _stat(self):
        p = self.proc
        ppid = p.parent.pid if p.parent else 0
        ticks = p.leader.proc_insns // 1_000_000    # 100 MHz hart, HZ 100
        cticks = p.leader.child_insns // 1_000_000
        start = p.start_ns * HZ // 10**9
        vsize = sum(v.end - v.start for v in p.mm.vmas) if p.mm else 0
        tty = (136 << 8) if p.sid == 1 else 0
        return (f"{p.pid} ({p.name()}) {p.state} {ppid} {p.pgid} {p.sid} {tty} "
                f"{self.container.tty.fg_pgrp} 0 0 0 0 0 {ticks} 0 {cticks} 0 20 0 1 0 {start} "
                f"{vsize} {p.rss_pages} 4294967295 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")

    def _status(self):
        p = self.proc
        ppid = p.parent.pid if p.parent else 0
        state = {"R": "R (running)", "S": "S (sleeping)", "T": "T (stopped)",
                 "Z": "Z (zombie)"}[p.state]
        vsize = sum(v.end - v.start for v in p.mm.vmas) // 1024 if p.mm else 0
        return (f"Name:\t{p.name()}\nState:\t{state}\nTgid:\t{p.tgid}\nPid:\t{p.pid}\n"
                f"PPid:\t{ppid}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmSize:\t{vsize} kB\n"
                f"VmRSS:\t{p.rss_pages * 4} kB\nThreads:\t{max(1, len(p.group))}\nSigPnd:\t{p.pending:016x}\n"
                f"SigBlk:\t{p.blocked:016x}\n")

    def _cmdline(self):
        return b"".join(a + b"\0" for a in self.proc.cmdline)
