"""Lab 3, isolation: VM vs process vs container.

Part 1, the same workload three ways.  One CPU-bound program (`primes M`, from the bundled
musl + BusyBox userland) runs N times:

* as N processes inside one Linux VM (one guest kernel for all: `linux-batch`);
* as N Linux VMs, each with its own kernel;
* as N containers on hvlab's shared kernel (hypervisor/kernel/), from the same userland.

For each way: host pages per instance, instructions per instance (the workload's own and what
the kernels around it cost), the exits the hypervisor saw, the system calls the shared kernel
answered, and host time.  Every instance's answer is checked against a sieve run here.

Part 2, faults (faults.py, faults_report.py): each way again with one victim and N-1
bystanders; the victim commits a wild store, a kernel failure (a guest kernel's panic, the
shared kernel's bug), a fork bomb (without and with a process limit), a memory hog or a noisy
neighbour, and the lab counts the bystanders that survive.
"""
import time

from ..catalog import IMAGES_DIR
from . import faults, faults_report
from .base import COUNT, TIME, Lab, LabError, Question
from .plots import COLOURS, figure
from .runner import Capture, engine

MiB = 1 << 20
WAYS = ("processes", "vms", "containers")
LABEL = {"processes": "N processes in one Linux VM", "vms": "N Linux VMs",
         "containers": "N containers, one shared kernel"}


def pi(m):
    """How many primes up to m: a sieve, independent of the guest's trial division."""
    sieve = bytearray([1]) * (m + 1)
    sieve[0:2] = b"\0\0"
    for i in range(2, int(m ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, m + 1, i)))
    return sum(sieve)


class Isolation(Lab):
    number = 3
    name = "isolation"
    title = "Isolation: VM vs process vs container"
    summary = ("VM vs process vs container: memory, instructions, system calls; faults and "
               "how many instances survive each")
    doc = "docs/labs/03-isolation.md"

    def params(self, rng, quick):
        p = {"n": 2 if quick else rng.randint(2, 4),
             "limit": rng.choice([5000, 8000]) if quick else rng.choice([10000, 15000, 20000]),
             "vm_mem": 64 * MiB, "container_mem": 16 * MiB}
        p["faults"] = faults.params(rng, quick, p["n"], p["limit"])
        return p

    def text_vars(self, p):
        return {"pids": p["faults"]["pids"]}

    def run(self, ctx):
        userland = IMAGES_DIR / "userland.tar"
        if not userland.is_file() or not (IMAGES_DIR / "linux.Image").is_file():
            raise LabError("lab 3 needs the bundled Linux guest and userland "
                           "(hypervisor/guest_images/linux.Image, userland.tar)")
        p = ctx.params
        ways = {}
        for way in WAYS:
            with ctx.progress.step(LABEL[way].replace("N ", f"{p['n']} ")):
                ways[way] = self._run_way(way, p, userland)
        truth = pi(p["limit"])
        for way, w in ways.items():
            if w["answers"] != [truth] * p["n"]:
                raise LabError(f"{way}: primes up to {p['limit']} printed {w['answers']}, "
                               f"a sieve says {truth}")
        ctx.record("ways", {k: {x: v[x] for x in ("instances", "pages", "instructions",
                                                  "exits", "syscalls", "outcomes")}
                            for k, v in ways.items()}, COUNT)
        if ctx.timed:
            ctx.record("ways_time", {k: {x: v[x] for x in ("host_seconds", "wall_seconds",
                                                           "result_seconds")}
                                     for k, v in ways.items()}, TIME)
        ctx.record("primes", truth, COUNT)
        self._report(ctx, ways, truth)
        part2 = ctx.record("faults", faults.run_all(ctx, truth), COUNT)
        faults_report.report(ctx, part2, truth)

    def _run_way(self, way, p, userland):
        n, m = p["n"], p["limit"]
        eng = engine(host_mem=(n + 1) * p["vm_mem"] + 64 * MiB, threads=2)
        try:
            t0 = time.perf_counter()
            if way == "containers":
                from ..kernel import runtime
                insts = [runtime.create(eng, str(userland), ["/usr/bin/primes", str(m)],
                                        name=f"c{i + 1}", memory=p["container_mem"])
                         for i in range(n)]
            elif way == "vms":
                insts = [eng.create("linux-batch", name=f"vm{i + 1}", mem=p["vm_mem"],
                                    bootargs=f'run="primes {m}"') for i in range(n)]
            else:
                cmd = " & ".join([f"primes {m}"] * n) + " & wait"
                insts = [eng.create("linux-batch", name="linux", mem=p["vm_mem"],
                                    bootargs=f'run="{cmd}"')]
            caps, first = [Capture(i) for i in insts], {}
            for inst in insts:
                tail = bytearray()

                def seen(data, inst=inst, tail=tail):   # bytes may come one at a time
                    tail.extend(data)
                    del tail[:-64]
                    if b"primes up to" in tail:
                        first.setdefault(inst.name, time.perf_counter() - t0)
                inst.console.listeners.append(seen)
            for inst in insts:
                eng.start(inst)
            if not eng.wait(120, vms=insts):
                raise LabError(f"{way}: still running after 120 s")
            wall = time.perf_counter() - t0
            stats = [i.stats() for i in insts]
        finally:
            eng.shutdown()
        answers = []
        for cap in caps:
            for line in cap.text().splitlines():
                if line.startswith(f"primes up to {m}:"):
                    answers.append(int(line.split(":")[1].split()[0]))
        exits = {}
        for s in stats:
            for c, v in s["exits"].items():
                exits[c] = exits.get(c, 0) + v
        return {"instances": n, "pages": sum(s["pages_peak"] for s in stats),
                "instructions": sum(s["instructions"] for s in stats), "exits": exits,
                "syscalls": sum(s.get("syscalls", 0) for s in stats) if way == "containers"
                else None,
                "outcomes": [s["outcome"] for s in stats], "answers": answers,
                "host_seconds": sum(s["host_seconds"] for s in stats), "wall_seconds": wall,
                "result_seconds": max(first.values()) if first else None}

    def _report(self, ctx, ways, truth):
        p = ctx.params
        n, m = p["n"], p["limit"]
        ctx.say(f"""
## 1. The same workload three ways

`primes {m}` (trial division; every instance printed {truth}, which a sieve in the lab agrees
with) ran {n} times: as {n} processes in one Linux VM (`--mem {p['vm_mem'] // MiB}M`), as {n}
Linux VMs, and as {n} containers on hvlab's shared kernel (`--memory
{p['container_mem'] // MiB}M` each).  Per instance:
""")
        rows = []
        for way in WAYS:
            w = ways[way]
            sysc = w["syscalls"]
            rows.append([LABEL[way].replace("N ", f"{n} "), f"{w['pages'] / n:,.0f}",
                         f"{w['pages'] / n * 4:,.0f}", f"{w['instructions'] / n:,.0f}",
                         f"{sum(w['exits'].values()) / n:,.0f}",
                         f"{sysc / n:,.0f}" if sysc is not None else "not visible"]
                        + ([f"{w['host_seconds'] / n * 1e3:.0f}",
                            f"{w['result_seconds']:.2f}"] if ctx.timed else []))
        head = ["", "host pages", "KiB", "instructions", "exits", "system calls seen"]
        ctx.table(head + (["host CPU ms", "s to the last result"] if ctx.timed else []), rows)
        ctx.say("""
*Host pages*, *instructions*, *exits* and *system calls* are counts (virtual time); the last
two columns are this machine's time.  A VM's system calls are answered by its own kernel, out
of the hypervisor's sight: it sees only the exits (an `ecall` from the VM's user mode is an
exception delegated to the guest kernel, counted among `exc_delegated`).  A container's
system calls are the shared kernel's work, each one counted.
""")
        vm, ct = ways["vms"], ways["containers"]
        ctx.headline("host pages per instance: Linux VM / container",
                     f"{vm['pages'] // n} / {ct['pages'] // n}", "pages", COUNT)
        ctx.headline("instructions per instance: Linux VM / container",
                     f"{vm['instructions'] // n:,} / {ct['instructions'] // n:,}", "", COUNT)
        ctx.headline("host pages per process inside one VM",
                     f"{ways['processes']['pages'] // n}", "pages", COUNT)
        if ctx.timed:
            ctx.headline("host CPU per instance: Linux VM / container",
                         f"{vm['host_seconds'] / ct['host_seconds']:.0f}", "x", TIME)
        figure(ctx, "isolation.png", "per instance: host memory and instructions, three ways "
               "(count)", lambda plt: _figure(plt, ways, n))
        ctx.command("N processes in one Linux VM",
                    f"hv run linux-batch --append 'run=\"{' & '.join([f'primes {m}'] * n)} "
                    "& wait\"' --stats")
        ctx.command("N Linux VMs", f"hv run linux-batch -n {n} --append 'run=\"primes {m}\"' "
                                   "--stats")
        ctx.command(f"N containers ({n} times, or at once with -d)",
                    f"hv container run --rm busybox:1.35 /usr/bin/primes {m}")


