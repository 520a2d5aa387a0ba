"""Lab 5 in the report: tables for each step, a figure of bytes and pages, the commands to do
it by hand, and the questions."""
from .base import COUNT, Question
from .plots import COLOURS, figure

PAGE_KIB = 4


def report(ctx, new):
    m, p = ctx.measured, ctx.params
    n, k = p["n"], p["k"]
    ct, fe, cm, st, tr, both = (m["containers"], m["fork_exec"], m["commit"], m["stored"],
                                m["transfer"], m["both"])
    _containers(ctx, ct, n)
    fork_pages, exec_pages = _fork_exec(ctx, fe, both, k)
    ctx.say(f"""
## 3. A container's changes are a layer: commit, diff

A container of `linux-vm:6.1` ran `mkdir /srv`, wrote `/srv/greeting` ("{p['greeting']}"),
appended a line to `{p['change']}` and deleted `{p['delete']}`.  Its writable layer, as an OCI
layer tar ({cm['upper_bytes']:,} bytes; the delete is a *whiteout*, `.wh.` + the name):
`{'`, `'.join(cm['upper_entries'])}`.  Committed as `{p['tag']}`, it is one more layer of
{cm['layer']['size']:,} bytes (gzip) on the {cm['layers'] - 1} of `linux-vm:6.1`.  `hv image
diff linux-vm:6.1 {p['tag']}` (the union views of the two images compared):
""")
    ctx.table(["", "path", "what"], [[op, f"`{path}`", what] for op, path, what in cm["diff"]])
    ctx.say("""
## 4. Stored once

The store now holds three images.  What `hv image ls` shows as each one's size, against the
bytes in the store's `blobs/`:
""")
    rows = [[f"`{r}`", f"{i['size']:,}", ", ".join(f"{x:,}" for x in i["layers"])]
            for r, i in st["images"].items()]
    rows.append(["**sum**", f"**{st['sum_of_sizes']:,}**", f"{st['layer_uses']} layer uses"])
    rows.append(["**blobs/ on disk**", f"**{st['blob_bytes']:,}**",
                 f"{st['distinct_layers']} distinct layers, {st['blobs']} blobs"])
    ctx.table(["image", "size (bytes)", "its layers (bytes)"], rows)
    ctx.say(f"""
The layers shared by two or three images (of {', '.join(f'{x:,}' for x in st['shared_layers'])}
bytes) are stored once: the store saves {st['sum_of_sizes'] - st['blob_bytes']:,} bytes.  Each
blob is a file named by its sha256 (content addressing): the same bytes can only be stored
once.
""")
    _transfer(ctx, tr, p)
    c, v = both["container"], both["vm"]
    ctx.say(f"""
## 6. The same image as a container and as a VM

`{p['tag']}` ran as a container (its layers on the shared kernel) and booted as a VM
(`vmimage.boot_parts`: the kernel from its `/boot/Image`, {both['kernel_bytes']:,} bytes,
{'the very file hvlab bundles as `linux`' if both['kernel_is_bundled'] else 'not the bundled one'};
the rest of its files as an initramfs of {both['initramfs_bytes']:,} bytes):
""")
    ctx.table(["", "output", "host pages", "instructions", "outcome"], [
        ["container", " / ".join(f"`{x}`" for x in c["output"]), f"{c['pages']:,}",
         f"{c['instructions']:,}", c["outcome"]],
        ["VM", " / ".join(f"`{x}`" for x in v["output"]), f"{v['pages']:,}",
         f"{v['instructions']:,}", v["outcome"]]])
    ctx.say(f"""
Both read the greeting the container wrote in section 3: the image is the same.  Each
answers `uname` with its kernel: hvlab's shared kernel in the container, Linux 6.1 in the VM.
The VM holds {v['pages'] / max(1, c['pages']):.0f} times the host pages: a kernel, its page
cache, and the initramfs twice (the one built into the Image and the image's, unpacked over
it).
""")
    figure(ctx, "images.png", "bytes on disk and host pages, once and per container (count)",
           lambda plt: _figure(plt, ct, fe, st, k))
    ctx.headline("per container: host pages / writable layer bytes",
                 f"{ct['pages'][0]} / {ct['upper_bytes'][0]:,}", "", COUNT)
    mem = ct["memory"][0]
    ctx.headline("its host pages: page cache / page tables / own",
                 f"{mem['file']} / {mem['pagetables']} / {mem['anon']}", "pages", COUNT)
    ctx.headline("host pages per extra process: forked / exec'd",
                 f"{fork_pages:.2f} / {exec_pages:.2f}", "pages", COUNT)
    ctx.headline("store: sum of image sizes / bytes in blobs/",
                 f"{st['sum_of_sizes']:,} / {st['blob_bytes']:,}", "bytes", COUNT)
    if tr["how"] == "registry":
        ctx.headline("second push: blobs uploaded / mounted",
                     f"{tr['pushes'][1]['uploaded']} / {tr['pushes'][1]['mounted']}", "", COUNT)
    ctx.headline("host pages: the image as a VM / as a container",
                 f"{v['pages']:,} / {c['pages']:,}", "pages", COUNT)
    _commands(ctx, p)


