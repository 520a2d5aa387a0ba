"""Lab 2, memory: the walk checked against page tables written by hand, and a --quick run whose
numbers show what the lab teaches."""
import numpy as np
import pytest

from hypervisor.cli import main
from hypervisor.engine import Engine
from hypervisor.labs import get
from hypervisor.labs.check import check
from hypervisor.labs.commands import run_lab
from hypervisor.labs.walk import stage1, stage2, translate
from hypervisor.memory import PAGE_SIZE
from guestbuild import SHUTDOWN, build
from labhelp import assert_picture, quick_run

SEED = 5
RAM = 0x8000_0000


# ---------------------------------------------------------------------- the walk, by hand
@pytest.fixture
def vm():
    eng = Engine(host_mem=8 << 20)
    v = eng.create(build("li a1, 0\n" + SHUTDOWN), name="tables", mem=8 << 20)
    yield v
    eng.shutdown()


def _word(vm, gpa, value):
    assert vm.write_guest(gpa, value.to_bytes(4, "little"))


def test_walk_of_a_4k_page_by_hand(vm):
    # VA 0x12345678: VPN[1] = 0x048, VPN[0] = 0x345, offset 0x678 (0x12345678 >> 22 = 0x48)
    # root table at 0x80010000: PTE at 0x80010000 + 4 x 0x48 = 0x80010120 -> table 0x80011000
    # (PPN 0x80011 << 10 | V = 0x20004401); leaf at 0x80011000 + 4 x 0x345 = 0x80011d14 ->
    # page 0x80020000 (PPN 0x80020 << 10 | D A W R V = 0x200080c7)
    _word(vm, 0x80010120, 0x20004401)
    _word(vm, 0x80011D14, 0x200080C7)
    assert vm.write_guest(0x80020678, b"\xde\xad\xbe\xef")
    satp = 0x8000_0000 | 0x80010                  # MODE Sv32, root PPN
    w = translate(vm, 0x12345678, satp)
    assert w.fault == "" and w.ptes_read == 2 and not w.megapage
    assert w.gpa == 0x80020678
    assert w.guest_page == 0x20
    host_page = int(vm.gmap[0x20])
    assert w.host_page == host_page and w.host_offset == host_page * PAGE_SIZE + 0x678
    assert vm.engine.memory.owner[host_page] == vm.id == w.owner
    ram = vm.engine.memory.ram
    assert bytes(ram[w.host_offset:w.host_offset + 4]) == b"\xde\xad\xbe\xef"
    text = w.text()
    for s in ("0x80010120", "0x20004401", "0x80011d14", "0x200080c7", "0x80020678"):
        assert s in text, s


def test_walk_of_a_megapage_and_the_faults(vm):
    read = {}
    r = read.get
    # a megapage: root[0x201] -> 0x80400000 (PPN 0x80400 << 10 | X W R V = 0x2010000f)
    read[0x80010000 + 4 * 0x201] = 0x2010000F
    w = stage1(r, 0x80080010, 0x80412344)
    assert w.megapage and w.ptes_read == 1 and w.gpa == 0x80412344
    # misaligned megapage: PPN[0] = 1
    read[0x80010000 + 4 * 0x202] = 0x2010040F
    assert "misaligned" in stage1(r, 0x80080010, 0x80800000).fault
    # invalid PTE, and W without R (reserved)
    read[0x80010000 + 4 * 0x203] = 0x2010000E
    assert "not valid" in stage1(r, 0x80080010, 0x80C00000).fault
    read[0x80010000 + 4 * 0x204] = 0x20100005
    assert "W without R" in stage1(r, 0x80080010, 0x81000000).fault
    # a root table outside RAM: reading the PTE is an access fault
    w = stage1(lambda gpa: None, 0x80000000 | 0x90000, 0x1000)
    assert "outside RAM" in w.fault and w.gpa is None
    # a pointer at level 0 is a page fault
    read[0x80010000 + 4 * 0x005] = 0x20004401                   # -> table 0x80011000
    read[0x80011000 + 4 * 0x000] = 0x20004801                   # a pointer again
    assert "last level" in stage1(r, 0x80080010, 0x01400000).fault
    # paging off: guest-physical = virtual
    assert stage1(r, 0, 0x80001234).gpa == 0x80001234


def test_stage2_of_an_unbacked_page_and_outside_ram(vm):
    from hypervisor.labs.walk import Walk
    w = Walk(0, gpa=RAM + 0x300000)
    stage2(vm, w)
    assert vm.gmap[0x300] < 0 and "demand" in w.fault and w.host_offset is None
    w = Walk(0, gpa=0x10000000)
    stage2(vm, w)
    assert "not RAM" in w.fault


# ---------------------------------------------------------------------- the quick run
@pytest.fixture(scope="module")
def lab2(tmp_path_factory):
    return quick_run(tmp_path_factory, "memory", SEED)


def test_walk_lands_on_the_markers(lab2):
    res, _ = lab2
    p = res["params"]["walk"]
    for w, (va, gpa, _marker) in zip(res["measured"]["walk"], p["maps"]):
        assert w["va"] == va and w["gpa"] == gpa | (va & 0xFFF)
        assert w["ptes_read"] == 2 and not w["megapage"]
        assert w["host_offset"] % PAGE_SIZE == va & 0xFFF
    code = res["measured"]["walk"][2]
    assert code["megapage"] and code["ptes_read"] == 1 and code["gpa"] == code["va"]


