"""Lab 4, scheduling: how the host's cores are shared among VMs.

1. CPU shares: three spinners with different weights on one host core; fairness over time.
2. A cap: a capped spinner beside an uncapped one, each with a core of its own.
3. A noisy neighbour: a victim VM alone, then beside noisy spinners, then protected by a
   weight, then by caps on the noisy ones.
4. Idle VMs cost nothing: a spinner alone, then beside workers that sleep in wfi most of the
   time and VMs waiting for input that never comes.

This lab is about host time, so most of its numbers are *time*: this machine's, this run's.
They are read from the VMs' stats (``host_seconds``: host time spent running each VM), as
`hv run --stats` and `hv top` show them.  The scheduler (scheduler.py) is Linux CFS's idea:
each VM's virtual runtime grows by its host time x 1024 / weight, and the least-run VM goes
next; a cap is a token bucket refilled at cap x wall time.
"""
import time

from .base import COUNT, TIME, Lab, LabError, Question
from .plots import COLOURS, figure
from .runner import Sampler, engine

NICE_0 = 1024
WEIGHTS = (256, 512, 768, 1024, 1536, 2048, 3072, 4096)


class Scheduling(Lab):
    number = 4
    name = "scheduling"
    title = "Scheduling: CPU shares, caps, a noisy neighbour, idle VMs"
    summary = "CPU shares and caps, a noisy neighbour, fairness over time, idle VMs cost nothing"
    doc = "docs/labs/04-scheduling.md"

    def params(self, rng, quick):
        t = (lambda normal, fast: fast if quick else normal)
        weights = sorted(rng.sample(WEIGHTS, 3), reverse=True)
        rng.shuffle(weights)
        noisy = rng.randint(2, 3)
        period = 1000
        return {
            "shares": {"weights": weights, "seconds": t(8.0, 2.5)},
            "cap": {"percent": rng.choice([20, 25, 30, 40, 50]), "seconds": t(5.0, 1.5)},
            "noisy": {"noisy": noisy, "cap_percent": rng.choice([10, 15, 20]),
                      "victim_weight": noisy * NICE_0, "seconds": t(4.0, 1.2)},
            "idle": {"workers": rng.randint(3, 6), "busy_ms": rng.choice([20, 30, 40]),
                     "period_ms": period, "sleepers": rng.randint(4, 10),
                     "seconds": t(5.0, 1.5)},
            "sample_seconds": 0.1,
        }

    def run(self, ctx):
        if not ctx.timed:           # every step of this lab measures host time: nothing to run
            return
        self._shares(ctx)
        self._cap(ctx)
        self._noisy(ctx)
        self._idle(ctx)

    # ------------------------------------------------------------------ running
    def _measure(self, ctx, text, vms_spec, seconds, threads=1, wall_clock=False):
        """Boot VMs [(name, image, create kwargs)], run them ``seconds`` on the scheduler with
        a sampler, stop them.  Returns (samples, names, elapsed)."""
        eng = engine(host_mem=256 << 20, threads=threads, wall_clock=wall_clock)
        try:
            vms = [eng.create(image, name=name, mem=16 << 20, **kw)
                   for name, image, kw in vms_spec]
            with ctx.progress.step(f"{text} ({seconds:g} s)") as pr:
                sampler = Sampler(vms, period=ctx.params["sample_seconds"])
                for vm in vms:
                    eng.start(vm)
                sampler.start()
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    time.sleep(0.05)
                    pr.update(1 - (end - time.perf_counter()) / seconds)
                samples = sampler.stop()
                for vm in vms:
                    if vm.done:
                        raise LabError(f"{vm.name} ended early: {vm.outcome}")
                    eng.kill(vm)
        finally:
            eng.shutdown()
        return samples, [vm.name for vm in vms]

    # ------------------------------------------------------------------ 1. shares
    def _shares(self, ctx):
        p = ctx.params["shares"]
        ws = p["weights"]
        spec = [(f"w{w}", "spinner", {"weight": w}) for w in ws]
        samples, names = self._measure(ctx, "CPU shares: three spinners on one core", spec,
                                       p["seconds"])
        host = _totals(samples, "host_seconds")
        total = sum(host)
        shares = [h / total for h in host]
        expected = [w / sum(ws) for w in ws]
        ctx.record("shares", {"weights": ws, "host_seconds": host, "shares": shares,
                              "instructions": _totals(samples, "instructions"),
                              "over_time": _series(samples, "host_seconds")}, TIME)
        ctx.command("three spinners on one host core, weights as in the table",
                    f"hv run spinner spinner spinner --threads 1 --weights "
                    f"{','.join(map(str, ws))} --timeout {p['seconds']:g} --stats")
        ctx.command("the same, watched live (+ and - change the selected VM's weight, c its cap)",
                    f"hv top spinner spinner spinner --threads 1 --weights {','.join(map(str, ws))}")
        ctx.say("""
## 1. CPU shares: weights on one host core

Three spinners (endless compute) share one host core (`--threads 1`).  The scheduler runs the
VM with the least virtual runtime next; each VM's virtual runtime grows by its host time x
1024 / weight, so over time each gets weight / (sum of weights) of the core.
""")
        ctx.table(["VM", "weight", "expected share", "host seconds", "measured share",
                   "instructions"],
                  [[n, w, f"{e:.3f}", f"{h:.2f}", f"{s:.3f}", f"{i:,}"]
                   for n, w, e, h, s, i in zip(names, ws, expected, host, shares,
                                               _totals(samples, "instructions"))])
        heavy = max(range(3), key=lambda i: ws[i])
        ctx.headline(f"share of the weight-{ws[heavy]} VM (expected {expected[heavy]:.3f})",
                     f"{shares[heavy]:.3f}", "of a core", TIME)
        figure(ctx, "fairness.png", "CPU share over time, per window (thin) and since the "
               "start (thick), against weight / sum of weights (dashed)",
               lambda plt: _fairness_figure(plt, samples, names, expected))

    # ------------------------------------------------------------------ 2. a cap
    def _cap(self, ctx):
        p = ctx.params["cap"]
        cap = p["percent"]
        spec = [("capped", "spinner", {"cap": cap / 100}), ("uncapped", "spinner", {})]
        samples, names = self._measure(ctx, f"a {cap}% cap, one core each", spec, p["seconds"],
                                       threads=2)
        elapsed = samples[-1][0] - samples[0][0]
        host = _totals(samples, "host_seconds")
        use = [h / elapsed for h in host]
        ctx.record("cap", {"cap_percent": cap, "elapsed": elapsed, "host_seconds": host,
                           "usage_percent": [100 * u for u in use],
                           "over_time": _series(samples, "host_seconds")}, TIME)
        ctx.command("a capped spinner beside an uncapped one, a core each",
                    f"hv run spinner spinner --threads 2 --caps {cap},100 --timeout "
                    f"{p['seconds']:g} --stats")
        ctx.say(f"""
## 2. A cap is a ceiling

Two spinners, two host cores (`--threads 2`): each could have a core to itself.  One is capped
at {cap}% of a core: a token bucket refilled at {cap}% of wall time, emptied by the host time
it runs.  Unlike a weight, a cap holds even when the core is free.
""")
        ctx.table(["VM", "cap", "host seconds", f"use over {elapsed:.1f} s (% of a core)"],
                  [[n, f"{cap}%" if n == "capped" else "none", f"{h:.2f}", f"{100 * u:.1f}"]
                   for n, h, u in zip(names, host, use)])
        ctx.headline(f"use of the VM capped at {cap}%", f"{100 * use[0]:.1f}", "% of a core",
                     TIME)
        figure(ctx, "cap.png", f"CPU use per window of the capped ({cap}%) and the uncapped VM",
               lambda plt: _usage_figure(plt, samples, names, cap))

    # ------------------------------------------------------------------ 3. noisy neighbour
    def _noisy(self, ctx):
        p = ctx.params["noisy"]
        n, vw, nc = p["noisy"], p["victim_weight"], p["cap_percent"]
        noisy = [(f"noisy{i + 1}", "spinner", {}) for i in range(n)]
        configs = [("alone", [("victim", "spinner", {})]),
                   ("beside the noisy", [("victim", "spinner", {})] + noisy),
                   (f"victim weight {vw}", [("victim", "spinner", {"weight": vw})] + noisy),
                   (f"noisy capped at {nc}%", [("victim", "spinner", {})] +
                    [(name, img, {"cap": nc / 100}) for name, img, _ in noisy])]
        model = [1.0, 1 / (n + 1), vw / (vw + n * NICE_0), max(0.0, 1 - n * nc / 100)]
        rows, out = [], {}
        for (label, spec), expect in zip(configs, model):
            samples, names = self._measure(ctx, f"noisy neighbour: {label}", spec, p["seconds"])
            elapsed = samples[-1][0] - samples[0][0]
            host = _totals(samples, "host_seconds")
            insns = _totals(samples, "instructions")
            share = host[0] / sum(host)
            rate = insns[0] / elapsed / 1e6
            out[label] = {"share": share, "mips": rate, "host_seconds": host,
                          "instructions": insns, "elapsed": elapsed, "model_share": expect}
            rows.append([label, f"{expect:.3f}", f"{share:.3f}", f"{rate:.1f}"])
        alone = out["alone"]["mips"]
        for row, label in zip(rows, out):
            row.append(f"{out[label]['mips'] / alone:.2f}")
        ctx.record("noisy", out, TIME)
        ctx.command("the victim beside noisy neighbours, then protected by a weight or caps",
                    f"hv run spinner {'spinner ' * n}--threads 1 --timeout {p['seconds']:g} "
                    "--stats")
        ctx.command("", f"hv run spinner {'spinner ' * n}--threads 1 --weights "
                        f"{vw}{',1024' * n} --timeout {p['seconds']:g} --stats")
        ctx.command("", f"hv run spinner {'spinner ' * n}--threads 1 --caps "
                        f"100{(',' + str(nc)) * n} --timeout {p['seconds']:g} --stats")
        ctx.say(f"""
## 3. A noisy neighbour

The victim is a spinner; its neighbours are {n} more spinners, all on one host core.  Beside
them it gets 1/{n + 1} of the core.  Two ways to protect it: a weight as large as all the
neighbours' together ({vw}), or a cap of {nc}% on each neighbour.
""")
        ctx.table(["victim", "model share", "measured share", "victim MIPS",
                   "throughput vs alone"], rows)
        ctx.headline(f"victim's share beside {n} noisy spinners (model {model[1]:.3f})",
                     f"{out['beside the noisy']['share']:.3f}", "of a core", TIME)

    # ------------------------------------------------------------------ 4. idle VMs
    def _idle(self, ctx):
        p = ctx.params["idle"]
        nw, ns, busy, period = p["workers"], p["sleepers"], p["busy_ms"], p["period_ms"]
        workers = [(f"worker{i + 1}", "worker", {"bootargs": f"busy_ms={busy} "
                                                             f"period_ms={period}"})
                   for i in range(nw)]
        sleepers = [(f"sleeper{i + 1}", "echo", {}) for i in range(ns)]
        runs = {}
        for label, spec in (("alone", [("spinner", "spinner", {})]),
                            ("with idle VMs", [("spinner", "spinner", {})] + workers + sleepers)):
            samples, names = self._measure(ctx, f"idle VMs: the spinner {label}", spec,
                                           p["seconds"], wall_clock=True)
            runs[label] = (samples, names)
        (a_s, _), (b_s, b_names) = runs["alone"], runs["with idle VMs"]
        a_el, b_el = a_s[-1][0] - a_s[0][0], b_s[-1][0] - b_s[0][0]
        rate_alone = _totals(a_s, "instructions")[0] / a_el
        host = _totals(b_s, "host_seconds")
        insns = _totals(b_s, "instructions")
        rate_with = insns[0] / b_el
        w_cpu = sum(host[1:1 + nw]) / b_el
        s_cpu = sum(host[1 + nw:]) / b_el
        # a sleeper waits in wfi for input that never comes: instructions after its first
        # sample (boot done) must not grow at all
        first = b_s[1][1] if len(b_s) > 1 else b_s[0][1]
        idle_insns = sum(b_s[-1][1][i]["instructions"] - first[i]["instructions"]
                         for i in range(1 + nw, 1 + nw + ns))
        model = nw * busy / period
        ctx.record("idle", {"rate_alone": rate_alone, "rate_with": rate_with,
                            "workers_cpu_percent": 100 * w_cpu,
                            "sleepers_cpu_percent": 100 * s_cpu,
                            "model_workers_percent": 100 * model,
                            "host_seconds": host, "names": b_names, "elapsed": b_el,
                            "wfi_exits": [s["exits"]["wfi"] for s in b_s[-1][1]]}, TIME)
        ctx.record("sleepers_idle_instructions", idle_insns, COUNT)
        ctx.command("a spinner beside mostly idle VMs (guest time follows the host clock)",
                    f"hv top spinner {'worker ' * nw}{'echo ' * ns}--threads 1 "
                    f"--append 'busy_ms={busy} period_ms={period}'")
        ctx.say(f"""
## 4. Idle VMs cost nothing

Guest time follows the host clock here (`--wall-clock`, as in `hv top`), so a VM that sleeps
in `wfi` really sleeps: it is not runnable until its timer or an interrupt is due.  Beside the
spinner: {nw} workers ({busy} ms of CRC32 every {period} ms, then `wfi`) and {ns} VMs waiting
for console input that never comes (`echo`).  The workers' model, {nw} x {busy} / {period}
of a core, is an upper bound: a burst ends by the guest's clock, which runs ahead of the
host's on a hart faster than the virtual 100 MHz (`--wall-clock` is the later of the two), and
it starts up to a scheduler poll (10 ms) late.
""")
        ctx.table(["", "value", "model"],
                  [["spinner MIPS alone", f"{rate_alone / 1e6:.1f}", ""],
                   ["spinner MIPS with the idle VMs", f"{rate_with / 1e6:.1f}",
                    f"at least {rate_alone * (1 - model) / 1e6:.1f}"],
                   [f"host CPU of the {nw} workers (% of a core)", f"{100 * w_cpu:.1f}",
                    f"at most {100 * model:.1f}"],
                   [f"host CPU of the {ns} waiting VMs (% of a core)", f"{100 * s_cpu:.2f}",
                    "0 (boot only)"],
                   ["instructions the waiting VMs ran after booting", idle_insns, "0"]])
        ctx.headline("spinner throughput with idle VMs / alone", f"{rate_with / rate_alone:.2f}",
                     "x", TIME)
        ctx.headline("instructions run by VMs waiting in wfi", idle_insns, "", COUNT)