def _containers(ctx, ct, n):
    mem, bb_pages = ct["memory"][0], -(-ct["busybox_bytes"] // 4096)
    idle = mem["file"] - mem["file_mapped"]
    ctx.say(f"""
## 1. One image, {n} containers

{n} containers from `busybox:1.35`, each writing one file (`/root/note`) and then waiting
for input (`exec cat`).  Each was stepped until it waited, and measured there:
""")
    ctx.table(["", "on disk", "in host memory"], [
        ["the image (once, whatever N)",
         f"{ct['image_layer_bytes']:,} bytes: its one layer, compressed",
         f"{ct['image_files']} files, {ct['image_file_bytes']:,} bytes: **{ct['image_trees']}** "
         "read-only tree for all the containers (the shared kernel's)"],
        ["each container",
         f"{ct['upper_bytes'][0]:,} bytes: its writable layer ({', '.join(ct['upper_entries'][0])})",
         f"**{ct['pages'][0]}** host pages ({ct['pages'][0] * PAGE_KIB:,} KiB): its frames, "
         "below"]])
    ctx.say(f"""
A container's host pages are its frames (kernel/frames.py), split by the shared kernel as a
memory cgroup's `memory.stat` splits them (`memory_stat` in its stats):
""")
    ctx.table(["one container's host pages", "pages", "what they are"], [
        ["page cache (`file`)", f"**{mem['file']}**",
         f"the pages of `bin/busybox` ({ct['busybox_bytes']:,} bytes, {bb_pages} pages) that "
         f"its `sh` and then its `{ct['processes'][0]}` touched, one frame each; "
         f"{mem['file_mapped']} mapped by the `{ct['processes'][0]}`, {idle} by no process "
         "(the shell's, left after its exec: free for the taking, MemAvailable)"],
        ["page tables", mem["pagetables"], "the Sv32 tables of its address spaces"],
        ["its processes' own (`anon`)", mem["anon"],
         "stack, data and heap pages written, and the kernel's trampoline page"],
        ["**all**", f"**{ct['pages'][0]}**", "the engine's count of the host pages it holds"]])
    ctx.say(f"""
hvlab's shared kernel maps an executable from its file, as Linux does (kernel/exec.py,
mm.py): a page is read from the file at its first touch, and a read-only page (text,
rodata) is one frame of the container's *page cache*, mapped copy-on-write into every
process of the container that runs the file.  So a container holds only the pages of
BusyBox its processes touched, once, however many processes run it (section 2); the
`{ct['processes'][0]}`'s RSS, the pages it maps, is {ct['rss'][0]}.  The cache is the
container's own, counted in its `--memory` as a memory cgroup is charged its page cache: the
{n} containers hold {sum(m['file'] for m in ct['memory'])} cached frames between them, {n}
copies of the same pages of BusyBox, where the image's *files* are in host memory once.  A
Linux host running containers on overlayfs caches each file of the image's lower layer once,
for all of them.
""")


def _fork_exec(ctx, fe, both, k):
    b, f, e = fe["base"], fe["forked"], fe["execed"]
    per = {name: {key: (x["memory"][key] - b["memory"][key]) / k
                  for key in ("file", "pagetables", "anon")}
           for name, x in (("forked", f), ("execed", e))}
    fork_pages, exec_pages = (f["pages"] - b["pages"]) / k, (e["pages"] - b["pages"]) / k
    cat_rss = sorted(e["process_rss"])[len(e["process_rss"]) // 2]     # the median: a cat's
    ctx.say(f"""
## 2. Copy-on-write fork, and exec

In a container (`--memory 64m`): a shell waiting for input (`read x < /dev/tty`) alone; then
with {k} copies of itself waiting in the background (`read x < /dev/tty &`: {f['clone'] -
b['clone']} more forks, no exec); then instead with {k} `cat`s (`cat < /dev/tty &`:
{e['execve'] - b['execve']} more execs).  RSS, the pages each process maps (shared ones
included, as Linux's VmRSS), summed over the processes; host pages from the engine, split
by the shared kernel (`memory_stat`):
""")
    row = lambda x: [x["processes"], f"{x['rss']:,}", x["pages"], x["memory"]["file"],
                     x["memory"]["pagetables"], x["memory"]["anon"]]
    ctx.table(["container", "processes", "sum of RSS", "host pages", "page cache",
               "page tables", "own pages", "host pages per extra process"],
              [["a waiting `sh`", *row(b), ""],
               [f"+ {k} forked shells", *row(f), f"**{fork_pages:.2f}**"],
               [f"+ {k} exec'd cats", *row(e), f"**{exec_pages:.2f}**"]])
    pf, pe = per["forked"], per["execed"]
    ctx.say(f"""
A fork shares every page of the parent, read-only, and copies one only when either side
writes it (kernel/mm.py): the {k} shells map {f['rss'] - b['rss']:,} pages between them, a
whole shell each, and cost {f['pages'] - b['pages']:,}.  Per shell: {pf['pagetables']:.2f}
page tables (a fork copies every entry of the parent's tables) and {pf['anon']:.2f} own
pages, the heap, data and stack pages that the child or its parent wrote after the fork,
copied then; {pf['file']:.2f} new page-cache pages.

An exec drops the forked copy and maps the program again, from the page cache: each `cat`
maps {cat_rss} pages and costs {exec_pages:.2f}: {pe['pagetables']:.2f} page tables (a root
and one leaf table for the program's 4 MiB, one for the stack's), {pe['anon']:.2f} own pages
(its stack, its data) and {pe['file']:.2f} pages of BusyBox that no process had touched
before, cached for the next one.
""")
    if fork_pages > exec_pages:
        ctx.say(f"""
So a forked shell costs more than an exec'd `cat`, though the exec loads a whole program:
the fork copies a shell that has run for a while, whose heap and data the child and the
parent go on writing ({pf['anon']:.2f} own pages against {pe['anon']:.2f}), and a shell's
larger page tables; the program's text costs neither of them more than the few pages it
adds to the page cache.
""")
    free = both["vm"]["free_kib"]
    if len(free) == 3:
        lin_fork, lin_exec = (free[0] - free[1]) / k, (free[1] - free[2]) / k
        ctx.say(f"""
The same inside the Linux VM of section 6 (its own counter, `MemFree` of /proc/meminfo, read
before and after each step): a forked shell costs Linux **{lin_fork:.0f} KiB**, an exec'd
`cat` **{lin_exec:.0f} KiB**, against {fork_pages * PAGE_KIB:.0f} KiB and
{exec_pages * PAGE_KIB:.0f} KiB of host memory in the container.  Linux shares BusyBox the
same way (its page cache holds the initramfs's files from boot), and pays in its own memory
what hvlab's shared kernel keeps outside the container's: each process's kernel stack
(8 KiB on rv32), its task, mm and VMA structures.  (Linux's fork also skips the page tables
of the areas a fault can fill from the file again: mm/memory.c, `vma_needs_copy`.)
""")
    return fork_pages, exec_pages


def _transfer(ctx, tr, p):
    if tr["how"] != "registry":
        ctx.say(f"""
## 5. Another host

**Skipped: {tr['why']}.**  The image went to the second store through a file instead:
`hv image save` wrote {tr['archive_bytes']:,} bytes, `hv image load` read them into the
second store.
""")
        return
    a, b = tr["pushes"]
    ctx.say(f"""
## 5. Push to a registry, pull into another host

A local registry (`docker-registry`, on this machine's loopback) and a second, empty store
("host B").  First `busybox:1.35` was pushed as `course/busybox:1.35`, then `{p['tag']}`:
""")
    ctx.table(["push", "blobs uploaded", "mounted from another repository", "already there",
               "bytes uploaded"],
              [["`course/busybox:1.35`", a["uploaded"], a["mounted"], a["skipped"],
                f"{a['bytes']:,}"],
               [f"`{p['tag']}`", b["uploaded"], b["mounted"], b["skipped"], f"{b['bytes']:,}"]])
    ctx.table(["pull into host B", "blobs downloaded", "same digest as on host A"],
              [[f"`{x['ref']}`", x["downloaded"], "yes" if x["digest_same"] else "**no**"]
               for x in tr["pulls"]])
    ctx.say(f"""
The registry keeps {tr['registry_blobs']} blobs ({tr['registry_bytes']:,} bytes: layers,
configs and manifests) for the two repositories.  The second push *mounted* {b['mounted']}
blob{'s' if b['mounted'] != 1 else ''} that the registry had in the first repository (a
cross-repository mount: `POST .../blobs/uploads/?mount=...&from=...`, no bytes sent), and the
second pull downloaded {tr['pulls'][1]['downloaded']} blobs: host B had its layer already.
""")


def _figure(plt, ct, fe, st, k):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    ax = axes[0]
    names = ["sum of image sizes", "bytes in blobs/"]
    ax.bar(range(2), [st["sum_of_sizes"] / 1e6, st["blob_bytes"] / 1e6], color=COLOURS[:2])
    ax.set_xticks(range(2), names, fontsize=8)
    ax.set_ylabel("MB", fontsize=8)
    ax.set_title("on disk: 3 images", fontsize=9)
    ax = axes[1]
    runs = [fe["base"], fe["forked"], fe["execed"]]
    x = range(3)
    ax.bar([i - 0.2 for i in x], [r["rss"] for r in runs], 0.4, color=COLOURS[3],
           label="sum of RSS")
    bottom = [0] * 3
    for j, (key, what) in enumerate((("file", "host: page cache"),
                                     ("pagetables", "host: page tables"),
                                     ("anon", "host: own pages"))):
        h = [r["memory"][key] for r in runs]
        ax.bar([i + 0.2 for i in x], h, 0.4, bottom=bottom, color=COLOURS[j], label=what)
        bottom = [a + c for a, c in zip(bottom, h)]
    ax.set_xticks(list(x), ["sh", f"+{k} forked", f"+{k} exec'd"], fontsize=8)
    ax.set_title("in memory: one container (pages)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _commands(ctx, p):
    ctx.command("a store of your own (every hv image / container command takes --store, or "
                "$HV_STORE)", "export HV_STORE=$PWD/store")
    ctx.command("one image, N containers: each one's memory and processes ('--': what "
                "follows is the container's command)",
                "hv container run -d --name c1 busybox:1.35 -- sh -c 'echo note > /root/note; "
                "sleep 1000'\nhv container stats\nhv container exec c1 ps")
    ctx.command("a container's changes, committed, and the diff",
                f"hv container run --name changer linux-vm:6.1 -- sh -c \"mkdir /srv && echo "
                f"'{p['greeting']}' > /srv/greeting && echo '# lab 5' >> {p['change']} && rm "
                f"{p['delete']}\"\nhv container commit changer {p['tag']}\n"
                f"hv image diff linux-vm:6.1 {p['tag']}\nhv image history {p['tag']}")
    ctx.command("stored once", "hv image ls; du -sb $HV_STORE/blobs")
    ctx.command("another host, through a registry (docs/images.md starts one on port 5000)",
                f"hv push {p['tag']} 127.0.0.1:5000/{p['tag']} --insecure\n"
                f"hv pull 127.0.0.1:5000/{p['tag']} --insecure --store /tmp/host-b")
    ctx.command("the same image as a container (as a VM: the lab boots it with "
                "vmimage.boot_parts)", f"hv container run --rm {p['tag']} -- cat /srv/greeting")


# ---------------------------------------------------------------------- questions
def _m(*path):
    def value(r):
        x = r["measured"]
        for key in path:
            x = x[key]
        return x
    return value


def _per_extra(which, key=None):
    """(host pages, or one part of them, with the k processes - without) / k"""
    def value(r):
        fe, k = r["measured"]["fork_exec"], r["params"]["k"]
        if key is None:
            return (fe[which]["pages"] - fe["base"]["pages"]) / k
        return (fe[which]["memory"][key] - fe["base"]["memory"][key]) / k
    return value


def _linux(which):
    def value(r):
        free, k = r["measured"]["both"]["vm"]["free_kib"], r["params"]["k"]
        return (free[0] - free[1]) / k if which == "fork" else (free[1] - free[2]) / k
    return value


QUESTIONS = (
    Question("container_pages", "Host pages of one waiting container", "pages", COUNT,
             lambda r: r["measured"]["containers"]["pages"][0], abs=0.5,
             hint="section 1: its page cache, its page tables and its process's own pages"),
    Question("container_cache_pages", "Of those, how many are its page cache?", "pages", COUNT,
             lambda r: r["measured"]["containers"]["memory"][0]["file"], abs=0.5,
             hint="section 1: the pages of BusyBox its shell and its cat touched (Cached in "
                  "its /proc/meminfo, / 4 KiB)"),
    Question("upper_bytes", "Bytes of one container's writable layer", "bytes", COUNT,
             lambda r: r["measured"]["containers"]["upper_bytes"][0], abs=0.5,
             hint="a tar: 512-byte headers and blocks, padded to 10 KiB records"),
    Question("image_trees", "How many copies of the image's files did the shared kernel hold "
             "in host memory for the N containers?", "copies", COUNT,
             _m("containers", "image_trees"), abs=0.5, predict=lambda p: 1,
             hint="section 1: read-only trees"),
    Question("fork_pages", "Host pages per forked shell in a container", "pages", COUNT,
             _per_extra("forked"), abs=0.05,
             hint="section 2: (host pages with the shells - without) / their number: the "
                  "pages written after the fork, copied, and each shell's page tables"),
    Question("exec_pages", "Host pages per exec'd cat in a container", "pages", COUNT,
             _per_extra("execed"), abs=0.05,
             hint="section 2: the program's text is in the page cache already; a cat pays "
                  "for its page tables, stack and data"),
    # the model: a root table, one leaf table for the 4 MiB the program (0x10000..) and its
    # heap are in, one for the stack's and the trampoline's (just below 2 GiB, kernel/mm.py)
    Question("exec_page_tables", "Page-table pages per exec'd cat in a container", "pages",
             COUNT, _per_extra("execed", "pagetables"), abs=0.05, predict=lambda p: 3,
             hint="section 2: Sv32 has two levels; a leaf table maps 4 MiB"),
    Question("linux_fork_kib", "KiB of the Linux VM's memory per forked shell", "KiB", COUNT,
             _linux("fork"), abs=0.5, hint="section 2: MemFree before minus after, / k"),
    Question("linux_exec_kib", "KiB of the Linux VM's memory per exec'd cat", "KiB", COUNT,
             _linux("exec"), abs=0.5, hint="section 2: the page cache shares BusyBox's text "
                                           "there too; a process costs its kernel stack"),
    Question("diff_changes", "How many changes does the diff of the committed image list?",
             "changes", COUNT, lambda r: len(r["measured"]["commit"]["diff"]), abs=0.5,
             predict=lambda p: 4, hint="section 3: added, changed, deleted"),
    Question("commit_layer_bytes", "Bytes of the committed layer in the store (compressed)",
             "bytes", COUNT, lambda r: r["measured"]["commit"]["layer"]["size"], abs=0.5,
             hint="section 3"),
    Question("saved_bytes", "How many bytes does storing each layer once save in the store?",
             "bytes", COUNT, lambda r: (r["measured"]["stored"]["sum_of_sizes"]
                                        - r["measured"]["stored"]["blob_bytes"]), abs=0.5,
             hint="section 4: the sum of the sizes minus the bytes in blobs/"),
    Question("second_push_mounted", "How many blobs did the second push mount instead of "
             "uploading?", "blobs", COUNT,
             lambda r: r["measured"]["transfer"]["pushes"][1]["mounted"], abs=0.5,
             hint="section 5 (no registry: no answer to give)"),
    Question("second_pull_downloaded", "How many blobs did the second pull download?", "blobs",
             COUNT, lambda r: r["measured"]["transfer"]["pulls"][1]["downloaded"], abs=0.5,
             hint="section 5: host B had the layer already"),
    Question("vm_over_container_pages", "Host pages of the image as a VM divided by as a "
             "container", "x", COUNT,
             lambda r: (r["measured"]["both"]["vm"]["pages"]
                        / r["measured"]["both"]["container"]["pages"]), rel=0.01,
             hint="section 6"),
)
