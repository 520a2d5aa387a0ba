"""Lab 3, isolation (part 1): the same workload as processes in one Linux VM, as Linux VMs and
as containers on the shared kernel; a --quick run shows what the lab teaches."""
import pytest

from hypervisor.catalog import IMAGES_DIR
from hypervisor.labs import get
from hypervisor.labs.check import check
from hypervisor.labs.commands import run_lab
from labhelp import assert_picture, quick_run

SEED = 4
pytestmark = pytest.mark.skipif(not (IMAGES_DIR / "linux.Image").is_file()
                                or not (IMAGES_DIR / "userland.tar").is_file(),
                                reason="the bundled Linux guest and userland are not installed")


@pytest.fixture(scope="module")
def lab3(tmp_path_factory):
    return quick_run(tmp_path_factory, "isolation", SEED)


def _primes_by_trial(m):
    return sum(all(k % d for d in range(2, int(k ** 0.5) + 1)) for k in range(2, m + 1))


def test_every_instance_computed_the_right_answer(lab3):
    res, _ = lab3
    n, m = res["params"]["n"], res["params"]["limit"]
    assert res["measured"]["primes"] == _primes_by_trial(m)
    ways = res["measured"]["ways"]
    assert ways["processes"]["outcomes"] == ["passed"]
    assert ways["vms"]["outcomes"] == ways["containers"]["outcomes"] == ["passed"] * n


def test_a_container_costs_less_than_a_vm(lab3):
    res, _ = lab3
    n = res["params"]["n"]
    w = {k: {f: v[f] / v["instances"] for f in ("pages", "instructions")}
         for k, v in res["measured"]["ways"].items()}
    # host memory: a VM carries its own kernel; processes share one; a container shares hvlab's
    assert w["containers"]["pages"] * 10 < w["processes"]["pages"] < w["vms"]["pages"]
    # the workload is the same; what differs is the kernel booted around it
    assert w["containers"]["instructions"] * 10 < w["vms"]["instructions"]
    vm_total = res["measured"]["ways"]["vms"]["instructions"]
    procs_total = res["measured"]["ways"]["processes"]["instructions"]
    assert procs_total < vm_total                    # one boot instead of n
    assert n >= 2
    # the hypervisor sees a container's system calls, not a VM's
    assert res["measured"]["ways"]["containers"]["syscalls"] >= n
    assert res["measured"]["ways"]["vms"]["syscalls"] is None


def test_plot_and_report(lab3):
    res, out = lab3
    assert res["figures"] == ["isolation.png"]
    assert_picture(out / "isolation.png")
    text = (out / "report.md").read_text()
    assert "hv run linux-batch -n" in text and "hv container run" in text


def test_check_and_reproducible_counts(lab3):
    res, out = lab3
    lab = get("isolation")
    ways = res["measured"]["ways"]
    per = lambda k, f: ways[k][f] / ways[k]["instances"]
    sig = lambda x: float(f"{x:.3g}")
    answers = {"pages_per_container": per("containers", "pages"),
               "pages_per_vm": per("vms", "pages"),
               "pages_per_process": per("processes", "pages"),
               "vm_extra_instructions": per("vms", "instructions")
               - per("containers", "instructions"),
               "container_syscalls": per("containers", "syscalls"),
               "host_cpu_vm_over_container": sig(res["answers"]["host_cpu_vm_over_container"])}
    body = "\n".join(f"{k} = {v}" for k, v in answers.items())
    (out / "answers.toml").write_text(f'lab = "isolation"\nseed = {SEED}\n[answers]\n{body}\n')
    lines, status = check(lab, out / "answers.toml")
    assert status == 0, "\n".join(lines)
    again, _ = run_lab(lab, seed=SEED, quick=True, out=None, timed=False, quiet=True)
    assert again["measured"]["ways"] == res["measured"]["ways"]


@pytest.mark.slow
def test_full_run_under_two_minutes(tmp_path):
    res, _ = run_lab(get(3), seed=3, quick=False, out=tmp_path, quiet=True)
    assert res["seconds"] < 120
