"""Lab 1, trap-and-emulate: a --quick run shows what the lab teaches, in its measured numbers.

The expected counts are derived by hand from the generated guests (programs.py): a line of L
bytes through the UART is L stores, each an MMIO exit the monitor emulates in Python; the trap
handler is csrr, addi, csrw, sret; with --trap-via-monitor each exception returns to Python.
Which SBI calls the hart answers without Python (sbi_fast.py) is the hart's business: the tests
only bound those."""
import re

import pytest

from hypervisor.labs import get
from hypervisor.labs.check import check
from hypervisor.labs.commands import run_lab
from hypervisor.cli import main
from labhelp import assert_picture, quick_run

SEED = 11


@pytest.fixture(scope="module")
def lab1(tmp_path_factory):
    return quick_run(tmp_path_factory, "trap-and-emulate", SEED)


def test_exits_per_action_match_the_guests(lab1):
    res, _ = lab1
    p, per = res["params"], res["measured"]["exits_per_action"]
    length = len(p["line"])
    assert p["line_length"] == length and p["line"].endswith("\n")
    assert per["csr"] == {"csr_read": 1}
    assert per["sbi"] == {"sbi": 1}
    # the emulated UART: one MMIO exit per byte; legacy putchar: one ecall per byte; DBCN: one
    assert per["uart"] == {"mmio": length}
    assert per["putchar"] == {"sbi": length}
    assert per["dbcn"] == {"sbi": 1}
    # ebreak + the handler's csrr sepc, csrw sepc, sret: all in the hart with delegation on
    assert per["trap"] == {"exc_delegated": 1, "csr_read": 1, "csr_write": 1, "sret": 1}
    assert per["trap-via-monitor"] == {"exc_monitor": 1, "csr_read": 1, "csr_write": 1,
                                       "sret": 1}
    # returns to Python: the UART is emulated in Python, an exception routed through the
    # monitor goes there, CSRs and delegated traps never do; and a return is always an exit
    back = res["measured"]["python_returns_per_action"]
    assert back["uart"] == {"gstage": length}
    assert back["trap-via-monitor"] == {"trap": 1}
    assert back["csr"] == {} and back["trap"] == {}
    for k, b in back.items():
        assert sum(b.values()) <= sum(per[k].values()), k


def test_delegation_off_multiplies_the_returns_to_python(lab1):
    res, _ = lab1
    tour = dict(res["params"]["tour"])
    L = res["params"]["line_length"]
    back = res["measured"]["tour_python_returns"]
    on, off = sum(back["delegated"].values()), sum(back["via_monitor"].values())
    # at least every UART byte (emulated in Python) and the final system_reset; at most every
    # SBI call and UART byte
    assert tour["uart"] * L + 1 <= on <= tour["sbi"] + (tour["uart"] + tour["putchar"]) * L \
        + tour["dbcn"] + 1
    assert back["delegated"]["gstage"] == back["via_monitor"]["gstage"] == tour["uart"] * L
    assert back["via_monitor"]["trap"] == tour["trap"] and "trap" not in back["delegated"]
    assert off - on >= tour["trap"]
    assert off / on > 1.2
    ex = res["measured"]["tour_exits"]
    assert sum(ex["delegated"].values()) == sum(ex["via_monitor"].values())
    assert ex["delegated"]["exc_delegated"] == tour["trap"] == ex["via_monitor"]["exc_monitor"]
    assert ex["via_monitor"]["exc_delegated"] == 0
    # the same instructions either way: virtual time cannot tell delegation on from off
    on, off = res["measured"]["timeline_guest"], res["measured"]["timeline_guest_via_monitor"]
    assert on["guest_us"] == off["guest_us"]


def test_host_costs_order_as_the_lab_says(lab1):
    """Time-based, so only the order of magnitude the lab is about: Python is far slower than
    the compiled hart (CPU time of the stepping thread, which other load does not inflate)."""
    cost = lab1[0]["measured"]["host_us_per_action"]
    assert cost["sbi"] > 3 * cost["csr"]
    assert cost["trap-via-monitor"] > 2 * cost["trap"]
    assert cost["uart"] > 5 * cost["dbcn"]
    assert lab1[0]["kinds"]["host_us_per_action"] == "time"
    assert lab1[0]["kinds"]["exits_per_action"] == "count"


def test_files_plots_and_guests(lab1):
    res, out = lab1
    for name in ("report.md", "results.json", "answers-template.toml", "guests/tour.s",
                 "guests/uart.s", "guests/uart-baseline.s"):
        assert (out / name).exists(), name
    for fig in ("costs.png", "timeline.png"):
        assert fig in res["figures"]
        assert_picture(out / fig)
        assert f"]({fig})" in (out / "report.md").read_text()
    assert set(res["host"]) >= {"cpu", "cores", "python", "numba", "hvlab"}
    report = (out / "report.md").read_text()
    assert "hv run guests/tour.s --stats --trap-via-monitor" in report


