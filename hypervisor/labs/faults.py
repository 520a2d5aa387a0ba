"""Lab 3, part 2: faults, and how many instances survive each.

Part 1's three setups again, each with one *victim* and N-1 *bystanders*:

* one Linux VM whose N processes are the victim and N-1 bystanders (one kernel for all);
* N Linux VMs: a victim VM and N-1 bystander VMs, each with its own kernel;
* N containers on hvlab's shared kernel: a victim container and N-1 bystanders.

The victim commits one fault; a bystander runs part 1's workload (`primes M`) and *survives*
when it prints the right answer and ends normally.  For each fault one engine runs the three
setups side by side (one page allocator, one scheduler: what isolates them is what the lab
is about), and the lab counts the survivors of each.  The faults (FAULTS below):

* a wild store: a store through a wild pointer (wildstore, guests/linux/programs/);
* a kernel fault: the guest kernel panics (`echo c > /proc/sysrq-trigger`) / a bug in the
  shared kernel (``Kernel.inject_bug``: `hv container run --kernel-bug-after N`);
* a fork bomb (forkbomb), then the same under a process limit (a pids cgroup in the VM,
  `--pids-limit` for a container);
* a memory hog (memhog) against the guest's OOM killer and the container's `--memory`;
* a noisy CPU neighbour (`primes` that never ends), then inside the VM with a cgroup weight.

Everything here is a count (virtual time, on every machine the same for a seed): the survivors,
what the victims' kernels said, the guest times of the phases inside the one VM.
"""
import concurrent.futures
import re
import time

from .. import state as S
from ..catalog import IMAGES_DIR
from ..devicetree import TIMEBASE_HZ
from .base import LabError

MiB = 1 << 20
KINDS = ("processes", "vms", "containers")
KIND_LABEL = {"processes": "processes in one Linux VM", "vms": "Linux VMs",
              "containers": "containers"}
FAULTS = ("wildstore", "panic", "forkbomb", "forkbomb_limited", "memhog", "noisy")
FAULT_LABEL = {
    "wildstore": "a wild store",
    "panic": "the kernel fails: a guest kernel panic / a bug in the shared kernel",
    "forkbomb": "a fork bomb",
    "forkbomb_limited": "a fork bomb under a process limit",
    "memhog": "a memory hog",
    "noisy": "a noisy CPU neighbour",
}
SHORT = {"wildstore": "wild store", "panic": "kernel panic / bug", "forkbomb": "fork bomb",
         "forkbomb_limited": "fork bomb, limited", "memhog": "memory hog",
         "noisy": "noisy neighbour"}
BIG = 100_000_000               # primes BIG: a CPU hog that runs until it is stopped
TIMEOUT = 150.0
PROGRAMS = ("wildstore", "forkbomb", "memhog", "primes", "hello")   # guests/linux/programs


def params(rng, quick, n, limit):
    """Part 2's workload for a seed: part 1's N and M, the wild pointer, the process limit,
    the noisy phases' longer primes (a share shows only over many of the guest kernel's 10 ms
    ticks)."""
    return {"n": n, "limit": limit, "vm_mem": (32 if quick else 64) * MiB,
            "container_mem": 16 * MiB, "addr": rng.randrange(0x100, 0x10000, 0x10),
            "pids": rng.choice([16, 24, 32, 40, 48]), "hold_ms": 300,
            "noisy_limit": 60000 if quick else rng.choice([60000, 70000, 80000]),
            "noisy_weight": 1, "bomb_max": 100_000}


# ---------------------------------------------------------------------- what each runs
def _bystanders(m, k):
    """`primes M & ... & wait` for k processes (each one fork of the shell)."""
    return " ".join([f"primes {m} &"] * k) + " wait"


