"""Lab 5, images and copy-on-write: a --quick run shows what is stored once and what per
container, fork against exec (the page cache), a commit and its diff, push and pull, and one image run as a
container and booted as a VM."""
import json

import pytest

from hypervisor.catalog import IMAGES_DIR
from hypervisor.labs import get, registry
from hypervisor.labs.base import Context
from hypervisor.labs.check import answer_key, check
from hypervisor.labs.commands import run_lab
from labhelp import assert_picture, quick_run

SEED = 2
pytestmark = pytest.mark.skipif(not (IMAGES_DIR / "linux.Image").is_file()
                                or not (IMAGES_DIR / "userland.tar").is_file(),
                                reason="the bundled Linux guest and userland are not installed")


@pytest.fixture(scope="module")
def lab5(tmp_path_factory):
    return quick_run(tmp_path_factory, "images", SEED)


def _busybox_pages():
    """BusyBox's pages from its ELF program headers (pyelftools, not the kernel's loader):
    the read-only pages of its PT_LOAD segments (text, rodata: what a page cache can share;
    a page that a writable segment shares is the writable one's), the writable ones (data,
    bss), and the Sv32 leaf tables an exec'd BusyBox needs: one per 4 MiB its segments are
    in, one for the stack's and the trampoline's (just below 2 GiB), and the root."""
    import io
    import tarfile
    from elftools.elf.constants import P_FLAGS
    from elftools.elf.elffile import ELFFile
    from hypervisor.kernel.mm import STACK_TOP, TRAMPOLINE
    with tarfile.open(IMAGES_DIR / "userland.tar") as t:
        elf = ELFFile(io.BytesIO(t.extractfile("bin/busybox").read()))
        ro, rw = set(), set()
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                lo, hi = seg["p_vaddr"], seg["p_vaddr"] + seg["p_memsz"]
                pages = set(range(lo >> 12, (hi + 4095) >> 12))
                (rw if seg["p_flags"] & P_FLAGS.PF_W else ro).update(pages)
    leaves = {vpn >> 10 for vpn in ro | rw} | {(STACK_TOP - 1) >> 22, TRAMPOLINE >> 22}
    return len(ro - rw), len(rw), 1 + len(leaves)


def test_n_containers_share_the_image_and_each_has_its_own_layer(lab5):
    res, _ = lab5
    ct, n = res["measured"]["containers"], res["params"]["n"]
    ro_pages, rw_pages, _ = _busybox_pages()
    assert ct["image_trees"] == 1                       # the image's files, in memory once
    assert len(set(ct["pages"])) == 1 and len(ct["pages"]) == n
    assert ct["upper_entries"] == [["root/note"]] * n   # each container: only what it wrote
    # a tar of one small file: header + one block, padded to tar's 10 KiB record
    assert ct["upper_bytes"] == [10240] * n
    # no container holds a copy of BusyBox: a quarter of its read-only pages at most
    assert ct["pages"][0] < (ro_pages + rw_pages) / 4
    mem = ct["memory"]
    # each container has its own page cache, of one frame per file page at most; its cat
    # maps part of it: the rest is what its shell touched before the exec
    assert all(m == mem[0] for m in mem) and sum(m["file"] for m in mem) == n * mem[0]["file"]
    assert ct["rss"][0] < mem[0]["file"] <= ro_pages
    assert mem[0]["file_mapped"] < ct["rss"][0]
    assert ct["busybox_bytes"] > ro_pages * 4096 * 0.9      # (the file the ELF came from)


def test_fork_shares_pages_and_exec_shares_the_program_text(lab5):
    res, _ = lab5
    fe, k = res["measured"]["fork_exec"], res["params"]["k"]
    ro_pages, _, tables = _busybox_pages()
    b, f, e = fe["base"], fe["forked"], fe["execed"]
    assert f["clone"] - b["clone"] == k and f["execve"] == b["execve"]
    assert e["execve"] - b["execve"] == k and f["processes"] == e["processes"] == k + 1
    fork, exe = (f["pages"] - b["pages"]) / k, (e["pages"] - b["pages"]) / k
    # the forked shells map a whole shell each, and share more than half of it
    assert f["rss"] > k * b["rss"] and fork < b["rss"] / 2
    # an exec'd cat costs far less than BusyBox's text (it is in the page cache once), and
    # less than half of what the cat maps (a private copy of its pages would be all of it)
    cat_rss = min(e["process_rss"])
    assert exe < ro_pages / 20 and exe < cat_rss / 2
    # what it pays: its page tables (as derived from the ELF), a stack page and a data page
    # at least
    per_exec_tables = (e["memory"]["pagetables"] - b["memory"]["pagetables"]) / k
    assert per_exec_tables == tables and exe >= tables + 2
    assert e["memory"]["file"] <= ro_pages                  # BusyBox cached once, at most
    assert fork > exe            # the forked shells write more than the exec'd cats
    # Linux (in the VM) shares BusyBox through its page cache too: an exec'd cat there
    # costs a small fraction of the program's text
    free = res["measured"]["both"]["vm"]["free_kib"]
    assert len(free) == 3 and 0 < (free[1] - free[2]) / k < ro_pages * 4 / 10


