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
         f"**{ct['pages'][0]}** host pages ({ct['pages'][0] * PAGE_KIB:,} KiB): the frames of "
         f"its `{ct['processes'][0]}`"]])
    ctx.say(f"""
A container's pages are its processes' memory.  hvlab's shared kernel copies a program's
pages into the container's frames at `execve` (kernel/exec.py): it has no page cache, so
each container holds its own copy of BusyBox ({ct['pages'][0]} pages), while the image's
*files* are in host memory once.  A Linux host would map the same file pages into every
process that runs them (section 2 measures that inside a Linux VM).
""")
    b, f, e = fe["base"], fe["forked"], fe["execed"]
    fork_pages, exec_pages = (f["pages"] - b["pages"]) / k, (e["pages"] - b["pages"]) / k
    free = both["vm"]["free_kib"]
    lin_fork = (free[0] - free[1]) / k if len(free) == 3 else None
    lin_exec = (free[1] - free[2]) / k if len(free) == 3 else None
    ctx.say(f"""
## 2. Copy-on-write fork, and exec

In a container (`--memory 64m`): a shell waiting for input (`read x < /dev/tty`) alone; then
with {k} copies of itself waiting in the background (`read x < /dev/tty &`: {f['clone'] -
b['clone']} more forks, no exec); then instead with {k} `cat`s (`cat < /dev/tty &`:
{e['execve'] - b['execve']} more execs).  Host pages from the engine, RSS (the pages each process maps, summed)
from the shared kernel:
""")
    ctx.table(["container", "processes", "host pages", "sum of RSS", "host pages per extra process"],
              [["a waiting `sh`", b["processes"], b["pages"], b["rss"], ""],
               [f"+ {k} forked shells", f["processes"], f["pages"], f["rss"], f"**{fork_pages:.1f}**"],
               [f"+ {k} exec'd cats", e["processes"], e["pages"], e["rss"], f"**{exec_pages:.1f}**"]])
    ctx.say(f"""
A fork shares every page of the parent, read-only, and copies one only when either side
writes it (kernel/mm.py): the {k} shells map {f['rss'] - b['rss']:,} pages between them and
cost {f['pages'] - b['pages']:,}.  An exec starts from a fresh copy of the program.
""")
    if lin_fork is not None:
        ctx.say(f"""
The same inside the Linux VM of section 6 (its own counter, `MemFree` of /proc/meminfo, read
before and after each step): a forked shell costs Linux **{lin_fork:.0f} KiB**, an exec'd
`cat` **{lin_exec:.0f} KiB**, against {fork_pages * PAGE_KIB:.0f} KiB and
{exec_pages * PAGE_KIB:.0f} KiB of host memory in the container.  Linux's page cache holds
BusyBox once (the initramfs is in it already) and maps it into every process that runs it.
""")
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
    ctx.headline("host pages per extra process: forked / exec'd",
                 f"{fork_pages:.1f} / {exec_pages:.1f}", "pages", COUNT)
    ctx.headline("store: sum of image sizes / bytes in blobs/",
                 f"{st['sum_of_sizes']:,} / {st['blob_bytes']:,}", "bytes", COUNT)
    if tr["how"] == "registry":
        ctx.headline("second push: blobs uploaded / mounted",
                     f"{tr['pushes'][1]['uploaded']} / {tr['pushes'][1]['mounted']}", "", COUNT)
    ctx.headline("host pages: the image as a VM / as a container",
                 f"{v['pages']:,} / {c['pages']:,}", "pages", COUNT)
    _commands(ctx, p)


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
    b, f, e = fe["base"], fe["forked"], fe["execed"]
    vals = [b["pages"], f["pages"], e["pages"]]
    rss = [b["rss"], f["rss"], e["rss"]]
    x = range(3)
    ax.bar([i - 0.2 for i in x], rss, 0.4, color=COLOURS[3], label="sum of RSS")
    ax.bar([i + 0.2 for i in x], vals, 0.4, color=COLOURS[2], label="host pages")
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


def _per_extra(which):
    def value(r):
        fe, k = r["measured"]["fork_exec"], r["params"]["k"]
        return (fe[which]["pages"] - fe["base"]["pages"]) / k
    return value


def _linux(which):
    def value(r):
        free, k = r["measured"]["both"]["vm"]["free_kib"], r["params"]["k"]
        return (free[0] - free[1]) / k if which == "fork" else (free[1] - free[2]) / k
    return value


QUESTIONS = (
    Question("container_pages", "Host pages of one waiting container", "pages", COUNT,
             lambda r: r["measured"]["containers"]["pages"][0], abs=0.5,
             hint="section 1: its process is a whole copy of BusyBox"),
    Question("upper_bytes", "Bytes of one container's writable layer", "bytes", COUNT,
             lambda r: r["measured"]["containers"]["upper_bytes"][0], abs=0.5,
             hint="a tar: 512-byte headers and blocks, padded to 10 KiB records"),
    Question("image_trees", "How many copies of the image's files did the shared kernel hold "
             "in host memory for the N containers?", "copies", COUNT,
             _m("containers", "image_trees"), abs=0.5, predict=lambda p: 1,
             hint="section 1: read-only trees"),
    Question("fork_pages", "Host pages per forked shell in a container", "pages", COUNT,
             _per_extra("forked"), abs=0.05,
             hint="section 2: (host pages with the shells - without) / their number"),
    Question("exec_pages", "Host pages per exec'd cat in a container", "pages", COUNT,
             _per_extra("execed"), abs=0.05,
             hint="section 2: an exec loads the whole program again"),
    Question("linux_fork_kib", "KiB of the Linux VM's memory per forked shell", "KiB", COUNT,
             _linux("fork"), abs=0.5, hint="section 2: MemFree before minus after, / k"),
    Question("linux_exec_kib", "KiB of the Linux VM's memory per exec'd cat", "KiB", COUNT,
             _linux("exec"), abs=0.5, hint="section 2: the page cache shares BusyBox's text"),
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