def _bomb(p, limited):
    bomb = f"forkbomb {p['bomb_max']} {p['hold_ms']}"
    if not limited:
        # the kernel's own limit and the tasks already there (counting ls and wc, as many as
        # the two sides of the bomb's pipe will be): the bomb can have the rest
        return ("echo lab: threads-max; cat /proc/sys/kernel/threads-max; "
                f"echo lab: tasks; ls -d /proc/[0-9]* | wc -l; {bomb}")
    cg = "/sys/fs/cgroup/bomb"
    # the left side of the pipe moves itself (echo 0: "the writer") into the limited cgroup,
    # then becomes the bomb: only the bomb is limited, not the shell or the bystanders
    return (f"mkdir {cg}; echo {p['pids']} > {cg}/pids.max; "
            f"{{ echo 0 > {cg}/cgroup.procs; exec {bomb}; }}")


def processes_script(fault, p):
    """The run= command of the one VM: the victim process and N-1 bystander processes."""
    k, m = p["n"] - 1, p["limit"]
    if fault == "wildstore":
        return (f"{' '.join([f'primes {m} &'] * k)} wildstore {p['addr']:#x}; "
                "echo lab: victim status $?; wait")
    if fault == "panic":
        return f"{' '.join([f'primes {m} &'] * k)} echo c > /proc/sysrq-trigger; wait"
    if fault in ("forkbomb", "forkbomb_limited"):
        # the bystanders start once the bomb is full (it reports on the pipe, then holds)
        return (f"{_bomb(p, fault == 'forkbomb_limited')} | "
                f"{{ read line; echo $line; {_bystanders(m, k)}; }}")
    if fault == "memhog":
        return f"{' '.join([f'primes {m} &'] * k)} memhog; echo lab: victim status $?; wait"
    if fault == "noisy":
        cg, m = "/sys/fs/cgroup/noisy", p["noisy_limit"]
        pids = " ".join(f"$P{i}" for i in range(k))
        starts = " ".join(f"primes {m} & P{i}=$!;" for i in range(k))
        return (f"echo lab: alone; {_bystanders(m, k)}; "
                f"echo lab: noisy; primes {BIG} & S=$!; {starts} wait {pids}; kill $S; wait; "
                f"echo lab: weighted; mkdir {cg}; echo {p['noisy_weight']} > {cg}/cpu.weight; "
                f"{{ echo 0 > {cg}/cgroup.procs; exec primes {BIG}; }} & S=$!; {starts} "
                f"wait {pids}; kill $S; wait; echo lab: end")
    raise ValueError(fault)


def victim_vm_command(fault, p):
    """The run= command of the victim VM (its bystanders run `primes M`, as in part 1)."""
    if fault == "wildstore":
        return f"wildstore {p['addr']:#x}"
    if fault == "panic":
        return "echo c > /proc/sysrq-trigger"
    if fault in ("forkbomb", "forkbomb_limited"):
        # the victim tries to start one program itself while its bomb holds
        return f"{_bomb(p, fault == 'forkbomb_limited')} | {{ read line; echo $line; " \
               f"primes {p['limit']} & wait; }}"
    if fault == "memhog":
        return "memhog"
    if fault == "noisy":
        return f"primes {BIG}"
    raise ValueError(fault)


def victim_container(fault, p):
    """(argv, create keywords) of the victim container."""
    if fault == "wildstore":
        return ["/usr/bin/wildstore", f"{p['addr']:#x}"], {}
    if fault == "panic":
        return ["/usr/bin/hello"], {}
    if fault in ("forkbomb", "forkbomb_limited"):
        script = (f"forkbomb {p['bomb_max']} {p['hold_ms']} | {{ read line; echo $line; "
                  f"primes {p['limit']} & wait; }}")
        return (["/bin/sh", "-c", script],
                {"pids_limit": p["pids"]} if fault == "forkbomb_limited" else {})
    if fault == "memhog":
        return ["/usr/bin/memhog"], {}
    if fault == "noisy":
        return ["/usr/bin/primes", str(BIG)], {}
    raise ValueError(fault)