def _totals(samples, field):
    """Each VM's ``field`` over the measured interval (last sample minus first)."""
    first, last = samples[0][1], samples[-1][1]
    return [b[field] - a[field] for a, b in zip(first, last)]


def _series(samples, field):
    t0 = samples[0][0]
    return {"seconds": [t - t0 for t, _ in samples],
            "values": [[s[field] for s in row] for _, row in samples]}


def _fairness_figure(plt, samples, names, expected):
    fig, ax = plt.subplots(figsize=(8, 3.8))
    t0 = samples[0][0]
    ts = [t - t0 for t, _ in samples]
    first = [s["host_seconds"] for s in samples[0][1]]
    for i, name in enumerate(names):
        win, cum = [], []
        for k in range(1, len(samples)):
            prev = [s["host_seconds"] for s in samples[k - 1][1]]
            now = [s["host_seconds"] for s in samples[k][1]]
            d = [b - a for a, b in zip(prev, now)]
            c = [b - a for a, b in zip(first, now)]
            win.append(d[i] / sum(d) if sum(d) else float("nan"))
            cum.append(c[i] / sum(c) if sum(c) else float("nan"))
        ax.plot(ts[1:], win, color=COLOURS[i], lw=0.7, alpha=0.5)
        ax.plot(ts[1:], cum, color=COLOURS[i], lw=2, label=f"{name}")
        ax.axhline(expected[i], color=COLOURS[i], ls="--", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("host time, s")
    ax.set_ylabel("share of the core")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _usage_figure(plt, samples, names, cap):
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for i, name in enumerate(names):
        xs, ys, cum = [], [], []
        for k in range(1, len(samples)):
            dt = samples[k][0] - samples[k - 1][0]
            dh = samples[k][1][i]["host_seconds"] - samples[k - 1][1][i]["host_seconds"]
            total = samples[k][1][i]["host_seconds"] - samples[0][1][i]["host_seconds"]
            xs.append(samples[k][0] - samples[0][0])
            ys.append(100 * dh / dt if dt > 0 else float("nan"))
            cum.append(100 * total / xs[-1] if xs[-1] > 0 else float("nan"))
        ax.plot(xs, ys, color=COLOURS[i], lw=0.7, alpha=0.5)
        ax.plot(xs, cum, color=COLOURS[i], lw=2, label=f"{name} (since the start)")
    ax.axhline(cap, color=COLOURS[0], ls="--", lw=1)
    ax.text(0, cap, f" cap {cap}%", va="bottom", fontsize=8, color=COLOURS[0])
    ax.set_ylim(0, 110)
    ax.set_xlabel("host time, s")
    ax.set_ylabel("% of a core (thin: per window)")
    ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------- questions
def _m(r):
    return r["measured"]


def _heavy(r):
    s = _m(r)["shares"]
    i = max(range(len(s["weights"])), key=lambda k: s["weights"][k])
    return s["shares"][i]


def _ratio(r):
    s = _m(r)["shares"]
    hi = max(range(3), key=lambda k: s["weights"][k])
    lo = min(range(3), key=lambda k: s["weights"][k])
    return s["shares"][hi] / s["shares"][lo]


Scheduling.questions = (
    Question("share_heaviest", "Part 1: which share of the core did the VM with the largest "
             "weight get (a fraction, 0 to 1)?", "fraction", TIME, _heavy, rel=0.03, abs=0.005,
             predict=lambda p: max(p["shares"]["weights"]) / sum(p["shares"]["weights"]),
             hint="its host seconds divided by the three VMs' host seconds together"),
    Question("share_ratio", "Part 1: the largest-weight VM's share divided by the "
             "smallest-weight VM's", "x", TIME, _ratio, rel=0.05,
             predict=lambda p: max(p["shares"]["weights"]) / min(p["shares"]["weights"]),
             hint="with CFS the ratio of shares approaches the ratio of weights"),
    Question("cap_use_percent", "Part 2: the capped VM's use of a core, in percent", "%", TIME,
             lambda r: _m(r)["cap"]["usage_percent"][0], rel=0.05, abs=0.5,
             predict=lambda p: p["cap"]["percent"],
             hint="host seconds divided by the elapsed time, times 100"),
    Question("victim_share_noisy", "Part 3: the victim's share beside the noisy neighbours "
             "(a fraction)", "fraction", TIME,
             lambda r: _m(r)["noisy"]["beside the noisy"]["share"], rel=0.03, abs=0.005,
             predict=lambda p: 1 / (p["noisy"]["noisy"] + 1),
             hint="row 'beside the noisy', measured share"),
    Question("victim_share_weighted", "Part 3: the victim's share with its large weight",
             "fraction", TIME, lambda r: next(v["share"] for k, v in _m(r)["noisy"].items()
                                              if k.startswith("victim weight")),
             rel=0.03, abs=0.005, predict=lambda p: 0.5,
             hint="its weight equals the neighbours' together"),
    Question("workers_cpu_percent", "Part 4: host CPU used by all the workers together, in "
             "percent of a core", "%", TIME, lambda r: _m(r)["idle"]["workers_cpu_percent"],
             rel=0.05, abs=0.2,
             predict=lambda p: 100 * p["idle"]["workers"] * p["idle"]["busy_ms"]
             / p["idle"]["period_ms"],
             hint="the workers' host seconds together over the elapsed time, times 100 (at most "
                  "workers x busy_ms / period_ms: they sleep in wfi the rest)"),
    Question("sleepers_idle_instructions", "Part 4: how many instructions did the VMs waiting "
             "for input run after they booted?", "instructions", COUNT,
             lambda r: _m(r)["sleepers_idle_instructions"], predict=lambda p: 0,
             hint="a VM in wfi with nothing pending is not runnable at all"),
    Question("idle_throughput_ratio", "Part 4: the spinner's throughput with the idle VMs "
             "divided by its throughput alone", "x", TIME,
             lambda r: _m(r)["idle"]["rate_with"] / _m(r)["idle"]["rate_alone"], rel=0.03,
             predict=lambda p: 1 - p["idle"]["workers"] * p["idle"]["busy_ms"]
             / p["idle"]["period_ms"],
             hint="MIPS with the idle VMs over MIPS alone"),
)