def test_a_generated_guest_runs_by_hand(lab1, capsys):
    """The report's commands work: hv run on the written .s file, the same exits."""
    res, out = lab1
    status = main(["run", str(out / "guests" / "dbcn.s"), "--mem", "8M", "--stats"])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.count(res["params"]["line"].rstrip()) == res["params"]["micro"]["dbcn"]


def _correct_answers(res):
    """Count answers derived by hand, time answers read off the report at 3 significant
    digits, as a student would."""
    p, cost = res["params"], res["measured"]["host_us_per_action"]
    back = res["measured"]["tour_python_returns"]           # read off table 3
    L = len(p["line"])
    sig = lambda x: float(f"{x:.3g}")
    return {
        "uart_exits_per_line": L, "uart_python_returns_per_line": L, "dbcn_exits_per_line": 1,
        "trap_exits_delegated": 4, "trap_python_returns_via_monitor": 1,
        "tour_python_returns_delegated": sum(back["delegated"].values()),
        "tour_python_returns_added": sum(back["via_monitor"].values())
        - sum(back["delegated"].values()),
        "csr_cost_us": sig(cost["csr"]), "sbi_cost_us": sig(cost["sbi"]),
        "sbi_over_csr": sig(cost["sbi"] / cost["csr"]),
        "uart_over_dbcn": sig(cost["uart"] / cost["dbcn"]),
        "trap_via_monitor_over_delegated": sig(cost["trap-via-monitor"] / cost["trap"]),
    }


def _toml(answers, seed=SEED):
    body = "\n".join(f"{k} = {v}" for k, v in answers.items())
    return f'lab = "trap-and-emulate"\nseed = {seed}\n[answers]\n{body}\n'


def test_check_accepts_correct_answers(lab1):
    res, out = lab1
    (out / "answers.toml").write_text(_toml(_correct_answers(res)))
    lines, status = check(get("trap-and-emulate"), out / "answers.toml")
    assert status == 0, "\n".join(lines)
    assert lines[-1].startswith("12 of 12 right")


def test_check_explains_wrong_answers(lab1, capsys):
    res, out = lab1
    answers = _correct_answers(res)
    answers["uart_exits_per_line"] = 1                              # per byte, not per line
    answers["sbi_cost_us"] = answers["sbi_cost_us"] / 1000          # milliseconds
    answers["sbi_over_csr"] = 1 / answers["sbi_over_csr"]           # upside down
    answers["csr_cost_us"] = "nan"
    (out / "wrong.toml").write_text(_toml(answers))
    status = main(["lab", "check", "trap-and-emulate", str(out / "wrong.toml")])
    text = capsys.readouterr().out
    assert status == 1
    assert re.search(rf"MISS\s+uart_exits_per_line = 1: your run measured {len(res['params']['line'])}",
                     text)
    assert "hint: every store to a device register" in text
    assert "factor of 10^-3" in text
    assert "upside down" in text
    assert "csr_cost_us: not answered" in text
    assert "8 of 12 right, 3 wrong, 1 not answered" in text


def test_check_refuses_another_seed(lab1, capsys):
    res, out = lab1
    (out / "seed.toml").write_text(_toml(_correct_answers(res), seed=SEED + 1))
    status = main(["lab", "check", "1", str(out / "seed.toml")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"seed {SEED + 1}" in err and f"seed {SEED}" in err


def test_answers_agree_with_a_run_of_the_same_seed(lab1, capsys):
    """hv lab answers: its counts come from an untimed run and its models from the seed alone;
    both must equal what the timed run of the same seed measured."""
    res, _ = lab1
    lab = get("trap-and-emulate")
    assert main(["lab", "answers", "trap-and-emulate", "--seed", str(SEED), "--quick"]) == 0
    text = capsys.readouterr().out
    assert "DISAGREES" not in text
    for q in lab.questions:
        if q.kind != "count":
            continue
        line = next(l for l in text.splitlines() if l.startswith(q.id + " "))
        assert f" {res['answers'][q.id]:g} {q.unit}" in line.replace(",", ""), line
        if q.predict is not None:
            assert q.predict(res["params"]) == res["answers"][q.id], q.id
            assert "the model agrees" in line


def test_counts_are_reproducible_and_seeds_differ(lab1):
    res, _ = lab1
    again, _ = run_lab(get(1), seed=SEED, quick=True, out=None, timed=False, quiet=True)
    for key in ("exits_per_action", "python_returns_per_action", "tour_exits",
                "tour_python_returns", "timeline_guest"):
        assert again["measured"][key] == res["measured"][key], key
    other = get(1).make_params(SEED + 1, True)
    assert other["line"] != res["params"]["line"] or other["tour"] != res["params"]["tour"]


@pytest.mark.slow
def test_full_run_under_two_minutes(tmp_path):
    res, _ = run_lab(get(1), seed=3, quick=False, out=tmp_path, quiet=True)
    assert res["seconds"] < 120