def test_commit_makes_a_layer_and_the_diff_lists_its_changes(lab5):
    res, _ = lab5
    p, cm = res["params"], res["measured"]["commit"]
    ops = {(op, path) for op, path, _ in cm["diff"]}
    assert ops == {("A", "/srv"), ("A", "/srv/greeting"), ("C", p["change"]),
                   ("D", p["delete"])}
    deleted = p["delete"].lstrip("/").rsplit("/", 1)
    assert f"{deleted[0]}/.wh.{deleted[1]}" in cm["upper_entries"]      # an OCI whiteout
    assert cm["layers"] == 3 and 0 < cm["layer"]["size"] < 1000


def test_each_layer_is_stored_once(lab5):
    res, _ = lab5
    st = res["measured"]["stored"]
    sizes = [i["size"] for i in st["images"].values()]
    assert st["sum_of_sizes"] == sum(sizes) > st["blob_bytes"]
    # busybox:1.35's layer is in all three images, linux-vm's kernel layer in two
    assert st["layer_uses"] == 6 and st["distinct_layers"] == 3
    assert st["blobs"] == st["distinct_layers"] + 3 + 3          # + 3 configs, 3 manifests
    bb = st["images"]["busybox:1.35"]["layers"][0]
    assert bb in st["shared_layers"]
    saved = st["sum_of_sizes"] - st["blob_bytes"]
    kernel = st["images"]["linux-vm:6.1"]["layers"][1]
    assert saved == 2 * bb + kernel                           # two extra uses, one extra use


def test_push_mounts_what_the_registry_has_and_pull_skips_what_the_store_has(lab5):
    res, _ = lab5
    tr = res["measured"]["transfer"]
    if tr["how"] != "registry":
        pytest.skip(tr["why"])
    first, second = tr["pushes"]
    assert (first["uploaded"], first["mounted"]) == (2, 0)      # its layer and its config
    # the kernel layer, the greeting layer, the config; the userland layer mounted
    assert (second["uploaded"], second["mounted"]) == (3, 1)
    assert tr["registry_blobs"] == 4 + 3                        # 3 layers, 2 configs, 2 manifests
    greeting, busybox = tr["pulls"]
    assert greeting["digest_same"] and busybox["digest_same"]
    assert greeting["downloaded"] == 5 and busybox["downloaded"] == 2   # config + manifest


def test_without_a_registry_the_image_travels_as_a_file(tmp_path, monkeypatch):
    from hypervisor import images
    from hypervisor.labs.images import TAG, Images
    from hypervisor.labs.progress import Progress
    lab = Images()
    a = images.open_store(tmp_path / "host-a")
    a.tag(TAG, images.open_image("busybox:1.35", a).descriptor())
    monkeypatch.setattr(registry, "which", lambda: None)
    ctx = Context(lab=lab, seed=0, quick=True, params=lab.make_params(0, True),
                  progress=Progress("t", quiet=True))
    b = lab._transfer(ctx, a, tmp_path)
    assert ctx.measured["transfer"]["how"] == "save-load"
    assert "docker-registry is not on PATH" in ctx.measured["transfer"]["why"]
    assert images.open_image(TAG, b).digest == images.open_image(TAG, a).digest


def test_one_image_as_a_container_and_as_a_vm(lab5):
    res, _ = lab5
    both, greeting = res["measured"]["both"], res["params"]["greeting"]
    c, v = both["container"], both["vm"]
    assert c["output"] == [greeting, "6.1.0-hvlab", "#1 SMP hvlab shared kernel"]
    assert v["output"][:2] == [greeting, "6.1.192"]
    assert c["outcome"] == v["outcome"] == "passed" and both["kernel_is_bundled"]
    # a container uses less host memory than a VM of the same image
    assert c["pages"] * 2 < v["pages"] and c["instructions"] * 100 < v["instructions"]


def test_plot_report_check_and_reproducible(lab5):
    res, out = lab5
    assert res["figures"] == ["images.png"]
    assert_picture(out / "images.png")
    text = (out / "report.md").read_text()
    assert "hv image diff linux-vm:6.1" in text and "hv container commit" in text
    lab = get("images")
    body = "\n".join(f"{q.id} = {v}" for q, v in
                     ((q, res["answers"][q.id]) for q in lab.questions) if v is not None)
    (out / "answers.toml").write_text(f'lab = "images"\nseed = {SEED}\n[answers]\n{body}\n')
    lines, status = check(lab, out / "answers.toml")
    answered = sum(1 for q in lab.questions if res["answers"][q.id] is not None)
    assert f"{answered} of {len(lab.questions)} right" in lines[-1], "\n".join(lines)
    wrong = body.replace(f"container_pages = {res['answers']['container_pages']}",
                         "container_pages = 1")
    (out / "wrong.toml").write_text(f'lab = "images"\nseed = {SEED}\n[answers]\n{wrong}\n')
    lines, status = check(lab, out / "wrong.toml")
    assert status == 1 and "MISS  container_pages" in "\n".join(lines)
    key = "\n".join(answer_key(lab, res["params"], res["answers"]))
    assert "DISAGREES" not in key and key.count("the model agrees") == 3
    again, _ = run_lab(lab, seed=SEED, quick=True, out=None, timed=False, quiet=True)
    counts = {k: v for k, v in res["measured"].items() if res["kinds"][k] == "count"}
    assert {k: again["measured"][k] for k in counts} == counts
    assert json.loads(json.dumps(again["params"])) == res["params"]


@pytest.mark.slow
def test_full_run_under_two_minutes(tmp_path):
    res, _ = run_lab(get(5), seed=3, quick=False, out=tmp_path, quiet=True)
    assert res["seconds"] < 120
