"""Lab 1, trap-and-emulate: which guest actions exit to the monitor, and what each costs.

The guest kernel runs deprivileged (virtual S-mode): every sensitive instruction traps and is
emulated (Popek and Goldberg).  Some exits are answered inside the compiled hart (CSR accesses,
sret, and the frequent SBI calls: sbi_fast.py), others return to the monitor in Python (other
SBI calls, device accesses, exceptions routed through the monitor): the split KVM makes between
exits handled in the kernel and exits sent to QEMU in user space.  The lab measures each kind
with a pair of generated guests, one doing N of the action and a *baseline* doing the same
loop without it, so the difference is the action alone: exits per action (the hart's
counters), returns to Python per action (counted where they arrive, runner.Returns) and host
CPU time per action.  Then the console three ways (an emulated UART, one exit per byte; the SBI
legacy putchar, one hypercall per byte; the paravirtual SBI DBCN, one hypercall per line);
then delegation on and off; then a timeline of one guest doing everything, on the guest's
clock and on the host's.
"""
import statistics
import string

from .base import COUNT, TIME, Lab, LabError, Question
from .plots import COLOURS, figure
from .programs import ACTIONS, actions
from .runner import assemble, engine, stepped

# kind, trap_via_monitor: the measured configurations, in the order of the tables
CONFIGS = (("csr", False), ("sbi", False), ("trap", False), ("trap", True), ("uart", False),
           ("putchar", False), ("dbcn", False))
LABELS = {("csr", False): "CSR read (csrr sscratch)",
          ("sbi", False): "SBI call (Base probe_extension)",
          ("trap", False): "ebreak, delegated to the guest's handler",
          ("trap", True): "ebreak, through the monitor (--trap-via-monitor)",
          ("uart", False): "a line through the UART (MMIO, a store per byte)",
          ("putchar", False): "a line through SBI legacy putchar (an ecall per byte)",
          ("dbcn", False): "a line through SBI DBCN console_write (one ecall)"}
MEM = 8 << 20
WINDOW = 1000           # instructions per lockstep window of the timeline


def key(kind, via):
    return f"{kind}{'-via-monitor' if via else ''}"


def _line(rng, length):
    words = ["trap", "emulate", "exit", "monitor", "guest", "hart", "sbi", "uart", "csr",
             "popek", "goldberg", "vm", "kernel", "sret", "ecall", "page"]
    text = f"seed line {rng.randint(0, 999):03d}:"
    while len(text) < length - 1:
        text += " " + rng.choice(words)
    text = text[:length - 1]
    assert all(c in string.printable for c in text)
    return text + "\n"


def _per(a, b, n):
    """(a - b) / n for every key of two count dicts, keeping the non-zero ones."""
    keys = set(a) | set(b)
    return {k: (a.get(k, 0) - b.get(k, 0)) / n for k in sorted(keys)
            if a.get(k, 0) != b.get(k, 0)}


