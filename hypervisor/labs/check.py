"""Answers: the student's, checked against their own results.json (`hv lab check`), and the
teacher's key for a seed (`hv lab answers`).

answers.toml (the run writes a template, answers-template.toml):

    lab = "trap-and-emulate"
    seed = 7
    [answers]
    uart_exits_per_line = 53

Each answer is compared with the true value computed from the student's own measured numbers,
within the question's tolerance (count answers: exact; time answers: a few percent, for the
rounding of numbers read off the report), and every miss is explained.
"""
import json
import math
import tomllib
from pathlib import Path

from .base import COUNT, LabError
from .report import fmt


def load_answers(path):
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise LabError(f"{path}: no such file") from None
    except OSError as exc:
        raise LabError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"{path}: not valid TOML: {exc}") from None
    answers = data.get("answers", {k: v for k, v in data.items()
                                   if k not in ("lab", "seed", "quick")})
    if not isinstance(answers, dict):
        raise LabError(f"{path}: [answers] must be a table of name = number")
    return data, answers


def load_results(path):
    try:
        with open(path) as f:
            res = json.load(f)
    except FileNotFoundError:
        raise LabError(f"{path}: no such file (run the lab first: hv lab run NAME)") from None
    except (OSError, ValueError) as exc:
        raise LabError(f"{path}: not a results.json of hv lab ({exc})") from None
    if not isinstance(res, dict) or "measured" not in res or "lab" not in res:
        raise LabError(f"{path}: not a results.json of hv lab")
    return res


def find_results(lab, answers_path, given=None):
    """--results, else results.json beside answers.toml, else the lab's default directory."""
    if given:
        return Path(given)
    for p in (Path(answers_path).parent / "results.json", Path(f"lab-{lab.slug}") / "results.json"):
        if p.exists():
            return p
    raise LabError(f"no results.json beside {answers_path} or in lab-{lab.slug}/: run "
                   f"`hv lab run {lab.name}` first, or give --results FILE")


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def explain(q, given, truth):
    """Why ``given`` is not ``truth``: the usual slips first, then the question's hint."""
    why = []
    if truth and given:
        ratio = given / truth
        for k in (-6, -3, -2, -1, 1, 2, 3, 6):
            if abs(ratio / 10 ** k - 1) < 0.1:
                why.append(f"off by a factor of 10^{k}: check the unit ({q.unit})")
                break
        else:
            if abs(given * truth - 1) < 0.1 * abs(given * truth) and abs(truth) != 1:
                why.append("that is about 1/answer: a ratio upside down?")
            elif abs(given + truth) <= q.tolerance(truth):
                why.append("the sign is wrong")
    if q.hint:
        why.append(f"hint: {q.hint}")
    return "; ".join(why)


def accepted(q, truth):
    tol = q.tolerance(truth)
    if tol == 0:
        return f"exactly {fmt(truth, q.unit)}"
    return f"{fmt(truth - tol, q.unit)} .. {fmt(truth + tol, q.unit)}"


def check(lab, answers_path, results_path=None):
    """(lines of text, status): 0 if every question was answered right, else 1."""
    data, answers = load_answers(answers_path)
    if data.get("lab") not in (None, lab.name):
        raise LabError(f"{answers_path} is for lab {data['lab']!r}, not {lab.name!r}")
    rpath = find_results(lab, answers_path, results_path)
    res = load_results(rpath)
    if res["lab"] != lab.name:
        raise LabError(f"{rpath} is from lab {res['lab']!r}, not {lab.name!r}")
    if "seed" in data and data["seed"] != res.get("seed"):
        raise LabError(f"{answers_path} is for seed {data['seed']}, but {rpath} is a run with "
                       f"seed {res.get('seed')}: check against your own run")
    out = [f"hv lab check {lab.name}: {answers_path} against {rpath} (seed {res.get('seed')}"
           f"{', quick' if res.get('quick') else ''})"]
    right = wrong = blank = 0
    known = {q.id for q in lab.questions}
    for name in answers:
        if name not in known:
            out.append(f"  ??    {name}: not a question of this lab (questions: "
                       f"{', '.join(sorted(known))})")
    for q in lab.questions:
        raw = answers.get(q.id)
        given = _number(raw)
        if raw is not None and given is None:
            out.append(f"  MISS  {q.id} = {raw!r}: an answer is a number")
            wrong += 1
            continue
        if given is None or math.isnan(given):
            out.append(f"  --    {q.id}: not answered ({lab.question_text(q, res['params'])})")
            blank += 1
            continue
        try:
            truth = float(q.value(res))
        except (KeyError, TypeError, ZeroDivisionError):
            out.append(f"  --    {q.id}: {rpath} has no measurement for it (an untimed or "
                       f"older run?); not counted")
            blank += 1
            continue
        if abs(given - truth) <= max(q.tolerance(truth), 1e-9 * abs(truth)):
            out.append(f"  ok    {q.id} = {fmt(given, q.unit)} {q.unit}")
            right += 1
        else:
            msg = (f"  MISS  {q.id} = {fmt(given, q.unit)}: your run measured "
                   f"{fmt(truth, q.unit)} {q.unit} "
                   f"(accepted: {accepted(q, truth)})")
            why = explain(q, given, truth)
            out.append(msg + (f"\n        {why}" if why else ""))
            wrong += 1
    total = len(lab.questions)
    out.append(f"{right} of {total} right, {wrong} wrong, {blank} not answered")
    return out, 0 if right == total else 1


def answer_key(lab, params, counts=None, results=None):
    """Lines for `hv lab answers`: the model's answer from the seed, the count answers of an
    untimed run of the same seed (``counts``), and, given a student's results, their values."""
    out = []
    width = max(len(q.id) for q in lab.questions)
    for q in lab.questions:
        model = None
        if q.predict is not None:
            try:
                model = q.predict(params)
            except (KeyError, ZeroDivisionError):
                model = None
        parts = []
        if results is not None:
            try:
                parts.append(f"{fmt(float(q.value(results)), q.unit)} {q.unit} (their run)")
            except (KeyError, TypeError, ZeroDivisionError):
                parts.append("not in their results")
        if q.kind == COUNT:
            run = counts.get(q.id) if counts else None
            if run is not None and results is None:
                parts.append(f"{fmt(run, q.unit)} {q.unit}")
            if model is not None and run is not None and abs(model - run) <= 1e-9 * max(1, abs(run)):
                parts.append("the model agrees")
            elif model is not None:
                parts.append(f"model: {fmt(model, q.unit)}"
                             + ("" if run is None else " (DISAGREES with the run: a bug)"))
            tail = "same for every student with this seed"
        else:
            if model is not None:
                parts.append(f"ideal {fmt(model, q.unit)} {q.unit}")
            tail = "each student's own machine: hv lab check reads it from their results.json"
        out.append(f"{q.id:<{width}}  {'; '.join(parts) or '-'}   [{q.kind}: {tail}]")
        out.append(f"{'':<{width}}  {lab.question_text(q, params)}")
    return out
