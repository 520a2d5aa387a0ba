"""Lab 4, scheduling: a --quick run shows what the lab teaches.

This lab measures host time on a machine other programs share, so its assertions are either
counts (a VM waiting in wfi runs no instruction at all) or invariants of the scheduler that
hold however loaded the machine is (a capped VM never gets more than its token bucket holds),
plus shares with tolerances wide enough for a busy 2-core machine."""
import pytest

from hypervisor.cli import main
from hypervisor.labs import get
from hypervisor.labs.check import check
from hypervisor.labs.commands import run_lab
from hypervisor.scheduler import CAP_BURST, SLICE_SECONDS
from labhelp import assert_picture, quick_run

SEED = 2


@pytest.fixture(scope="module")
def lab4(tmp_path_factory):
    return quick_run(tmp_path_factory, "scheduling", SEED)


def test_the_capped_vm_stays_under_its_cap(lab4):
    res, _ = lab4
    c = res["measured"]["cap"]
    capped = c["host_seconds"][0]
    # the bucket refills at cap x wall time and holds CAP_BURST at most; a slice may overrun
    # the bucket by one slice (and one kernel call) before the VM is taken off the core
    bound = c["cap_percent"] / 100 * c["elapsed"] + CAP_BURST + 3 * SLICE_SECONDS
    assert capped <= bound, (capped, bound)
    assert c["usage_percent"][0] < c["cap_percent"] + 100 * (CAP_BURST + 0.02) / c["elapsed"]


def test_shares_follow_the_weights(lab4):
    res, _ = lab4
    s = res["measured"]["shares"]
    ws, shares = s["weights"], s["shares"]
    assert abs(sum(shares) - 1) < 1e-9
    expected = [w / sum(ws) for w in ws]
    heavy, light = ws.index(max(ws)), ws.index(min(ws))
    assert shares[heavy] > shares[light]
    assert abs(shares[heavy] - expected[heavy]) < 0.12, (shares, expected)


def test_a_noisy_neighbour_and_its_cures(lab4):
    res, _ = lab4
    n = res["params"]["noisy"]["noisy"]
    out = res["measured"]["noisy"]
    assert out["alone"]["share"] == 1.0
    noisy = out["beside the noisy"]["share"]
    assert noisy < 1 / (n + 1) + 0.12
    weighted = next(v for k, v in out.items() if k.startswith("victim weight"))["share"]
    capped = next(v for k, v in out.items() if k.startswith("noisy capped"))["share"]
    assert weighted > noisy and capped > noisy


def test_idle_vms_cost_nothing(lab4):
    res, _ = lab4
    m = res["measured"]
    assert m["sleepers_idle_instructions"] == 0          # a count: not runnable at all
    assert res["kinds"]["sleepers_idle_instructions"] == "count"
    idle = m["idle"]
    # host time charged to the sleepers (a time: on a loaded machine a wake-up check can
    # land in their slice; 1.08 % was seen once at load 2.6): far below one busy VM's share
    assert idle["sleepers_cpu_percent"] < 5.0
    nw = res["params"]["idle"]["workers"]
    # every worker slept in wfi at least once; the spinner never did
    assert all(x >= 1 for x in idle["wfi_exits"][1:1 + nw]) and idle["wfi_exits"][0] == 0


def test_plots(lab4):
    res, out = lab4
    assert set(res["figures"]) == {"fairness.png", "cap.png"}
    for fig in res["figures"]:
        assert_picture(out / fig)


def test_check_and_answers(lab4, capsys):
    res, out = lab4
    lab = get("scheduling")
    sig = lambda x: float(f"{x:.3g}")
    answers = {q.id: sig(res["answers"][q.id]) for q in lab.questions if q.kind == "time"}
    answers["sleepers_idle_instructions"] = 0
    body = "\n".join(f"{k} = {v}" for k, v in answers.items())
    (out / "answers.toml").write_text(f'lab = "scheduling"\nseed = {SEED}\n[answers]\n{body}\n')
    lines, status = check(lab, out / "answers.toml")
    assert status == 0, "\n".join(lines)
    answers["cap_use_percent"] = answers["cap_use_percent"] / 100      # a fraction, not %
    body = "\n".join(f"{k} = {v}" for k, v in answers.items())
    (out / "wrong.toml").write_text(f'lab = "scheduling"\n[answers]\n{body}\n')
    assert main(["lab", "check", "scheduling", str(out / "wrong.toml")]) == 1
    text = capsys.readouterr().out
    assert "MISS  cap_use_percent" in text and "factor of 10^-2" in text
    assert main(["lab", "answers", "4", "--seed", str(SEED), "--quick"]) == 0
    text = capsys.readouterr().out
    ws = res["params"]["shares"]["weights"]
    assert f"ideal {max(ws) / sum(ws):.4g} fraction" in text


@pytest.mark.slow
def test_full_run_under_two_minutes(tmp_path):
    res, _ = run_lab(get(4), seed=3, quick=False, out=tmp_path, quiet=True)
    assert res["seconds"] < 120
