"""What a lab run leaves behind: report.md (figures embedded), results.json, the PNG plots, an
answers template and the guest programs it generated; and the summary table on stdout."""
import json
import math

from .base import COUNT, KIND_WORDS
from .host import one_line


def results(ctx, host, seconds, started):
    lab = ctx.lab
    out = {
        "lab": lab.name, "number": lab.number, "title": lab.title, "seed": ctx.seed,
        "quick": ctx.quick, "timed": ctx.timed, "started": started,
        "seconds": round(seconds, 2), "host": host, "params": ctx.params,
        "measured": ctx.measured, "kinds": ctx.kinds,
        "commands": [list(c) for c in ctx.commands], "figures": ctx.figures,
    }
    out["answers"] = answers_of(lab, out)
    return out


def answers_of(lab, res):
    """{question id: the true value from these results} (None where it cannot be computed,
    e.g. a time-based answer in an untimed run)."""
    got = {}
    for q in lab.questions:
        try:
            v = q.value(res)
        except (KeyError, ZeroDivisionError, TypeError):
            v = None
        got[q.id] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
    return got


HEX_UNITS = ("address", "offset")


def fmt(v, unit=""):
    if unit in HEX_UNITS and v is not None and float(v) == int(v):
        return f"{int(v):#x}"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e12:
            return str(int(v))
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    return str(v)


def summary_text(ctx, res):
    rows = [(w, str(v), u, "count" if k == COUNT else "time") for w, v, u, k in ctx.summary]
    head = ("result", "value", "unit", "kind")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(widths[i]) if i != 1 else c.rjust(widths[i])
                               for i, c in enumerate(r)).rstrip()
    text = [f"lab {ctx.lab.number}, {ctx.lab.title} (seed {ctx.seed}"
            f"{', quick' if ctx.quick else ''}, {res['seconds']:.1f} s)", line(head),
            line(["-" * w for w in widths])]
    text += [line(r) for r in rows]
    text.append("count: the same on every machine for this seed; time: this machine's")
    return "\n".join(text) + "\n"


def markdown(ctx, res):
    lab = ctx.lab
    md = [f"# Lab {lab.number}: {lab.title}\n",
          f"Seed **{ctx.seed}**{' (quick run)' if ctx.quick else ''}, {res['started']}, "
          f"{res['seconds']:.1f} s.  Host: {one_line(res['host'])}.  The lab's text, with "
          f"background and what to look at in `hv top`: `{lab.doc}` in hvlab's sources.\n",
          "## Summary\n",
          "| result | value | unit | kind |\n|---|---|---|---|\n"
          + "".join(f"| {w} | {v} | {u} | {KIND_WORDS[k]} |\n" for w, v, u, k in ctx.summary),
          "*Count* results (instructions, exits, pages) come from virtual time and are the same "
          "on every machine for this seed; *time* results (host microseconds, CPU shares) are "
          "this machine's and change from run to run.\n"]
    md += ctx.report
    if ctx.commands:
        md.append("## Doing it by hand\n\nThe lab used the Engine API that `hv run` uses.  From "
                  "this directory (the generated programs are in `guests/`):\n")
        md.append("```sh\n" + "".join(f"{'# ' + w + chr(10) if w else ''}{c}\n"
                                      for w, c in ctx.commands) + "```\n")
    md.append("## Questions\n\nAnswer in `answers-template.toml` (copy it to `answers.toml`) "
              f"and check with `hv lab check {lab.name} answers.toml`.\n")
    for i, q in enumerate(lab.questions, 1):
        md.append(f"{i}. **{q.id}** ({q.unit}, {q.kind}): {lab.question_text(q, ctx.params)}")
    md.append("")
    md.append("## Raw numbers\n\n`results.json` holds every measured number, the seed's "
              "parameters and the host.  Kind of each measured key:\n")
    md.append("| key | kind |\n|---|---|\n" + "".join(
        f"| `{k}` | {'count' if v == COUNT else 'time'} |\n" for k, v in ctx.kinds.items()))
    return "\n".join(md)


def template(ctx):
    lab = ctx.lab
    lines = [f"# Your answers to lab {lab.number} ({lab.name}), seed {ctx.seed}.",
             "# Replace each nan with your number, then:",
             f"#     hv lab check {lab.name} answers.toml",
             f'lab = "{lab.name}"', f"seed = {ctx.seed}",
             f"quick = {'true' if ctx.quick else 'false'}", "", "[answers]"]
    for q in lab.questions:
        lines.append(f"# {lab.question_text(q, ctx.params)} ({q.unit}, {q.kind})")
        lines.append(f"{q.id} = nan")
    return "\n".join(lines) + "\n"


def write(ctx, res):
    out = ctx.out
    (out / "results.json").write_text(json.dumps(res, indent=1, default=_json) + "\n")
    (out / "report.md").write_text(markdown(ctx, res))
    (out / "answers-template.toml").write_text(template(ctx))
    if ctx.sources:
        (out / "guests").mkdir(exist_ok=True)
        for name, text in ctx.sources.items():
            (out / "guests" / name).write_text(text)


def _json(o):
    if hasattr(o, "item"):              # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON")