# ---------------------------------------------------------------------- watching consoles
class Watch:
    """An instance's console as lines, each with the guest time (seconds of its own clock)
    at which its last byte was written: the console's listeners are called as the guest
    writes, on the thread running it."""

    def __init__(self, inst):
        self.inst = inst
        self.lines = []
        self._buf = bytearray()
        inst.console.listeners.append(self._add)

    def _add(self, data):
        st = self.inst.st
        t = int(st[S.CYCLE]) // max(1, int(st[S.TIME_DIV])) / TIMEBASE_HZ
        self._buf += data
        while b"\n" in self._buf:
            line, _, rest = bytes(self._buf).partition(b"\n")
            self._buf = bytearray(rest)
            self.lines.append((t, line.decode("utf-8", "replace").rstrip("\r")))

    def text(self):
        return "\n".join(line for _, line in self.lines)

    def has(self, needle):
        return any(needle in line for _, line in self.lines)

    def first(self, needle):
        return next(((t, line) for t, line in self.lines if needle in line), (None, None))


def results(lines, m, truth):
    """How many lines say the right answer for `primes m`."""
    want = f"primes up to {m}: {truth} "
    return sum(1 for _, line in lines if line.startswith(want))


# ---------------------------------------------------------------------- one fault
def run_fault(fault, p, truth, progress=None):
    """One engine: the one VM (processes), N VMs, N containers, each setup with its victim.
    Returns {kind: {survivors, bystanders, victim: {...}}} plus the phases of the noisy VM."""
    from ..kernel import runtime
    from ..kernel.kernel import Kernel
    from .runner import engine
    n, m = p["n"], p["limit"]
    userland = str(IMAGES_DIR / "userland.tar")
    eng = engine(host_mem=(n + 1) * p["vm_mem"] + (n + 1) * p["container_mem"] + 64 * MiB,
                 threads=2)
    try:
        one = eng.create("linux-batch", name="linux", mem=p["vm_mem"],
                         bootargs=f'run="{processes_script(fault, p)}"')
        vms = [eng.create("linux-batch", name=f"vm{i + 1}", mem=p["vm_mem"],
                          bootargs=f'run="{victim_vm_command(fault, p) if i == 0 else f"primes {m}"}"')
               for i in range(n)]
        argv, kw = victim_container(fault, p)
        cts = [runtime.create(eng, userland, argv if i == 0 else ["/usr/bin/primes", str(m)],
                              name=f"c{i + 1}", memory=p["container_mem"], **(kw if i == 0 else {}))
               for i in range(n)]
        watch = {inst.name: Watch(inst) for inst in [one] + vms + cts}
        for vm in [one] + vms:
            eng.start(vm)
        bug = None
        if fault == "panic":
            bug = _kernel_bug(eng, Kernel.of(eng), cts)
        else:
            for c in cts:
                eng.start(c)
        _supervise(eng, fault, one, vms, cts, watch)
        stats = {inst.name: inst.stats() for inst in [one] + vms + cts}
    finally:
        eng.shutdown()
    return _tally(fault, p, truth, one, vms, cts, watch, stats, bug)


def _kernel_bug(eng, kernel, cts):
    """The shared kernel's bug, hit by the victim: step each bystander container on this
    thread until it has made its first system call and computes (``Engine.step``: a paused
    instance, deterministic), arm the bug for the very next system call (inject_bug(0)), and
    step the victim: its first system call is the one."""
    victim, others = cts[0], cts[1:]
    for c in others:
        for _ in range(100):
            if c.syscalls >= 1 or c.done:
                break
            eng.step(c, 2000)
    started = [c.syscalls for c in others]
    kernel.inject_bug(0)
    for _ in range(1000):
        if victim.done:
            break
        eng.step(victim, 10_000)
    return {"bystander_syscalls_before": started, "panic": kernel.panicked or ""}


