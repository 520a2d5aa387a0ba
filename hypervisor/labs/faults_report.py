"""Lab 3, part 2 in the report: the survivors table, what happened to each victim, the noisy
neighbour inside one kernel, a figure, the commands to do it by hand, and the questions."""
from .base import COUNT, Question
from .faults import BIG, FAULT_LABEL, FAULTS, KIND_LABEL, KINDS, SHORT, processes_script, \
    victim_container, victim_vm_command
from .plots import figure

MiB = 1 << 20


def report(ctx, part2, truth):
    p = ctx.params["faults"]
    n, k, m = p["n"], p["n"] - 1, p["limit"]
    ctx.say(f"""
## 2. Faults: how many instances survive each

Each way of part 1 again, with one **victim** and {k} **bystander{'s' if k > 1 else ''}**: in
the one Linux VM, {k} of its {n} processes {'are bystanders' if k > 1 else 'is a bystander'}
and one is the victim; of {n} Linux VMs (`--mem {p['vm_mem'] // MiB}M`), one is the victim; of {n} containers (`--memory
{p['container_mem'] // MiB}M`), one is the victim.  The victim commits the fault; a bystander
runs `primes {m}` and **survives** when it prints {truth} and ends normally.  For each fault
one engine runs all three setups side by side (one page allocator, one scheduler), so in the
second row the shared kernel panics beside the VMs.  Survivors, of {k}:
""")
    rows = [[SHORT[f]] + [f"**{part2[f][kind]['survivors']}** of {k}" for kind in KINDS]
            for f in FAULTS]
    ctx.table(["fault"] + [KIND_LABEL[kind] for kind in KINDS], rows)
    ctx.say("What happened to the victim (from its console and its kernel's counters):")
    ctx.table(["fault"] + [f"victim: {KIND_LABEL[kind].replace('processes', 'a process')}"
                           for kind in KINDS],
              [[SHORT[f]] + [fate_text(f, kind, part2[f][kind], p) for kind in KINDS]
               for f in FAULTS])
    _noisy(ctx, part2["noisy"]["processes"]["phases"], p)
    _unchanged(ctx, part2)
    figure(ctx, "faults.png", "bystanders surviving each fault, by kind of instance (count)",
           lambda plt: _figure(plt, part2, k))
    ctx.headline("survivors of a kernel failure: processes / VMs / containers",
                 " / ".join(f"{part2['panic'][kind]['survivors']}" for kind in KINDS)
                 + f" of {k}", "", COUNT)
    ctx.headline("fork bomb: processes made in a VM / with pids.max "
                 f"{p['pids']}",
                 f"{part2['forkbomb']['vms']['victim'].get('bomb_processes')} / "
                 f"{part2['forkbomb_limited']['vms']['victim'].get('bomb_processes')}", "",
                 COUNT)
    ph = part2["noisy"]["processes"]["phases"]
    if ph["alone"] and ph["noisy"] and ph["weighted"]:
        ctx.headline("noisy neighbour in one VM: slowdown, then with cpu.weight "
                     f"{p['noisy_weight']}",
                     f"{ph['noisy'] / ph['alone']:.2f} / {ph['weighted'] / ph['alone']:.2f}",
                     "x", COUNT)
    _commands(ctx, p)


def fate_text(fault, kind, r, p):
    v = r["victim"]
    if fault == "wildstore":
        return ("write() from the pointer: EFAULT; the store: SIGSEGV" if v.get("efault")
                else "SIGSEGV") + f", status {v['status']}; its kernel ran on"
    if fault == "panic":
        if kind == "containers":
            return (f"the shared kernel panicked ({r['bug']['panic']}): every container "
                    "crashed")
        what = "the VM's only kernel" if kind == "processes" else "its own kernel"
        return (f"*{v.get('panic', 'no panic seen')}* at {v.get('panic_guest_seconds', 0):.3f} s "
                f"(guest clock) in {what}; it then spins in panic() for ever: the lab killed "
                "the VM")
    if fault in ("forkbomb", "forkbomb_limited"):
        made = v.get("bomb_processes")
        text = (f"{made} processes, then {v.get('bomb_stopped_by')}" if made is not None
                else f"no report: {v.get('clone_calls', 0)} clone calls")
        if "threads_max" in v and made is not None:
            text += (f" (threads-max {v['threads_max']} less the {v['tasks_before']} tasks "
                     "already there)")
        if fault == "forkbomb_limited":
            text += (f" (pids.max {p['pids']} on the bomb's cgroup)" if kind != "containers"
                     else f" (--pids-limit {p['pids']} counts the container's shell too)")
        if v.get("oom_killed"):
            text += f"; memory full: the OOM killer ({v.get('oom_kills', 1)} kill(s))"
        if v.get("cant_fork"):
            text += "; nothing else could start in it: *can't fork*"
        if kind == "containers" and v.get("status"):
            text += f"; the container ended with status {v['status']}"
        return text
    if fault == "memhog":
        pages = (f", {v['pages_peak']} of {v['pages_reserved']} host pages" if "pages_reserved"
                 in v else "")
        return (f"{v.get('hog_mib')} MiB, then killed by the "
                f"{'shared kernel' if kind == 'containers' else 'guest'}'s OOM killer "
                f"(status {v['status']}){pages}")
    if fault == "noisy":
        if kind == "processes":
            return "`primes` that never ends, beside the bystanders: see below"
        return "`primes` that never ends: the lab stopped it when its bystanders were done"
    return v["outcome"]


