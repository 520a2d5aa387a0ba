"""Lab 2, memory: one host array cut into pages for several VMs, and the walls between them.

1. The walk: a generated guest builds Sv32 page tables at pages the seed picks, maps two
   virtual pages and stores a marker through each.  The lab walks one address by hand, from
   the guest's satp to a byte of the host array (walk.py), and checks the marker is there.
2. Demand allocation against --prealloc: memhog twice, pages over guest time.
3. Overcommit: two memhogs and a bystander whose --mem adds up to more than --host-mem; the
   host's page owners near the fullest moment (the partition), exactly one VM stopped out of
   memory, every page back at the end.
4. The rogue guest's attempts to get out, and why each failed.

Everything runs in lockstep (runner.lockstep): the pages, the host page numbers and which VM
runs out of memory are the same for a given seed on every machine.
"""
import time

import numpy as np

from ..devices.layout import RAM_BASE
from ..memory import MONITOR, PAGE_SIZE
from . import pagemap
from . import rogue as rogue_log
from .base import COUNT, TIME, Lab, LabError, Question
from .plots import figure
from .programs import IMAGE_BASE, walk as walk_program
from .runner import Capture, assemble, engine, lockstep
from .walk import pte_flags, pte_ppn, read_word, translate

MiB = 1 << 20
WINDOW = 2000               # instructions per VM per lockstep round


