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
        return [str(p).encode() for p in sorted(self.container.procs)] + \
            [b"self", b"meminfo", b"uptime", b"loadavg", b"stat", b"version", b"mounts",
             b"cpuinfo"]

    def lookup(self, name):
        c = self.container
        if name == b"self":
            cur = c.current
            return Node(S_IFLNK | 0o777, str(cur.pid if cur else 1).encode())
        if name.isdigit():
            p = c.procs.get(int(name))
            if p is None:
                return None
            d = self._pid_dirs.get(p.pid)
            if d is None or d.proc is not p:
                d = self._pid_dirs[p.pid] = PidDir(c, p)
                d.parent, d.name = self, name
            return d
        make = getattr(self, "_" + name.decode("ascii", "replace"), None)
        return _file(make()) if make and name.isalpha() else None

    def _meminfo(self):
        c = self.container
        total = c.frames.count * 4
        free = (c.frames.count - c.frames.used) * 4
        return (f"MemTotal:     {total:8d} kB\nMemFree:      {free:8d} kB\n"
                f"MemAvailable: {free:8d} kB\nBuffers:             0 kB\nCached:              0 kB\n"
                f"SwapCached:          0 kB\nSwapTotal:           0 kB\nSwapFree:            0 kB\n"
                f"Shmem:               0 kB\n")

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
        ticks = p.cpu_insns // 1_000_000            # 100 MHz hart, HZ 100
        start = p.start_ns * HZ // 10**9
        vsize = sum(v.end - v.start for v in p.mm.vmas) if p.mm else 0
        tty = (136 << 8) if p.sid == 1 else 0
        return (f"{p.pid} ({p.name()}) {p.state} {ppid} {p.pgid} {p.sid} {tty} "
                f"{self.container.tty.fg_pgrp} 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 {start} "
                f"{vsize} {p.rss_pages} 4294967295 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")

    def _status(self):
        p = self.proc
        ppid = p.parent.pid if p.parent else 0
        state = {"R": "R (running)", "S": "S (sleeping)", "T": "T (stopped)",
                 "Z": "Z (zombie)"}[p.state]
        vsize = sum(v.end - v.start for v in p.mm.vmas) // 1024 if p.mm else 0
        return (f"Name:\t{p.name()}\nState:\t{state}\nTgid:\t{p.pid}\nPid:\t{p.pid}\n"
                f"PPid:\t{ppid}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmSize:\t{vsize} kB\n"
                f"VmRSS:\t{p.rss_pages * 4} kB\nThreads:\t1\nSigPnd:\t{p.pending:016x}\n"
                f"SigBlk:\t{p.blocked:016x}\n")

    def _cmdline(self):
        return b"".join(a + b"\0" for a in self.proc.cmdline)