def _figure(plt, ways, n):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    names = [LABEL[w].replace("N ", f"{n} ") for w in WAYS]
    for ax, field, what in ((axes[0], "pages", "host pages per instance"),
                            (axes[1], "instructions", "instructions per instance")):
        values = [ways[w][field] / n for w in WAYS]
        ax.bar(range(3), values, color=COLOURS[:3])
        ax.set_xticks(range(3), [s.replace(", ", ",\n").replace(" in ", "\nin ")
                                 for s in names], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(what, fontsize=9)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=7)
    fig.tight_layout()
    return fig


def _w(r, way):
    return r["measured"]["ways"][way]


def _per(r, way, field):
    return _w(r, way)[field] / _w(r, way)["instances"]


Isolation.questions = (
    Question("pages_per_container", "Host pages per container", "pages", COUNT,
             lambda r: _per(r, "containers", "pages"), abs=0.5,
             hint="part 1's table, the containers' row"),
    Question("pages_per_vm", "Host pages per Linux VM", "pages", COUNT,
             lambda r: _per(r, "vms", "pages"), abs=0.5,
             hint="a VM holds its own kernel, its page cache and its initramfs"),
    Question("pages_per_process", "Host pages per process in the one Linux VM", "pages", COUNT,
             lambda r: _per(r, "processes", "pages"), abs=0.5,
             hint="the VM's pages divided by the processes: one kernel shared by all"),
    Question("vm_extra_instructions", "How many more instructions does an instance cost as a "
             "Linux VM than as a container?", "instructions", COUNT,
             lambda r: _per(r, "vms", "instructions") - _per(r, "containers", "instructions"),
             abs=0.5, hint="the Linux boot and power-off around the same workload"),
    Question("container_syscalls", "How many system calls did one container make?", "calls",
             COUNT, lambda r: _per(r, "containers", "syscalls"), abs=0.5,
             hint="the containers' row, 'system calls seen'"),
    Question("host_cpu_vm_over_container", "Host CPU time per instance, Linux VM divided by "
             "container", "x", TIME,
             lambda r: (r["measured"]["ways_time"]["vms"]["host_seconds"]
                        / r["measured"]["ways_time"]["containers"]["host_seconds"]), rel=0.05,
             hint="host CPU ms of the two rows"),
) + faults_report.QUESTIONS