def _pages(paddr, size):
    first = (paddr - RAM_BASE) // PAGE_SIZE
    return set(range(first, (paddr + size - 1 - RAM_BASE) // PAGE_SIZE + 1)) if size else set()


def image_pages(image):
    """(pages the loader fills at boot: the file's bytes of each PT_LOAD segment; pages of the
    whole image, .bss included: the guest's start code zeroes its .bss, so it touches them)."""
    loaded, whole = set(), set()
    for seg in image.segments:
        loaded |= _pages(seg.paddr, len(seg.data))
        whole |= _pages(seg.paddr, seg.memsz)
    return loaded, whole


def memhog_pages(image, mem, size):
    """The model of memhog's pages: (peak, at boot).  At its peak it holds the pages it
    touches (its first `size` bytes of RAM), its whole image and the device tree's top page;
    at boot only what the loader filled and the device tree."""
    loaded, whole = image_pages(image)
    touched = set(range(size // PAGE_SIZE))
    dtb = {mem // PAGE_SIZE - 1}
    return len(touched | whole | dtb), len(loaded | dtb)


class Memory(Lab):
    number = 2
    name = "memory"
    title = "Memory: one host array, partitioned page by page"
    summary = "a VA walked to a host offset; demand paging vs --prealloc; overcommit and OOM; rogue"
    doc = "docs/labs/02-memory.md"

    def params(self, rng, quick):
        wmem = rng.choice([8, 16]) * MiB
        npages = wmem // PAGE_SIZE
        image_page = (IMAGE_BASE - RAM_BASE) // PAGE_SIZE
        free = [i for i in range(16, npages - 2) if not image_page <= i < image_page + 16]
        root, table, g1, g2 = (RAM_BASE + i * PAGE_SIZE for i in rng.sample(free, 4))
        vpn1 = rng.choice([v for v in range(1, 0x3FF) if v != IMAGE_BASE >> 22])
        v1, v2 = rng.sample(range(0x400), 2)
        va1 = vpn1 << 22 | v1 << 12 | rng.randrange(0, PAGE_SIZE, 4)
        va2 = vpn1 << 22 | v2 << 12 | rng.randrange(0, PAGE_SIZE, 4)
        hog_mem = rng.choice([8, 12, 16]) * MiB
        hog_size = rng.randint(2, hog_mem // MiB - 1) * MiB
        if quick:
            hog_mem, hog_size = 8 * MiB, rng.randint(2, 6) * MiB
        oom_mem = 16 * MiB if not quick else 8 * MiB
        oom_size = rng.randint(8, 14) * MiB if not quick else rng.randint(5, 7) * MiB
        host = rng.randint(oom_size // MiB + 2, 2 * oom_size // MiB - 2) * MiB
        return {
            "walk": {"mem": wmem, "root": root, "table": table,
                     "maps": [[va1, g1, rng.getrandbits(32)], [va2, g2, rng.getrandbits(32)]],
                     "code_va": IMAGE_BASE + rng.randrange(0, 0x100, 4)},
            "hog": {"mem": hog_mem, "size": hog_size},
            "oom": {"mem": oom_mem, "size": oom_size, "host_mem": host,
                    "order": rng.sample(["hog-a", "hog-b", "bystander"], 3)},
            "rogue": {"mem": rng.choice([16, 32, 64]) * MiB,
                      "ask": sorted(rng.sample(range(3, 101), 3))},
            "window": WINDOW,
        }

    def text_vars(self, p):
        ask = p["rogue"]["ask"]
        return {"va2": f"{p['walk']['maps'][1][0]:#010x}", "ask0": ask[0], "ask1": ask[1],
                "ask2": ask[2]}

    def run(self, ctx):
        with ctx.progress.step("the walk of one virtual address"):
            self._walk(ctx)
        with ctx.progress.step("demand allocation against --prealloc"):
            self._demand(ctx)
        with ctx.progress.step("overcommit: two memhogs and a bystander on a small host"):
            self._overcommit(ctx)
        with ctx.progress.step("rogue beside a victim"):
            self._rogue(ctx)

    # ------------------------------------------------------------------ 1. the walk
    def _walk(self, ctx):
        p = ctx.params["walk"]
        maps = [tuple(m) for m in p["maps"]]
        image = assemble(ctx, "walk.s", walk_program(p["root"], p["table"], maps,
                                                     "lab 2: my own Sv32 page tables"), p["mem"])
        eng = engine(host_mem=p["mem"] + 4 * MiB)
        vm = eng.create(image, name="walker", mem=p["mem"])
        lockstep(eng, [vm], 10_000)
        if vm.done or not vm.idle:
            raise LabError(f"the walk guest did not reach its wfi: {vm.outcome}")
        ram = eng.memory.ram
        walks = [translate(vm, va) for va, _, _ in maps] + [translate(vm, p["code_va"])]
        for w, (_, _, marker) in zip(walks, maps):
            if w.host_offset is None:
                raise LabError(f"walk of {w.va:#x} failed: {w.fault}")
            found = int.from_bytes(ram[w.host_offset:w.host_offset + 4].tobytes(), "little")
            if found != marker:
                raise LabError(f"walk of {w.va:#x} ends at host offset {w.host_offset:#x}, "
                               f"which holds {found:#x}, not the marker {marker:#x}")
        w1, w2, w3 = walks
        found = int.from_bytes(ram[w1.host_offset:w1.host_offset + 4].tobytes(), "little")
        ctx.record("walk", [{"va": w.va, "gpa": w.gpa, "guest_page": w.guest_page,
                             "host_page": w.host_page, "host_offset": w.host_offset,
                             "ptes_read": w.ptes_read, "megapage": w.megapage,
                             "steps": [list(s) for s in w.steps]} for w in walks], COUNT)
        ctx.command("the walk guest (it ends idle in wfi: stop it with Ctrl-C, or watch it in "
                    "hv top)", f"hv run guests/walk.s --mem {p['mem'] // MiB}M --timeout 2")
        ctx.say(f"""
## 1. One virtual address, walked by hand to a byte of the host array

`guests/walk.s` builds its own page tables: the root table at guest-physical
{p['root']:#x}, a second-level table at {p['table']:#x}, its own code mapped with one 4 MiB
megapage, and two 4 KiB pages.  It stores a marker through each virtual address, then idles.
The lab then reads the VM's memory from the host side (`read_guest`, the G-stage map
`gmap`) and follows the same steps the hart follows (privileged spec, "Virtual Address
Translation Process"):

```
{w1.text()}
```

The host array at offset {w1.host_offset:#x} holds {found:#010x}: the marker the guest
stored at {w1.va:#010x}.  Two translations, and the guest never learns the last number.
""")
        table = p["table"]
        rows = []
        for i in range(1024):
            pte = read_word(vm, table + 4 * i)
            if pte:
                rows.append([f"{i:#05x}", f"{table + 4 * i:#x}", f"{pte:#010x}", pte_flags(pte),
                             f"{pte_ppn(pte) << 12:#x}"])
        ctx.say(f"The second-level table at {table:#x} holds these non-zero entries:")
        ctx.table(["index (VPN[0])", "at guest-physical", "PTE", "flags", "page"], rows)
        ctx.say("And the G-stage map of this VM (the monitor's, guest page -> host page), in "
                "runs of consecutive pages:")
        ctx.table(["guest pages", "guest-physical", "host pages"], pagemap.runs(vm.gmap))
        ctx.say(f"""
An address in the program's own megapage, {w3.va:#010x}, takes {w3.ptes_read} PTE read(s):

```
{w3.text()}
```
""")
        ctx.headline(f"VA {w1.va:#010x} -> guest-physical -> host offset",
                     f"{w1.gpa:#x} -> {w1.host_offset:#x}", "", COUNT)
        ctx.display(f"the walk of {w1.va:#010x}, from the guest's satp to the host array:\n"
                    + w1.text() + f"\nhost array at {w1.host_offset:#x}: {found:#010x}, the "
                    "guest's marker")
        eng.shutdown()

    # ------------------------------------------------------------------ 2. demand vs prealloc
    def _demand(self, ctx):
        p = ctx.params["hog"]
        mem, size = p["mem"], p["size"]
        eng = engine(host_mem=2 * mem + 4 * MiB)
        boot = {}
        vms = []
        for name, pre in (("demand", False), ("prealloc", True)):
            t = time.perf_counter()
            vm = eng.create("memhog", name=name, mem=mem, bootargs=f"size={size // MiB}M",
                            prealloc=pre)
            boot[name] = {"pages": vm.pages, "seconds": time.perf_counter() - t}
            vms.append(vm)
        samples = []

        def sample(_r, cpu):
            samples.append([(vm.stats()["cycles"], vm.pages) for vm in vms])
        cpu = lockstep(eng, vms, WINDOW, sample)
        stats = {vm.name: vm.stats() for vm in vms}
        for s in stats.values():
            if s["outcome"] != "passed":
                raise LabError(f"memhog ({s['name']}): {s['outcome']}")
        loaded, whole = image_pages(vms[0].image)
        model_peak, model_boot = memhog_pages(vms[0].image, mem, size)
        ctx.record("demand", {name: {"boot_pages": boot[name]["pages"],
                                     "peak_pages": stats[name]["pages_peak"],
                                     "gstage_exits": stats[name]["exits"]["gstage"],
                                     "instructions": stats[name]["instructions"],
                                     "pages_over_time": [list(row[i]) for row in samples]}
                              for i, name in enumerate(("demand", "prealloc"))}, COUNT)
        ctx.record("demand_time", {name: {"create_seconds": boot[name]["seconds"],
                                          "cpu_seconds": cpu[vm.id] / 1e9}
                                   for name, vm in zip(("demand", "prealloc"), vms)}, TIME)
        ctx.command("demand allocation and --prealloc",
                    f"hv run memhog --mem {mem // MiB}M --append size={size // MiB}M --stats")
        ctx.command("", f"hv run memhog --mem {mem // MiB}M --append size={size // MiB}M "
                        "--prealloc --stats")
        d, pa = stats["demand"], stats["prealloc"]
        ctx.say(f"""
## 2. Demand allocation against --prealloc

memhog with --mem {mem // MiB}M touches the first {size // MiB} MiB of its RAM, one word per
4 KiB page.  The demand VM gets a host page at the first touch of each page (one G-stage exit
to the monitor each); the preallocated one gets all {mem // PAGE_SIZE} at boot.
""")
        ctx.table(["", "pages at boot", "peak pages", "G-stage exits", "instructions",
                   "create (ms, time)", "run (CPU ms, time)"],
                  [[n, boot[n]["pages"], stats[n]["pages_peak"], stats[n]["exits"]["gstage"],
                    stats[n]["instructions"], f"{boot[n]['seconds'] * 1e3:.1f}",
                    f"{cpu[vm.id] / 1e6:.1f}"] for n, vm in zip(("demand", "prealloc"), vms)])
        ctx.say(f"The loader fills {len(loaded)} pages with the image's bytes at boot and the "
                f"device tree one: {model_boot} pages before the first instruction.  The rest of "
                f"the image ({len(whole - loaded)} pages of .bss and stack) is demand-paged like "
                f"any RAM, and memhog touches {size // PAGE_SIZE} pages from the start of RAM.  "
                f"Model: {model_peak} pages at the peak, {model_peak - model_boot} G-stage "
                "exits.")
        ctx.headline("memhog peak pages: demand / prealloc",
                     f"{d['pages_peak']} / {pa['pages_peak']}", "pages", COUNT)
        figure(ctx, "pages.png", "host pages held over guest time: demand allocation and "
               "--prealloc (count)", lambda plt: pagemap.pages_figure(plt, samples, mem))
        eng.shutdown()

    # ------------------------------------------------------------------ 3. overcommit
    def _overcommit(self, ctx):
        p = ctx.params["oom"]
        eng = engine(host_mem=p["host_mem"])
        try:
            self._report_overcommit(ctx, *self._run_overcommit(ctx, eng))
        finally:
            eng.shutdown()

    def _run_overcommit(self, ctx, eng):
        """The three VMs in lockstep until both memhogs ended; the host's page owners at the
        fullest moment before anyone ran out."""
        p = ctx.params["oom"]
        mem, size = p["mem"], p["size"]
        vms = {}
        for name in p["order"]:
            image, args = (("spinner", "every_ms=1") if name == "bystander" else
                           ("memhog", f"size={size // MiB}M"))
            vms[name] = eng.create(image, name=name, mem=mem, bootargs=args)
        order = [vms[n] for n in p["order"]]
        snap = {"owner": eng.memory.owner.copy(), "free": eng.memory.free_pages, "round": 0,
                "consistent": pagemap.consistent(eng, order)}
        series = []

        def sample(r, _cpu):
            series.append([vm.pages for vm in order] + [eng.memory.free_pages])
            if not any(vm.status == "crashed" for vm in order) and \
                    eng.memory.free_pages <= snap["free"]:
                snap.update(owner=eng.memory.owner.copy(), free=eng.memory.free_pages, round=r,
                            consistent=pagemap.consistent(eng, order))
        hogs = [vm for vm in order if vm.name != "bystander"]
        lockstep(eng, order, WINDOW, sample, until=lambda: all(vm.done for vm in hogs))
        bystander = vms["bystander"]
        still_running = bystander.status == "running" or not bystander.done
        eng.kill(bystander)                 # the spinner never ends by itself
        return eng, vms, order, snap, series, still_running

    def _report_overcommit(self, ctx, eng, vms, order, snap, series, still_running):
        p = ctx.params["oom"]
        mem, size, host = p["mem"], p["size"], p["host_mem"]
        owner = snap["owner"]
        stats = {n: vm.stats() for n, vm in vms.items()}
        victims = [n for n, s in stats.items() if s["outcome"].startswith("crashed: out of memory")]
        held = {n: int(np.sum(owner == vms[n].id)) for n in vms}
        npages = eng.memory.npages
        free_after = eng.memory.free_pages
        owners_after = sorted(set(int(o) for o in eng.memory.owner))
        ctx.record("overcommit", {
            "host_pages": npages, "mem_pages_each": mem // PAGE_SIZE,
            "outcomes": {n: s["outcome"] for n, s in stats.items()},
            "bystander_running_at_end": still_running,
            "bystander_instructions": stats["bystander"]["instructions"],
            "victims": victims, "victim_pages": {n: stats[n]["pages_peak"] for n in victims},
            "peaks": {n: s["pages_peak"] for n, s in stats.items()},
            "fullest": {"round": snap["round"], "free": snap["free"], "held": held,
                        "monitor": int(np.sum(owner == MONITOR)),
                        "maps_agree_with_owners": snap["consistent"]},
            "free_after": free_after, "owners_after": owners_after,
            "series": series}, COUNT)
        ctx.command("overcommit: the same three VMs (on real threads the two memhogs may not "
                    "overlap: then neither runs out)",
                    f"hv run memhog memhog spinner --mem {mem // MiB}M --host-mem {host // MiB}M "
                    f"--append size={size // MiB}M --timeout 5 --stats")
        ctx.say(f"""
## 3. Overcommit and the out-of-memory stop of one VM

Three VMs of --mem {mem // MiB}M each ({3 * mem // MiB} MiB promised) on a host of
{host // MiB} MiB ({npages} pages, page 0 kept by the monitor): two memhogs that touch
{size // MiB} MiB each, and `spinner` as a bystander (it computes primes forever; the lab
stops it once both memhogs have ended).  They ran in lockstep, {WINDOW}
instructions each in turn ({', '.join(p['order'])}).  Promising more than the host has is
fine while the guests do not touch it all: a VM's --mem is a limit, not an allocation.
""")
        ctx.table(["VM", "outcome", "peak pages", "pages held at the fullest moment",
                   "instructions"],
                  [[n, ("still running, then stopped by the lab" if n == "bystander" and
                        still_running else s["outcome"]), s["pages_peak"], held[n],
                    s["instructions"]] for n, s in stats.items()])
        ctx.say(f"At the fullest moment (round {snap['round']}) {snap['free']} pages were free. "
                f"After every VM ended, {free_after} of {npages} pages are free "
                f"({npages - 1} can be: page 0 is the monitor's).")
        if len(victims) == 1:
            ctx.headline("VMs stopped out of memory", f"1 ({victims[0]})", "VMs", COUNT)
        else:
            ctx.headline("VMs stopped out of memory", len(victims), "VMs", COUNT)
        ctx.headline("host pages free after all ended", f"{free_after} / {npages - 1}", "pages",
                     COUNT)
        # the partition: every page has exactly one owner; each map agrees with owner[]
        ctx.say(pagemap.partition_text(owner, vms, held, snap["consistent"]))
        figure(ctx, "partition.png", "the host array at the fullest moment: one cell per 4 KiB "
               "page, coloured by owner (count)",
               lambda plt: pagemap.partition_figure(plt, owner, vms))
        figure(ctx, "overcommit.png", "pages held per VM over the lockstep rounds, on a host "
               "too small for all (count)",
               lambda plt: pagemap.overcommit_figure(plt, series, order, npages, WINDOW))

    # ------------------------------------------------------------------ 4. rogue
    def _rogue(self, ctx):
        p = ctx.params["rogue"]
        eng = engine(host_mem=p["mem"] + 32 * MiB)
        rogue = eng.create("rogue", name="rogue", mem=p["mem"])
        victim = eng.create("hello", name="victim", mem=16 * MiB)
        cap = Capture(rogue)
        lockstep(eng, [rogue, victim], 20_000)
        text = cap.text()
        attempts = rogue_log.parse(text)
        if ctx.out is not None:
            (ctx.out / "rogue-console.txt").write_text(text)
        stats = {"rogue": rogue.stats(), "victim": victim.stats()}
        contained = sum(1 for a in attempts if a["verdict"].startswith("contained"))
        by_cause = {}
        for a in attempts:
            by_cause[str(a["scause"])] = by_cause.get(str(a["scause"]), 0) + 1
        ctx.record("rogue", {"attempts": attempts, "contained": contained,
                             "allowed": sum(1 for a in attempts if a["verdict"].startswith("ok")),
                             "by_cause": by_cause,
                             "outcomes": {n: s["outcome"] for n, s in stats.items()},
                             "exits": stats["rogue"]["exits"]}, COUNT)
        ctx.command("rogue beside a victim", f"hv run rogue hello --mem {p['mem'] // MiB}M --stats")
        ctx.say(f"""
## 4. The rogue guest: {len(attempts)} attempts to get out

rogue (--mem {p['mem'] // MiB}M) tried everything in the table below from its own kernel and
its own user mode, while `hello` ran beside it.  Outcomes: rogue {stats['rogue']['outcome']},
victim {stats['victim']['outcome']}.  {contained} attempts were contained, {len(attempts) -
contained} were controls that must work.  Its whole console is in `rogue-console.txt`.
""")
        ctx.table(["attempts", "what", "outcomes (scause: count)", "why it failed"],
                  rogue_log.table_rows(attempts))
        ctx.headline("rogue attempts contained", f"{contained} of {len(attempts)}", "", COUNT)
        eng.shutdown()


# ---------------------------------------------------------------------- questions
def _walk(r, i):
    return r["measured"]["walk"][i]


def _cause_of(r, n):
    for a in r["measured"]["rogue"]["attempts"]:
        if a["n"] == n:
            return a["scause"]
    raise KeyError(n)


def _model_peak(p):
    from ..catalog import resolve_image
    h = p["hog"]
    img = resolve_image("memhog", h["mem"])
    return memhog_pages(img, h["mem"], h["size"])


def _rogue_q(i):
    return Question(
        f"rogue_attempt_{i + 1}", f"Which scause did rogue's attempt number {{ask{i}}} get? "
        "(-1 if it did not trap)", "scause", COUNT,
        lambda r: _cause_of(r, r["params"]["rogue"]["ask"][i]),
        hint="rogue-console.txt has one line per attempt; the table of part 4 says why")


Memory.questions = (
    Question("walk_va2_gpa", "Your walk guest also mapped virtual address {va2} (the table of "
             "second-level PTEs in part 1 has its entry): which guest-physical address does it "
             "translate to?", "address", COUNT,
             lambda r: _walk(r, 1)["gpa"],
             predict=lambda p: p["walk"]["maps"][1][1] | (p["walk"]["maps"][1][0] & 0xFFF),
             hint="VPN[0] = (va >> 12) & 0x3ff picks the PTE; its PPN x 4096 plus the page "
                  "offset (va & 0xfff) is the guest-physical address"),
    Question("walk_va2_host_offset", "And which byte offset of the host array holds {va2}?",
             "offset", COUNT, lambda r: _walk(r, 1)["host_offset"],
             hint="the G-stage table: guest page = (gpa - 0x80000000) / 4096; host offset = "
                  "host page x 4096 + (gpa & 0xfff)"),
    Question("walk_megapage_ptes", "How many PTEs does the walk read for an address in the "
             "program's own megapage?", "PTEs", COUNT, lambda r: _walk(r, 2)["ptes_read"],
             predict=lambda p: 1,
             hint="a PTE with R or X set at level 1 is already a leaf"),
    Question("demand_peak_pages", "How many host pages did the demand-allocated memhog hold at "
             "its peak?", "pages", COUNT,
             lambda r: r["measured"]["demand"]["demand"]["peak_pages"],
             predict=lambda p: _model_peak(p)[0],
             hint="the pages it touched, plus the image's pages (.bss included) outside that "
                  "range, plus the device tree's page"),
    Question("demand_gstage_exits", "How many G-stage exits did it take?", "exits", COUNT,
             lambda r: r["measured"]["demand"]["demand"]["gstage_exits"],
             predict=lambda p: _model_peak(p)[0] - _model_peak(p)[1],
             hint="one per page first touched by the guest; the pages the loader filled at boot "
                  "(the image's file bytes, the device tree) took none"),
    Question("prealloc_gstage_exits", "And the preallocated one?", "exits", COUNT,
             lambda r: r["measured"]["demand"]["prealloc"]["gstage_exits"],
             predict=lambda p: 0, hint="every page had its host page before the first "
                                       "instruction"),
    Question("oom_victims", "How many VMs were stopped out of memory in part 3?", "VMs", COUNT,
             lambda r: len(r["measured"]["overcommit"]["victims"]), predict=lambda p: 1,
             hint="the first VM that wants a page when none is free stops; its pages come back "
                  "and the others go on"),
    Question("oom_victim_pages", "How many pages did that VM hold when it was stopped?", "pages",
             COUNT, lambda r: sum(r["measured"]["overcommit"]["victim_pages"].values()),
             hint="its peak pages in the table of part 3"),
    Question("free_after", "How many host pages were free after every VM of part 3 ended?",
             "pages", COUNT, lambda r: r["measured"]["overcommit"]["free_after"],
             predict=lambda p: p["oom"]["host_mem"] // PAGE_SIZE - 1,
             hint="every page comes back, zeroed; one page was never a guest's"),
    _rogue_q(0), _rogue_q(1), _rogue_q(2),
    Question("rogue_contained", "How many of rogue's attempts were contained?", "attempts", COUNT,
             lambda r: r["measured"]["rogue"]["contained"],
             hint="count the 'contained' verdicts; the 'ok (allowed)' lines are controls"),
)