class TrapAndEmulate(Lab):
    number = 1
    name = "trap-and-emulate"
    title = "Trap-and-emulate: which guest actions exit, and what each costs"
    summary = "CSR vs SBI vs MMIO exits, UART vs paravirtual console, delegation on/off"
    doc = "docs/labs/01-trap-and-emulate.md"

    def params(self, rng, quick):
        s = 0.3 if quick else 1.0
        length = rng.randint(24, 72)
        micro = {"csr": int(rng.randint(150, 250) * 1000),     # cheap: as many when quick
                 "sbi": int(rng.randint(15, 25) * 1000 * s),
                 "trap": int(rng.randint(15, 25) * 1000 * s),
                 "uart": int(rng.randint(300, 500) * s),
                 "putchar": int(rng.randint(300, 500) * s),
                 "dbcn": int(rng.randint(4000, 6000) * s)}
        t = 0.4 if quick else 1.0
        lines = int(rng.randint(20, 50) * t)
        tour = [("csr", int(rng.randint(20, 40) * 1000 * t)),
                ("sbi", int(rng.randint(2000, 4000) * t)),
                ("trap", int(rng.randint(2000, 5000) * t)), ("uart", lines),
                ("putchar", lines), ("dbcn", lines)]
        rng.shuffle(tour)
        return {"line": _line(rng, length), "line_length": length, "micro": micro,
                "tour": tour, "rounds": 3 if quick else 5, "window": WINDOW}

    # ------------------------------------------------------------------ the experiment
    def run(self, ctx):
        p = ctx.params
        ctx.say(f"""
## The guests

Every program this lab ran is in `guests/` beside this report: hvlab's own assembler builds
them from the seed's parameters.  Your console line is {p['line_length']} bytes long
(newline included):

```
{p['line'].rstrip()}
```
""")
        eng = engine(host_mem=32 << 20, threads=1)
        try:
            self._micro(ctx, eng)
            self._tour(ctx, eng)
        finally:
            eng.shutdown()

    def _images(self, ctx, kind, count):
        p = ctx.params
        title = f"lab 1: {count} x {ACTIONS[kind][0]}"
        real = assemble(ctx, f"{kind}.s", actions([(kind, count, True)], p["line"], title), MEM)
        base = assemble(ctx, f"{kind}-baseline.s",
                        actions([(kind, count, False)], p["line"], title + " (baseline)"), MEM)
        return real, base

    def _micro(self, ctx, eng):
        """Each action N times against its baseline, alternated round by round."""
        p = ctx.params
        rounds = p["rounds"] if ctx.timed else 1
        images = {}
        for kind, _ in CONFIGS:
            if kind not in images:
                images[kind] = self._images(ctx, kind, p["micro"][kind])
        exits, back, us = {}, {}, {key(k, v): [] for k, v in CONFIGS}
        with ctx.progress.step(f"each action against its baseline, {rounds} round(s)") as pr:
            for r in range(rounds):
                for i, (kind, via) in enumerate(CONFIGS):
                    pr.update((r * len(CONFIGS) + i) / (rounds * len(CONFIGS)))
                    real, base = images[kind]
                    n = p["micro"][kind]
                    a, ta, ra = stepped(eng, real, mem=MEM, trap_via_monitor=via,
                                        name=key(kind, via))
                    b, tb, rb = stepped(eng, base, mem=MEM, trap_via_monitor=via,
                                        name="baseline")
                    for s in (a, b):
                        if s["outcome"] != "passed":
                            raise LabError(f"lab guest {kind}: {s['outcome']}")
                    exits[key(kind, via)] = _per(a["exits"], b["exits"], n)
                    back[key(kind, via)] = _per(ra, rb, n)
                    us[key(kind, via)].append((ta - tb) / n * 1e6)
        ctx.record("exits_per_action", exits, COUNT)
        ctx.record("python_returns_per_action", back, COUNT)
        cost = None
        if ctx.timed:
            cost = ctx.record("host_us_per_action",
                              {k: statistics.median(v) for k, v in us.items()}, TIME)
            ctx.record("host_us_rounds", us, TIME)
        self._report_actions(ctx, exits, back, cost)
        self._report_console(ctx, exits, back, cost)

    def _report_actions(self, ctx, exits, back, cost):
        ctx.command("one action against its baseline (both VMs in one table)",
                    "hv run guests/sbi.s guests/sbi-baseline.s --threads 1 --stats")
        ctx.command("the same traps with delegation off",
                    "hv run guests/trap.s guests/trap-baseline.s --threads 1 --stats "
                    "--trap-via-monitor")
        rows = []
        for kind, via in CONFIGS:
            k = key(kind, via)
            rows.append([LABELS[(kind, via)],
                         ", ".join(f"{c} {v:g}" for c, v in exits[k].items()),
                         ", ".join(f"{c} {v:.3g}" for c, v in back[k].items()) or "0",
                         f"{cost[k]:.3f}" if cost else "-"])
        ctx.say("""
## 1. Which actions exit, and what each costs

Each row is one guest doing the action N times minus its baseline (the same loop with the
action replaced by an instruction that does not exit), divided by N.  *Exits* are the hart's
counters: every sensitive instruction, wherever it is answered.  *Returns to Python* are the
exits the compiled hart could not answer by itself, counted where they arrive (the VM's
`handle_exit`), by what they need: `sbi` (sbi.py), `gstage` (a guest-physical access: a
device, a page to back, a hole), `trap` (an exception routed through the monitor).  Both are
*counts*, the same on every machine.  Host microseconds per action are *time*: the host CPU
time of the thread that ran the VM (not wall-clock time, which the other programs of a busy
machine inflate), the median over the rounds, real and baseline alternated round by round.
""")
        ctx.table(["action", "exits per action", "returns to Python per action",
                   "host µs per action"], rows)
        if sum(back["putchar"].values()) < 0.5 * sum(exits["putchar"].values()):
            ctx.say("""
Not every SBI call goes back to Python: hvlab answers the frequent ones (the console bytes,
the timer) inside the compiled hart (`hypervisor/sbi_fast.py`), as KVM answers some exits in
the host kernel and sends the rest to QEMU in user space.  A console call still returns to
Python when the hart's console ring (4096 bytes) is full and the monitor must empty it.
""")

    def _report_console(self, ctx, exits, back, cost):
        L = ctx.params["line_length"]
        ctx.say(f"""
## 2. The console three ways: device emulation against paravirtualization

A line of your text is {L} bytes.  The emulated UART takes a store per byte, and every store
to a device register is an exit the monitor emulates in Python (the guest's driver does not
know it is virtualized); the SBI legacy putchar is a hypercall per byte; SBI DBCN hands the
monitor the whole line in one call, because the guest *knows* it runs on a hypervisor:
paravirtualization.
""")
        ctx.table(["path", "exits per line", "returns to Python per line", "host µs per line",
                   "host µs per byte"],
                  [[LABELS[(k, False)], f"{sum(exits[k].values()):g}",
                    f"{sum(back[k].values()):.3g}",
                    f"{cost[k]:.1f}" if cost else "-", f"{cost[k] / L:.3f}" if cost else "-"]
                   for k in ("uart", "putchar", "dbcn")])
        ctx.headline("exits per console line: UART / DBCN",
                     f"{sum(exits['uart'].values()):g} / {sum(exits['dbcn'].values()):g}",
                     "exits", COUNT)
        if not cost:
            return
        csr, sbi = cost["csr"], cost["sbi"]
        ctx.headline("host cost of a CSR read (answered in the hart)", f"{csr:.3f}", "µs", TIME)
        where = "returns to Python" if sum(back["sbi"].values()) >= 0.5 else "in the hart"
        ctx.headline(f"host cost of an SBI probe_extension ({where})", f"{sbi:.2f}", "µs", TIME)
        ctx.headline("SBI probe_extension / CSR read", f"{sbi / csr:.1f}", "x", TIME)
        ctx.headline("host cost of a line: UART / DBCN", f"{cost['uart'] / cost['dbcn']:.1f}",
                     "x", TIME)
        ctx.headline("host cost of a trap: via monitor / delegated",
                     f"{cost['trap-via-monitor'] / cost['trap']:.1f}", "x", TIME)
        figure(ctx, "costs.png", "host cost per action (log scale), this machine",
               lambda plt: _cost_figure(plt, cost, back))

    # ------------------------------------------------------------------ the tour
    def _tour(self, ctx, eng):
        p = ctx.params
        text = actions([(k, n, True) for k, n in p["tour"]], p["line"],
                       "lab 1: the tour, every kind of action in turn")
        image = assemble(ctx, "tour.s", text, MEM)
        ctx.command("the tour, delegation on and off", "hv run guests/tour.s --stats")
        ctx.command("", "hv run guests/tour.s --stats --trap-via-monitor")
        totals, lines, backs = {}, {}, {}
        with ctx.progress.step("the tour, stepped a window at a time, delegation on and off"):
            for via in (False, True):
                samples = []

                def sample(vm, cpu_ns, back, samples=samples):
                    s = vm.stats()
                    samples.append((s["cycles"], s["exits"], cpu_ns, back.total))
                s, _, back = stepped(eng, image, p["window"], sample, name=key("tour", via),
                                     mem=MEM, trap_via_monitor=via)
                if s["outcome"] != "passed":
                    raise LabError(f"tour: {s['outcome']}")
                totals[via], lines[via], backs[via] = s, samples, back
        on, off = totals[False], totals[True]
        ctx.record("tour_exits", {"delegated": on["exits"], "via_monitor": off["exits"]}, COUNT)
        ctx.record("tour_python_returns", {"delegated": backs[False],
                                           "via_monitor": backs[True]}, COUNT)
        ctx.record("tour_instructions", on["instructions"], COUNT)
        ctx.record("tour_guest_us", on["cycles"] / 100, COUNT)
        ctx.record("timeline_guest", _timeline(lines[False]), COUNT)
        ctx.record("timeline_guest_via_monitor", _timeline(lines[True]), COUNT)
        order = ", ".join(f"{k} x {n}" for k, n in p["tour"])
        ctx.say(f"""
## 3. Delegation on and off: one guest doing everything

The tour does, in this order: {order} (console kinds in lines).  With delegation (the
default), the guest's own exceptions (here its `ebreak`s) go straight to its trap vector,
inside the hart.  With `--trap-via-monitor` every exception first exits to the monitor, which
then delivers it: the same guest, the same instructions, the same exit counters, but more
exits that return to Python (and hvlab answers no SBI call in the hart then, so that the
monitor sees everything).
""")
        causes = sorted(c for c in on["exits"] if on["exits"][c] or off["exits"][c])
        kinds = sorted(set(backs[False]) | set(backs[True]))
        ctx.table(["", "delegation on", "delegation off"],
                  [[f"exits: {c}", on["exits"][c], off["exits"][c]] for c in causes]
                  + [[f"returns to Python: {k}", backs[False].get(k, 0), backs[True].get(k, 0)]
                     for k in kinds]
                  + [["**returns to Python, all**", sum(backs[False].values()),
                      sum(backs[True].values())]])
        ctx.headline("tour: returns to Python, delegation on / off",
                     f"{sum(backs[False].values())} / {sum(backs[True].values())}", "exits",
                     COUNT)
        host = {}
        if ctx.timed:
            host = {via: _host_timeline(lines[via]) for via in (False, True)}
            ctx.record("timeline_host", {"delegated": host[False], "via_monitor": host[True]},
                       TIME)
            ctx.record("tour_host_seconds", {"delegated": host[False]["seconds"][-1],
                                             "via_monitor": host[True]["seconds"][-1]}, TIME)
        figure(ctx, "timeline.png", "the tour's exits over guest time (count) and host time "
               "(time)", lambda plt: _timeline_figure(plt, lines, host))
        ctx.say("""
In the upper panel the x axis is the guest's own clock (virtual time: it advances with the
guest's instructions), the same on every machine.  Each phase of the tour is a band of its own
exit causes, and turning delegation off changes nothing on this clock: trap-and-emulate is
invisible from inside.  The lower panel is the same windows of instructions on the host's
clock: the phases whose exits return to Python stretch out, those the hart answers shrink.
""")