def _supervise(eng, fault, one, vms, cts, watch):
    """Wait for every instance to end, doing what an operator would: a VM whose kernel
    panicked spins in panic() for ever (hvlab sees a running VM), so it is killed once its
    console says so; a noisy victim is stopped when its bystanders are done."""
    deadline = time.perf_counter() + TIMEOUT
    everyone = [one] + vms + cts
    while not all(i.done for i in everyone):
        for vm in [one] + vms:
            if not vm.done and watch[vm.name].has("end Kernel panic"):
                eng.kill(vm)
        if fault == "noisy":
            for victim, others in ((vms[0], vms[1:]), (cts[0], cts[1:])):
                if not victim.done and all(o.done for o in others):
                    eng.kill(victim)
        if time.perf_counter() > deadline:
            late = ", ".join(i.name for i in everyone if not i.done)
            for i in everyone:
                eng.kill(i)
            raise LabError(f"part 2, {SHORT[fault]}: {late} still running after {TIMEOUT:g} s")
        eng.wait(0.02, vms=everyone)


NUMBER = re.compile(r"forkbomb: (\d+) processes, then (.*)")


def _fate(w, s, kind, status=None):
    """What happened to a victim, from its console and its stats (counts and words)."""
    out = {"outcome": s["outcome"], "status": status}
    if s["outcome"] != "killed":    # a killed one ran until the lab saw it: host timing
        out.update(pages_peak=s["pages_peak"], instructions=s["instructions"])
    t, line = w.first("Kernel panic - not syncing")
    if line:
        out["panic"] = line.split("] ", 1)[-1]
        out["panic_guest_seconds"] = round(t, 6)
    if w.has("Bad address"):
        out["efault"] = True
    if w.has("Segmentation fault") or status == 139:
        out["sigsegv"] = True
    bomb = [NUMBER.search(line) for _, line in w.lines]
    bomb = [b for b in bomb if b]
    if bomb:
        out["bomb_processes"] = int(bomb[0].group(1))
        out["bomb_stopped_by"] = bomb[0].group(2)
    if w.has("can't fork"):
        out["cant_fork"] = True
    for key, marker in (("threads_max", "lab: threads-max"), ("tasks_before", "lab: tasks")):
        after = [line for (_, prev), (_, line) in zip(w.lines, w.lines[1:]) if prev == marker]
        if after and after[0].strip().isdigit():
            out[key] = int(after[0])
    mib = [int(line.split()[1]) for _, line in w.lines if re.fullmatch(r"memhog: \d+ MiB", line)]
    if mib:
        out["hog_mib"] = mib[-1]
    if w.has("Out of memory: Killed process"):
        out["oom_killed"] = True
    if kind == "containers":        # the shared kernel's own counters
        out["clone_calls"] = s["syscalls_by_name"].get("clone", 0)
        out["oom_kills"] = s.get("oom_kills", 0)
        if out["oom_kills"]:
            out["oom_killed"] = True
    return out


def _status(w, marker):
    for _, line in w.lines:
        if line.startswith(marker):
            try:
                return int(line.split()[-1])
            except ValueError:
                return None
    return None