def _noisy(ctx, ph, p):
    n = p["n"]
    if not (ph["alone"] and ph["noisy"] and ph["weighted"]):
        return
    ctx.say(f"""
**The noisy neighbour inside one kernel.**  In the one VM the {n - 1} bystander{'s' if n > 2 else ''} ran
`primes {p['noisy_limit']}` three times: alone, beside a process that never stops computing,
and with that process in a cgroup of `cpu.weight` {p['noisy_weight']} (the bystanders stay
in the root cgroup, weight 100 each).  Guest seconds from the start of each phase to the
last bystander's answer (count: the guest's own clock):
""")
    ctx.table(["phase", "guest seconds", "slowdown", "model (the kernel's fair share)"],
              [["alone", f"{ph['alone']:.4f}", "1", "1"],
               ["beside the noisy one", f"{ph['noisy']:.4f}", f"{ph['noisy'] / ph['alone']:.2f}",
                f"{n}/{n - 1} = {n / (n - 1):.2f}"],
               [f"noisy one at cpu.weight {p['noisy_weight']}", f"{ph['weighted']:.4f}",
                f"{ph['weighted'] / ph['alone']:.2f}",
                # cgroup v2 cpu.weight w is a CFS load weight of w * 1024 / 100, rounded
                # (kernel/sched/core.c, cpu_weight_write_u64)
                f"about 1 (cpu.weight {p['noisy_weight']} is a load weight of "
                f"{(p['noisy_weight'] * 1024 + 50) // 100} against 1024 for each bystander's 100), "
                "plus a tick or two: Linux preempts at its 10 ms tick"]])


def _unchanged(ctx, part2):
    vm = sorted({x for f in FAULTS for x in part2[f]["vms"]["bystander_instructions"]})
    ct = sorted({x for f in FAULTS if f != "panic"
                 for x in part2[f]["containers"]["bystander_instructions"]})
    if len(vm) == 1 and len(ct) == 1:
        ctx.say(f"""
Every bystander VM ran exactly **{vm[0]:,}** instructions in every row, and every bystander
container that was not on the panicking kernel exactly **{ct[0]:,}**: whatever its
neighbour did, not one instruction of a VM or a container changed.  (Its guest clock is its
own: a noisy VM or container can take host time from it, which lab 4 measures, but not guest
time.)
""")
    else:
        ctx.say(f"Bystander instructions differed between rows: VMs {vm}, containers {ct}.")


def _figure(plt, part2, k):
    import numpy as np
    grid = np.array([[part2[f][kind]["survivors"] / k for kind in KINDS] for f in FAULTS])
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    ax.imshow(grid, cmap="RdYlGn", vmin=-0.6, vmax=1.6, aspect="auto")   # light shades
    for i, f in enumerate(FAULTS):
        for j, kind in enumerate(KINDS):
            ax.text(j, i, f"{part2[f][kind]['survivors']} of {k}", ha="center", va="center",
                    fontsize=9)
    ax.set_xticks(range(len(KINDS)), [KIND_LABEL[x] for x in KINDS], fontsize=8)
    ax.set_yticks(range(len(FAULTS)), [SHORT[f] for f in FAULTS], fontsize=8)
    ax.set_title("bystanders that survived the victim's fault", fontsize=10)
    fig.tight_layout()
    return fig