def _timeline(samples):
    """[(cycles, exits, cpu ns, returns)] after each window -> guest µs and, per window,
    exits by cause and returns to Python."""
    out = {"guest_us": [c / 100 for c, _, _, _ in samples], "returns_to_python": []}
    prev, prev_back = {}, 0
    for _, exits, _, back in samples:
        for c, v in exits.items():
            out.setdefault(c, []).append(v - prev.get(c, 0))
        out["returns_to_python"].append(back - prev_back)
        prev, prev_back = exits, back
    return {k: v for k, v in out.items() if k == "guest_us" or any(v)}


def _host_timeline(samples):
    """The same windows on the host's clock: CPU seconds so far, exits so far, returns so far."""
    out = {"seconds": [0.0], "exits": [0], "returns_to_python": [0]}
    for _, exits, cpu_ns, back in samples:
        out["seconds"].append(cpu_ns / 1e9)
        out["exits"].append(sum(exits.values()))
        out["returns_to_python"].append(back)
    return out


def _cost_figure(plt, cost, back):
    fig, ax = plt.subplots(figsize=(8, 3.6))
    names = [LABELS[c] for c in CONFIGS]
    values = [max(cost[key(*c)], 1e-3) for c in CONFIGS]
    colours = [COLOURS[1] if sum(back[key(*c)].values()) >= 0.5 else COLOURS[0]
               for c in CONFIGS]
    ax.barh(range(len(names)), values, color=colours)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 4)
    ax.set_xlabel("host µs per action (blue: answered in the hart; red: returns to Python)")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    return fig