def _tally(fault, p, truth, one, vms, cts, watch, stats, bug):
    n, m = p["n"], p["limit"]
    wo = watch[one.name]
    proc_lines, pm, ptruth = wo.lines, m, truth
    if fault == "noisy":                    # the bystanders of the noisy phase
        proc_lines = _phase(wo, "lab: noisy", "lab: weighted")
        pm, ptruth = p["noisy_limit"], truth_of(p["noisy_limit"])
    out = {"processes": {"bystanders": n - 1, "survivors": results(proc_lines, pm, ptruth),
                         "victim": _fate(wo, stats[one.name], "processes",
                                         _status(wo, "lab: victim status"))}}
    byst = [v for v in vms[1:] if stats[v.name]["outcome"] == "passed"
            and results(watch[v.name].lines, m, truth) == 1]
    out["vms"] = {"bystanders": n - 1, "survivors": len(byst),
                  "victim": _fate(watch[vms[0].name], stats[vms[0].name], "vms",
                                  _status(watch[vms[0].name], "[run] exit status")),
                  "bystander_instructions": [stats[v.name]["instructions"] for v in vms[1:]]}
    byst = [c for c in cts[1:] if c.exit_code == 0 and results(watch[c.name].lines, m, truth)]
    out["containers"] = {"bystanders": n - 1, "survivors": len(byst),
                         "victim": _fate(watch[cts[0].name], stats[cts[0].name], "containers",
                                         cts[0].exit_code),
                         "bystander_instructions": [stats[c.name]["instructions"]
                                                    for c in cts[1:]]}
    if bug is not None:
        out["containers"]["bug"] = bug
        out["containers"]["bystander_outcomes"] = [stats[c.name]["outcome"] for c in cts[1:]]
    if fault == "noisy":
        out["processes"]["phases"] = {ph: _phase_seconds(wo, f"lab: {ph}", pm, ptruth)
                                      for ph in ("alone", "noisy", "weighted")}
    if fault == "memhog":
        out["vms"]["victim"]["pages_reserved"] = stats[vms[0].name]["pages_reserved"]
        out["containers"]["victim"]["pages_reserved"] = stats[cts[0].name]["pages_reserved"]
    return out


def _phase(w, start, end):
    lines, inside = [], False
    for t, line in w.lines:
        if line.startswith(start):
            inside = True
        elif line.startswith(end):
            break
        elif inside:
            lines.append((t, line))
    return lines


def _phase_seconds(w, marker, m, truth):
    """Guest seconds from a phase's marker to its bystanders' last right answer."""
    t0, _ = w.first(marker)
    after = [t for t, line in w.lines if t0 is not None and t >= t0
             and line.startswith(f"primes up to {m}: {truth} ")]
    ends = [t for t, line in w.lines if t0 is not None and t > t0 and line.startswith("lab: ")]
    stop = min(ends) if ends else None
    after = [t for t in after if stop is None or t <= stop]
    return round(max(after) - t0, 6) if after and t0 is not None else None


def _check_userland():
    import tarfile
    try:
        with tarfile.open(IMAGES_DIR / "userland.tar") as t:
            names = set(t.getnames())
    except (OSError, tarfile.TarError) as exc:
        raise LabError(f"lab 3 part 2: cannot read the bundled userland.tar: {exc}") from None
    missing = [x for x in PROGRAMS if f"usr/bin/{x}" not in names]
    if missing:
        raise LabError(f"lab 3 part 2 needs {', '.join(missing)} in the bundled Linux "
                       "userland, which is older than this lab: rebuild it (make -C guests "
                       "linux)")


def truth_of(m):
    from .isolation import pi
    return pi(m)


def run_all(ctx, truth):
    """Every fault, each in an engine of its own, all at once (one thread each: the engines'
    workers share the host's cores).  Nothing here is a host time, so running them side by
    side changes no result; it keeps both cores busy while one fault's last VM finishes."""
    p = ctx.params["faults"]
    _check_userland()
    out, errors = {}, []
    with ctx.progress.step(f"part 2: {len(FAULTS)} faults, each in its own engine, "
                           "side by side") as pr:
        with concurrent.futures.ThreadPoolExecutor(len(FAULTS), "hv-lab-fault") as pool:
            jobs = {pool.submit(run_fault, f, p, truth): f for f in FAULTS}
            for job in concurrent.futures.as_completed(jobs):
                try:
                    out[jobs[job]] = job.result()
                except LabError as exc:
                    errors.append(str(exc))
                pr.update(len(out) / len(FAULTS), f"({SHORT[jobs[job]]} done)")
    if errors:
        raise LabError(errors[0])
    return {f: out[f] for f in FAULTS}
