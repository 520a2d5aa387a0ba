"""hv lab's shared parts: the list, finding a lab, bad command lines, a missing matplotlib,
answers files that are wrong in every way a student can make them wrong."""
import json
import sys
import tomllib

import pytest

from hypervisor.cli import main
from hypervisor.labs import ENTRIES, Entry, LabError, find, get
from hypervisor.labs.base import Context
from hypervisor.labs.check import check
from hypervisor.labs.report import template


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_list_shows_every_lab_and_what_the_missing_ones_need(capsys):
    status, out, _ = run(capsys, "lab", "list")
    assert status == 0
    lines = out.splitlines()
    assert [l.split()[1] for l in lines] == ["trap-and-emulate", "memory", "isolation",
                                             "scheduling", "images"]
    for e in ENTRIES:
        line = lines[e.number - 1]
        assert ("not available yet" in line) == (e.load() is None), line
    assert get("trap-and-emulate") and get("memory") and get("scheduling")


def test_find_by_number_name_slug_and_prefix():
    assert find("1").name == find("01").name == find("trap").name == "trap-and-emulate"
    assert find("02-memory").name == find("MEMORY").name == "memory"
    with pytest.raises(LabError, match="no lab named"):
        find("nosuch")


def test_a_lab_whose_module_is_not_there_yet():
    e = Entry(9, "future", "hypervisor.labs.no_such_module:Future", "later", "a stream")
    assert e.load() is None and e.missing == "not available yet: it needs a stream"
    with pytest.raises(ModuleNotFoundError):    # a real import error inside a lab still shows
        Entry(9, "broken", "no_such_package.module:X", "", "").load()


@pytest.mark.parametrize("argv, words", [
    (["lab", "run", "nosuch"], "no lab named 'nosuch'"),
    (["lab", "answers", "nosuch"], "no lab named 'nosuch'"),
    (["lab", "run", "1", "--seed", "x"], "invalid int value"),
    (["lab", "check", "memory"], "required"),
    (["lab"], ""),
])
def test_bad_command_lines(capsys, argv, words):
    try:
        status, _, err = run(capsys, *argv)
    except SystemExit as exc:               # argparse's own errors exit from inside main
        status, err = exc.code, capsys.readouterr().err
    assert status == 2
    assert words in err
    assert "Traceback" not in err


def test_missing_matplotlib_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib fails
    status, _, err = run(capsys, "lab", "run", "1", "--quick", "--out", tmp_path / "x")
    assert status == 1
    assert err.strip().count("\n") == 0
    assert "pip install 'hvlab[labs]'" in err
    assert not (tmp_path / "x").exists()


def _results(tmp_path, lab, seed=1, measured=None):
    ctx = Context(lab=lab, seed=seed, quick=True, params=lab.make_params(seed, True))
    res = {"lab": lab.name, "seed": seed, "quick": True, "params": ctx.params,
           "measured": measured or {}, "kinds": {}}
    (tmp_path / "results.json").write_text(json.dumps(res))
    return res


def test_check_reports_every_kind_of_bad_answer(capsys, tmp_path):
    lab = get("trap-and-emulate")
    line = lab.make_params(1, True)["line"]
    _results(tmp_path, lab, measured={"exits_per_action": {"uart": {"mmio": len(line)},
                                                           "dbcn": {"sbi": 1}}})
    (tmp_path / "a.toml").write_text('lab = "trap-and-emulate"\nseed = 1\n[answers]\n'
                                     'uart_exits_per_line = "many"\ndbcn_exits_per_line = 1\n'
                                     'not_a_question = 3\ncsr_cost_us = 0.1\n')
    lines, status = check(lab, tmp_path / "a.toml")
    text = "\n".join(lines)
    assert status == 1
    assert "MISS  uart_exits_per_line = 'many': an answer is a number" in text
    assert "ok    dbcn_exits_per_line = 1" in text
    assert "??    not_a_question: not a question of this lab" in text
    assert "has no measurement for it" in text          # time answers of a results without them


@pytest.mark.parametrize("content, words", [
    ("lab = \n", "not valid TOML"),
    ('lab = "memory"\n[answers]\nx = 1\n', "is for lab 'memory'"),
    ("answers = 3\n", "must be a table"),
])
def test_check_rejects_bad_files_in_one_line(capsys, tmp_path, content, words):
    _results(tmp_path, get(1))
    (tmp_path / "a.toml").write_text(content)
    status, _, err = run(capsys, "lab", "check", "1", tmp_path / "a.toml")
    assert status == 2 and words in err and len(err.strip().splitlines()) == 1


def test_check_without_results(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.toml").write_text("[answers]\n")
    status, _, err = run(capsys, "lab", "check", "memory", tmp_path / "sub" / "a.toml")
    assert status == 2 and "run `hv lab run memory` first" in err
    status, _, err = run(capsys, "lab", "check", "memory", tmp_path / "sub" / "a.toml",
                         "--results", tmp_path / "none.json")
    assert status == 2 and "no such file" in err


def test_the_answers_template_is_toml_with_every_question():
    for name in ("trap-and-emulate", "memory", "scheduling"):
        lab = get(name)
        ctx = Context(lab=lab, seed=4, quick=False, params=lab.make_params(4, False))
        data = tomllib.loads(template(ctx))
        assert data["lab"] == name and data["seed"] == 4
        assert set(data["answers"]) == {q.id for q in lab.questions}
        assert all(v != v for v in data["answers"].values())        # nan: not answered yet


def test_seeds_change_the_workload():
    for name in ("trap-and-emulate", "memory", "scheduling"):
        lab = get(name)
        params = [json.dumps(lab.make_params(s, False), sort_keys=True) for s in range(6)]
        assert len(set(params)) == 6, name
        assert lab.make_params(3, False) == lab.make_params(3, False)


def test_each_lab_has_its_page_with_every_question():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    index = (root / "docs" / "labs" / "README.md").read_text()
    for e in ENTRIES:
        lab = e.load()
        if lab is None:
            continue
        page = root / lab.doc
        assert page.exists(), lab.doc
        text = page.read_text()
        assert f"hv lab run {lab.name}" in text
        for q in lab.questions:
            assert f"`{q.id}" in text, f"{lab.doc} does not ask {q.id}"
        assert f"]({page.name})" in index, f"docs/labs/README.md does not link {page.name}"


def test_answers_for_a_students_results(capsys, tmp_path):
    lab = get("scheduling")
    p = lab.make_params(8, True)
    ws = p["shares"]["weights"]
    measured = {"shares": {"weights": ws, "shares": [0.2, 0.3, 0.5]}}
    res = {"lab": "scheduling", "seed": 8, "quick": True, "params": p, "measured": measured}
    (tmp_path / "results.json").write_text(json.dumps(res))
    status, out, _ = run(capsys, "lab", "answers", "scheduling", "--results",
                         tmp_path / "results.json")
    assert status == 0
    line = next(l for l in out.splitlines() if l.startswith("share_heaviest"))
    heavy = [0.2, 0.3, 0.5][ws.index(max(ws))]
    assert f"{heavy:g} fraction (their run)" in line
    assert f"ideal {max(ws) / sum(ws):.4g}" in line
    assert "not in their results" in next(l for l in out.splitlines()
                                          if l.startswith("cap_use_percent"))


def test_a_closed_pipe_ends_quietly(monkeypatch):
    import io

    class Closed(io.TextIOBase):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["lab", "list"]) == 141                 # hv's status for a closed pipe