def _raster(ax, rows, label_x):
    """One row per series: a bar over every window in which it had exits, darker for more
    exits per unit of x.  rows: [(label, colour, edges, counts)]."""
    import math
    for i, (label, colour, edges, counts) in enumerate(rows):
        rates = [n / max(b - a, 1e-12) for a, b, n in zip(edges, edges[1:], counts)]
        top = max(rates + [1e-12])
        for a, b, r in zip(edges, edges[1:], rates):
            if r > 0:
                shade = 0.25 + 0.75 * math.log1p(r) / math.log1p(top)
                ax.broken_barh([(a, b - a)], (i - 0.4, 0.8), facecolor=colour, alpha=shade,
                               lw=0)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(label_x)
    ax.grid(axis="x", alpha=0.3)


def _timeline_figure(plt, lines, host):
    fig, axes = plt.subplots(2 if host else 1, 1, figsize=(8.5, 7 if host else 3.6),
                             squeeze=False)
    on, off = _timeline(lines[False]), _timeline(lines[True])
    edges = [0.0] + [t / 1000 for t in on["guest_us"]]
    off_edges = [0.0] + [t / 1000 for t in off["guest_us"]]
    causes = [c for c in on if c not in ("guest_us", "returns_to_python")]
    rows = [(c, COLOURS[0], edges, on[c]) for c in causes]
    if "exc_monitor" in off:
        rows.append(("exc_monitor, delegation off", COLOURS[3], off_edges, off["exc_monitor"]))
    for tl, e, tag in ((on, edges, "on"), (off, off_edges, "off")):
        if "returns_to_python" in tl:
            rows.append((f"returns to Python, delegation {tag}", COLOURS[1], e,
                         tl["returns_to_python"]))
    ax = axes[0][0]
    _raster(ax, rows, "guest time, ms (virtual: the guest's own instructions; the same on "
                      "every machine, delegation on or off)")
    ax.set_title("the tour: when each kind of exit happens (darker: more exits per ms)",
                 fontsize=10)
    if host:
        rows = []
        for via in (False, True):
            h = host[via]
            ms = [t * 1000 for t in h["seconds"]]
            tag = "delegation off" if via else "delegation on"
            for what, colour in (("exits", COLOURS[0]), ("returns_to_python", COLOURS[1])):
                counts = [b - a for a, b in zip(h[what], h[what][1:])]
                rows.append((f"{tag}: {what.replace('_', ' ')}", colour, ms, counts))
        ax = axes[1][0]
        _raster(ax, rows, f"host CPU time, ms (this machine; the same windows of {WINDOW} "
                          "instructions)")
        ax.set_title("the same tour on the host's clock", fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- questions
def _cost(r, k):
    return r["measured"]["host_us_per_action"][k]


def _exits(r, k):
    return sum(r["measured"]["exits_per_action"][k].values())


def _back(r, k):
    return sum(r["measured"]["python_returns_per_action"][k].values())


def _tour_back(r, via):
    return sum(r["measured"]["tour_python_returns"][via].values())


TrapAndEmulate.questions = (
    Question("uart_exits_per_line", "How many exits does one line of your text cost through the "
             "UART's transmit register?", "exits", COUNT, lambda r: _exits(r, "uart"),
             predict=lambda p: p["line_length"],
             hint="every store to a device register is one MMIO exit; count the bytes of your "
                  "line, newline included"),
    Question("uart_python_returns_per_line", "And how many of them return to Python?", "exits",
             COUNT, lambda r: _back(r, "uart"), predict=lambda p: p["line_length"],
             hint="the monitor emulates the UART in Python (devices/uart.py)"),
    Question("dbcn_exits_per_line", "How many exits does the same line cost through SBI DBCN "
             "console_write?", "exits", COUNT, lambda r: _exits(r, "dbcn"), predict=lambda p: 1,
             hint="the guest passes the buffer's address and length in one ecall"),
    Question("trap_exits_delegated", "With delegation on, how many exits (all causes) does one "
             "ebreak caught by the guest's own handler cause?", "exits", COUNT,
             lambda r: _exits(r, "trap"), predict=lambda p: 4,
             hint="the exception itself, and every sensitive instruction of the handler: look "
                  "at on_trap in guests/trap.s (csrr sepc, csrw sepc, sret)"),
    Question("trap_python_returns_via_monitor", "With --trap-via-monitor, how many returns to "
             "Python does one ebreak cause?", "exits", COUNT,
             lambda r: _back(r, "trap-via-monitor"), predict=lambda p: 1,
             hint="only the exception is routed through the monitor; the handler's CSR accesses "
                  "and sret are still emulated in the hart"),
    Question("tour_python_returns_delegated", "In the tour with delegation on, how many exits "
             "returned to Python?", "exits", COUNT, lambda r: _tour_back(r, "delegated"),
             hint="table 3: every UART byte, every SBI call hvlab does not answer in the hart, "
                  "the final system_reset; table 1 says which SBI calls those are"),
    Question("tour_python_returns_added", "How many more returned to Python with delegation "
             "off?", "exits", COUNT,
             lambda r: _tour_back(r, "via_monitor") - _tour_back(r, "delegated"),
             hint="one per exception the guest takes, and, with the monitor seeing everything, "
                  "the console calls the hart answered before"),
    Question("csr_cost_us", "Host cost of one CSR read exit, in microseconds (your table)", "µs",
             TIME, lambda r: _cost(r, "csr"), rel=0.05, abs=0.002,
             hint="row 'CSR read' of table 1, last column"),
    Question("sbi_cost_us", "Host cost of one SBI probe_extension call, in microseconds", "µs",
             TIME, lambda r: _cost(r, "sbi"), rel=0.05,
             hint="row 'SBI call' of table 1, last column"),
    Question("sbi_over_csr", "How many times more does that SBI call cost than a CSR read?", "x",
             TIME, lambda r: _cost(r, "sbi") / _cost(r, "csr"), rel=0.05,
             hint="divide the two host costs"),
    Question("uart_over_dbcn", "How many times more host time does a line cost through the UART "
             "than through DBCN?", "x", TIME, lambda r: _cost(r, "uart") / _cost(r, "dbcn"),
             rel=0.05, hint="table 2: host µs per line, UART divided by DBCN"),
    Question("trap_via_monitor_over_delegated", "How many times more does a trap cost when it is "
             "routed through the monitor?", "x", TIME,
             lambda r: _cost(r, "trap-via-monitor") / _cost(r, "trap"), rel=0.05,
             hint="table 1: the two ebreak rows"),
)
