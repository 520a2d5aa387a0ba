"""`hv lab`: list, run, answers, check.

    hv lab list                                    the labs, and which are not built yet
    hv lab run NAME [--out DIR] [--quick] [--seed N]
    hv lab answers NAME [--seed N] [--quick] [--results FILE]
    hv lab check NAME ANSWERS.toml [--results FILE]

Exit status: 0 done (check: every answer right), 1 a lab could not run (or check: a wrong or
missing answer), 2 a bad command line.
"""
import datetime
import sys
import time
from pathlib import Path

from ..errors import UsageError
from . import ENTRIES, get
from .base import Context, LabError


def register(sub):
    p = sub.add_parser("lab", help="classroom experiments: run one, check your answers",
                       description=__doc__.split("\n\n")[0])
    lab = p.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=type(p))
    lab.add_parser("list", help="the labs").set_defaults(func=cmd_list)

    r = lab.add_parser("run", help="run a lab: report.md, plots, results.json in --out")
    r.add_argument("name", metavar="NAME", help="a lab's name or number (hv lab list)")
    r.add_argument("--out", metavar="DIR", help="where to write (default: ./lab-NN-NAME)")
    _common(r)
    r.set_defaults(func=cmd_run)

    a = lab.add_parser("answers", help="the expected answers for a seed (for the teacher)")
    a.add_argument("name", metavar="NAME")
    _common(a)
    a.add_argument("--results", metavar="FILE", help="also show the true values of this run")
    a.set_defaults(func=cmd_answers)

    c = lab.add_parser("check", help="check your answers.toml against your results.json")
    c.add_argument("name", metavar="NAME")
    c.add_argument("answers", metavar="ANSWERS.toml")
    c.add_argument("--results", metavar="FILE",
                   help="results.json (default: beside ANSWERS.toml, else ./lab-NN-NAME/)")
    c.set_defaults(func=cmd_check)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _common(p):
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="vary sizes, addresses and mixes (default 0); give each student one")
    p.add_argument("--quick", action="store_true", help="a shorter run (under 20 s)")


def _lab(name):
    try:
        return get(name)
    except LabError as exc:
        raise UsageError(str(exc)) from None


def cmd_list(args):
    for e in ENTRIES:
        lab = e.load()
        status = "" if lab is not None else f"  ({e.missing})"
        print(f"{e.number}  {e.name:<17} {e.summary}{status}")
    return 0


def run_lab(lab, seed=0, quick=False, out=None, timed=True, quiet=False, stream=None):
    """Run a lab; write its files into ``out`` (a Path, created) unless None.  Returns
    (results dict, context)."""
    from . import host, plots, report
    from .progress import Progress
    if out is not None and not plots.available():
        raise LabError(plots.MISSING)
    if seed < 0:
        raise LabError("--seed must be 0 or more")
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LabError(f"--out {out}: {exc.strerror}") from None
    ctx = Context(lab=lab, seed=seed, quick=quick, params=lab.make_params(seed, quick), out=out,
                  progress=Progress(f"lab {lab.number}", stream=stream, quiet=quiet),
                  timed=timed)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    lab.run(ctx)
    res = report.results(ctx, host.describe(), time.perf_counter() - t0, started)
    if out is not None:
        try:
            report.write(ctx, res)
        except OSError as exc:
            raise LabError(f"cannot write into {out}: {exc.strerror}") from None
    return res, ctx


def cmd_run(args):
    from . import report
    from ..commands.warmup import compile_hart
    lab = _lab(args.name)
    out = Path(args.out or f"lab-{lab.slug}")
    compile_hart()          # as hv run does: no instance's host time includes the compile
    try:
        res, ctx = run_lab(lab, args.seed, args.quick, out)
    except LabError as exc:
        print(f"hv lab run: {exc}", file=sys.stderr)
        return 1
    print(report.summary_text(ctx, res), end="")
    for text in ctx.shown:
        print("\n" + text, end="")
    print(f"report: {out / 'report.md'}, plots: {', '.join(ctx.figures) or 'none'}, raw "
          f"numbers: {out / 'results.json'}; answer in {out / 'answers-template.toml'}")
    return 0


def cmd_answers(args):
    from .check import answer_key, load_results
    lab = _lab(args.name)
    try:
        results = load_results(args.results) if args.results else None
        if results is not None:
            if results["lab"] != lab.name:
                raise LabError(f"{args.results} is from lab {results['lab']!r}")
            seed, quick = results["seed"], results["quick"]
        else:
            seed, quick = args.seed, args.quick
        params = lab.make_params(seed, quick)
        counts = None
        if results is None:         # the count answers: an untimed run, no files
            from ..commands.warmup import compile_hart
            compile_hart()
            res, _ = run_lab(lab, seed, quick, None, timed=False)
            counts = {q: v for q, v in res["answers"].items()
                      if v is not None and lab.question(q).kind == "count"}
    except LabError as exc:
        print(f"hv lab answers: {exc}", file=sys.stderr)
        return 1
    print(f"answers to lab {lab.number} ({lab.name}), seed {seed}{', quick' if quick else ''}")
    print("\n".join(answer_key(lab, params, counts, results)))
    return 0


def cmd_check(args):
    from .check import check
    lab = _lab(args.name)
    try:
        lines, status = check(lab, args.answers, args.results)
    except LabError as exc:
        print(f"hv lab check: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return status
