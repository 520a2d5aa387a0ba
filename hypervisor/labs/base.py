"""What every lab has: seeded parameters, measured numbers, questions, a report.

A lab is a subclass of ``Lab`` (one file per lab) with

* ``params(rng, quick)``: the workload for one seed (sizes, addresses, weights, ...), drawn
  from ``rng`` (a ``random.Random(seed)``) so two students get different numbers, as OSTEP's
  simulators do with ``-s``;
* ``run(ctx)``: the experiment, through the Engine API only, writing numbers into
  ``ctx.measured`` and prose, tables and figures into ``ctx.report``;
* ``questions``: what the student answers (``hv lab check``), each with the true value read from
  the student's own ``results.json`` and, where a model gives it from the seed alone, the
  predicted value (``hv lab answers``).

Every number is either a *count* (instructions, exits, pages: identical for a given seed on
any machine, because guest time is virtual) or a *time* (host seconds, CPU shares: this
machine's, different on every run).  ``Measure.kind`` records which, and the report says so.
"""
import random
from dataclasses import dataclass, field
from typing import Callable, Optional

COUNT = "count"
TIME = "time"
KIND_WORDS = {COUNT: "count (the same on every machine for this seed)",
              TIME: "time (this machine, this run)"}


class LabError(Exception):
    """A lab cannot go on (one line for the user)."""


@dataclass
class Question:
    """One numeric question.  ``value(results)`` is the true answer for the student's own run
    (results.json as a dict); ``predict(params)``, when the lab has a model for it, the answer
    from the seed alone (the teacher's key; a test checks it against a run)."""
    id: str
    text: str
    unit: str
    kind: str
    value: Callable[[dict], float]
    rel: float = 0.0                 # relative tolerance
    abs: float = 0.0                 # absolute tolerance
    predict: Optional[Callable[[dict], float]] = None
    hint: str = ""                   # what to think about when the answer is wrong
    part: str = ""                   # the report section it belongs to

    def tolerance(self, truth):
        return max(self.abs, abs(truth) * self.rel)


@dataclass
class Context:
    """What one run of a lab fills in."""
    lab: "Lab"
    seed: int
    quick: bool
    params: dict
    out: object = None              # pathlib.Path of the output directory, or None
    progress: object = None
    timed: bool = True              # False: skip the time-based steps (hv lab answers)
    measured: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    report: list = field(default_factory=list)      # markdown blocks, in order
    summary: list = field(default_factory=list)     # (what, value, unit, kind)
    figures: list = field(default_factory=list)     # file names in out/
    sources: dict = field(default_factory=dict)     # file name -> assembly text
    commands: list = field(default_factory=list)    # (what, command a student could type)
    shown: list = field(default_factory=list)       # text for the terminal after the summary

    def record(self, key, value, kind):
        """A measured number (a plain int, float, str, list or dict: JSON)."""
        self.measured[key] = value
        self.kinds[key] = kind
        return value

    def say(self, text):
        self.report.append(text.strip("\n") + "\n")

    def table(self, head, rows):
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.report.append("\n".join(lines) + "\n")

    def command(self, what, cmd):
        self.commands.append((what, cmd))

    def display(self, text):
        """Text `hv lab run` prints after the summary table (the report has it too)."""
        self.shown.append(text.rstrip("\n") + "\n")

    def headline(self, what, value, unit, kind):
        self.summary.append((what, value, unit, kind))

    def source(self, name, text):
        """Keep a generated guest program: written to out/guests/NAME for `hv run` by hand."""
        self.sources[name] = text
        return f"guests/{name}"


class Lab:
    number = 0
    name = ""
    title = ""
    summary = ""                    # one line for `hv lab list`
    doc = ""                        # docs/labs/NN-name.md
    seconds = (0, 0)                # measured duration on the reference machine: normal, quick
    questions = ()

    def params(self, rng, quick):
        raise NotImplementedError

    def run(self, ctx):
        raise NotImplementedError

    # ------------------------------------------------------------------ shared helpers
    def make_params(self, seed, quick):
        rng = random.Random(f"hvlab-{self.name}-{seed}")
        return self.params(rng, quick)

    def text_vars(self, params):
        """Names a question's text may use as {name}: the seed's own numbers (addresses,
        attempt numbers, ...) so each student reads their own question."""
        return {}

    def question_text(self, q, params):
        try:
            return q.text.format(**self.text_vars(params))
        except (KeyError, IndexError, ValueError):
            return q.text

    def question(self, qid):
        for q in self.questions:
            if q.id == qid:
                return q
        return None

    @property
    def slug(self):
        return f"{self.number:02d}-{self.name}"