def test_demand_allocation_and_prealloc(lab2):
    res, _ = lab2
    p, d = res["params"]["hog"], res["measured"]["demand"]
    touched = p["size"] // PAGE_SIZE
    dem, pre = d["demand"], d["prealloc"]
    assert pre["boot_pages"] == pre["peak_pages"] == p["mem"] // PAGE_SIZE
    assert pre["gstage_exits"] == 0
    # every page first touched by the guest is one G-stage exit; the boot pages were loaded
    assert dem["gstage_exits"] == dem["peak_pages"] - dem["boot_pages"]
    from hypervisor.catalog import resolve_image
    image = resolve_image("memhog", p["mem"])            # the ELF's segments, read here
    whole = sum(-(-s.memsz // PAGE_SIZE) + 1 for s in image.segments)
    assert touched <= dem["peak_pages"] <= touched + whole + 1      # + the device tree
    assert dem["boot_pages"] <= whole + 1
    pages = [n for _, n in dem["pages_over_time"]]
    peak = pages.index(max(pages))
    assert pages[:peak + 1] == sorted(pages[:peak + 1])     # grows with every first touch
    assert dem["instructions"] == pre["instructions"]     # the same guest, the same work


def test_overcommit_stops_exactly_one_vm_and_every_page_returns(lab2):
    res, _ = lab2
    p, o = res["params"]["oom"], res["measured"]["overcommit"]
    assert 3 * p["mem"] > p["host_mem"]                       # overcommitted
    assert len(o["victims"]) == 1
    victim = o["victims"][0]
    assert victim.startswith("hog-")
    assert o["outcomes"][victim].startswith("crashed: out of memory")
    other = "hog-b" if victim == "hog-a" else "hog-a"
    assert o["outcomes"][other] == "passed"
    assert o["bystander_running_at_end"] and o["bystander_instructions"] > 0
    assert o["free_after"] == o["host_pages"] - 1 == p["host_mem"] // PAGE_SIZE - 1
    assert o["owners_after"] == [-2, -1]                       # the monitor's page and free
    f = o["fullest"]
    assert f["maps_agree_with_owners"]
    assert sum(f["held"].values()) + f["free"] + f["monitor"] == o["host_pages"]


def test_rogue_attempts_all_contained(lab2):
    res, out = lab2
    r = res["measured"]["rogue"]
    assert len(r["attempts"]) == 100 and [a["n"] for a in r["attempts"]] == list(range(1, 101))
    assert r["outcomes"] == {"rogue": "passed", "victim": "passed"}
    assert r["contained"] + r["allowed"] == 100 and r["allowed"] == 5
    assert all(a["scause"] == -1 for a in r["attempts"] if a["verdict"].startswith("ok"))
    assert (out / "rogue-console.txt").read_text().count("contained") >= 95


def test_plots(lab2):
    res, out = lab2
    assert set(res["figures"]) == {"pages.png", "partition.png", "overcommit.png"}
    for fig in res["figures"]:
        assert_picture(out / fig)


def test_every_result_is_a_count_and_reproducible(lab2):
    res, _ = lab2
    again, _ = run_lab(get("memory"), seed=SEED, quick=True, out=None, quiet=True)
    for key, kind in res["kinds"].items():
        if kind == "count":
            assert again["measured"][key] == res["measured"][key], key
    assert [k for k, v in res["kinds"].items() if v == "time"] == ["demand_time"]
    other = get("memory").make_params(SEED + 1, True)
    assert other["walk"] != res["params"]["walk"]


def test_answers_and_check(lab2, capsys):
    res, out = lab2
    lab = get("memory")
    for q in lab.questions:
        if q.predict is not None:
            assert q.predict(res["params"]) == res["answers"][q.id], q.id
    # hand-derived where possible, the rest read off the report's tables
    w2 = res["measured"]["walk"][1]
    va2, gpa2, _ = res["params"]["walk"]["maps"][1]
    hog = res["params"]["hog"]
    answers = {"walk_va2_gpa": hex(gpa2 | (va2 & 0xFFF)),
               "walk_va2_host_offset": hex(w2["host_offset"]), "walk_megapage_ptes": 1,
               "demand_peak_pages": res["measured"]["demand"]["demand"]["peak_pages"],
               "demand_gstage_exits": res["measured"]["demand"]["demand"]["gstage_exits"],
               "prealloc_gstage_exits": 0, "oom_victims": 1,
               "oom_victim_pages": sum(res["measured"]["overcommit"]["victim_pages"].values()),
               "free_after": res["params"]["oom"]["host_mem"] // PAGE_SIZE - 1,
               "rogue_contained": 95}
    for i, n in enumerate(res["params"]["rogue"]["ask"]):
        answers[f"rogue_attempt_{i + 1}"] = next(a["scause"] for a in res["measured"]["rogue"]
                                                 ["attempts"] if a["n"] == n)
    assert hog["size"] // PAGE_SIZE <= answers["demand_peak_pages"]
    body = "\n".join(f"{k} = {v}" for k, v in answers.items())
    (out / "answers.toml").write_text(f'lab = "memory"\nseed = {SEED}\n[answers]\n{body}\n')
    lines, status = check(lab, out / "answers.toml")
    assert status == 0, "\n".join(lines)
    assert main(["lab", "answers", "memory", "--seed", str(SEED), "--quick"]) == 0
    text = capsys.readouterr().out
    assert "DISAGREES" not in text
    assert f"{gpa2 | (va2 & 0xFFF):#x} address" in text


@pytest.mark.slow
def test_full_run_under_two_minutes(tmp_path):
    res, _ = run_lab(get(2), seed=3, quick=False, out=tmp_path, quiet=True)
    assert res["seconds"] < 120
    assert len(res["measured"]["overcommit"]["victims"]) == 1