def _commands(ctx, p):
    m = p["limit"]
    mem = f"--mem {p['vm_mem'] // MiB}M"
    for f in FAULTS:
        ctx.command(f"part 2, {SHORT[f]}: the one VM (its processes)",
                    f"hv run linux-batch {mem} --append 'run=\"{processes_script(f, p)}\"'")
    ctx.command("part 2: a victim VM beside a bystander VM (a second terminal for the "
                "bystander)", f"hv run linux-batch {mem} --append "
                f"'run=\"{victim_vm_command('forkbomb', p)}\"'\n"
                f"hv run linux-batch {mem} --append 'run=\"primes {m}\"'")
    mem_c = f"--memory {p['container_mem'] // MiB}m"
    for f in ("wildstore", "forkbomb_limited", "memhog"):
        argv, kw = victim_container(f, p)
        limit = f" --pids-limit {kw['pids_limit']}" if "pids_limit" in kw else ""
        shown = " ".join(a if " " not in a else f"'{a}'" for a in argv)
        ctx.command(f"part 2, {SHORT[f]}: a victim container", f"hv container run --rm "
                    f"{mem_c}{limit} busybox:1.35 -- {shown}")
    ctx.command("part 2: the shared kernel's bug (-d: both containers at once)",
                f"hv container run -d --name by {mem_c} busybox:1.35 primes {BIG}\n"
                f"hv container run --rm --kernel-bug-after 0 {mem_c} busybox:1.35 hello\n"
                "hv container ls -a                   # both crashed: one kernel")


# ---------------------------------------------------------------------- questions
def _survivors(fault, kind):
    def value(r):
        return r["measured"]["faults"][fault][kind]["survivors"]

    def predict(params):
        k = params["faults"]["n"] - 1
        if fault == "panic":
            return k if kind == "vms" else 0
        if fault == "forkbomb" and kind == "processes":
            return 0
        return k
    return Question(f"survive_{fault}_{kind}", f"{FAULT_LABEL[fault].capitalize()}: how many "
                    f"bystanders survived, {KIND_LABEL[kind]}?", "bystanders", COUNT, value,
                    abs=0.5, predict=predict, part="2",
                    hint="table 'Survivors' of part 2; then ask which kernel the fault hit "
                         "and which instances share that kernel")


def _victim(fault, kind, field):
    return lambda r: r["measured"]["faults"][fault][kind]["victim"][field]


def _phase(name):
    def value(r):
        ph = r["measured"]["faults"]["noisy"]["processes"]["phases"]
        return ph[name] / ph["alone"]
    return value


QUESTIONS = tuple(_survivors(f, kind) for f in FAULTS for kind in KINDS) + (
    Question("bomb_processes_vm", "How many processes did the fork bomb make in the victim VM "
             "before fork failed?", "processes", COUNT,
             _victim("forkbomb", "vms", "bomb_processes"), abs=0.5, part="2",
             hint="the victim VM's forkbomb line; Linux sets its limit (threads-max) from the "
                  "VM's memory"),
    Question("bomb_processes_limited_vm", "And in the victim VM with the bomb in a pids cgroup?",
             "processes", COUNT, _victim("forkbomb_limited", "vms", "bomb_processes"), abs=0.5,
             predict=lambda p: p["faults"]["pids"] - 1, part="2",
             hint="pids.max counts every process in the cgroup: the bomb's first process too"),
    Question("bomb_processes_limited_container", "And in the victim container with "
             "--pids-limit?", "processes", COUNT,
             _victim("forkbomb_limited", "containers", "bomb_processes"), abs=0.5,
             predict=lambda p: p["faults"]["pids"] - 3, part="2",
             hint="--pids-limit counts every process of the container: its sh, both sides of "
                  "the pipe, then the bomb"),
    Question("hog_mib_vm", "How many MiB did the memory hog get in the victim VM?", "MiB",
             COUNT, _victim("memhog", "vms", "hog_mib"), abs=0.5, part="2",
             hint="its last 'memhog: N MiB' line: the VM's --mem less what its kernel and "
                  "initramfs hold"),
    Question("hog_mib_container", "And in the victim container?", "MiB", COUNT,
             _victim("memhog", "containers", "hog_mib"), abs=0.5, part="2",
             hint="--memory less the pages of memhog itself"),
    Question("noisy_slowdown", "Inside the one VM: how many times longer did the bystanders "
             "take beside the noisy process than alone?", "x", COUNT, _phase("noisy"),
             rel=0.01, part="2", hint="the noisy neighbour's table: guest seconds, noisy / alone"),
    Question("weighted_slowdown", "And with the noisy process at cpu.weight 1?", "x", COUNT,
             _phase("weighted"), rel=0.01, part="2",
             hint="the noisy neighbour's table: guest seconds, weighted / alone"),
)
