"""The Buildfile: the Dockerfile subset `hv image build` reads.

    FROM scratch | FROM name[:tag]          the first instruction, once
    COPY [--chown=U[:G]] [--chmod=MODE] SRC... DEST      from the build context
    ADD  [--chown=U[:G]] [--chmod=MODE] SRC... DEST      as COPY, and a local tar is unpacked
    ENV KEY=VALUE ... | ENV KEY VALUE       LABEL KEY=VALUE ...
    WORKDIR DIR        USER NAME[:GROUP]    EXPOSE PORT[/PROTO] ...   STOPSIGNAL SIG
    CMD / ENTRYPOINT / RUN  ["exec", "form"] or a shell form (run as /bin/sh -c "...")

As in Docker's reference: instructions are case-insensitive, `#` starts a comment line, a
trailing backslash continues a line, and `$VAR`, `${VAR}`, `${VAR:-default}` and
`${VAR:+alternative}` are replaced (from ENV) in COPY, ADD, ENV, LABEL, WORKDIR, USER, EXPOSE
and STOPSIGNAL, but not inside single quotes, and not in RUN/CMD/ENTRYPOINT (the shell does).
"""
import json
import re
from dataclasses import dataclass, field

from .errors import OCIError

INSTRUCTIONS = ("FROM", "COPY", "ADD", "ENV", "LABEL", "WORKDIR", "USER", "EXPOSE",
                "STOPSIGNAL", "CMD", "ENTRYPOINT", "RUN")
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}"
                  r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class Step:
    line: int
    instruction: str
    text: str                                   # the arguments as written
    args: dict = field(default_factory=dict)    # parsed (after substitution)

    def __str__(self):
        return f"{self.instruction} {self.text}".strip()

    def key(self):
        """What the step cache keys on besides the parent: the instruction as understood."""
        return json.dumps([self.instruction, self.args], sort_keys=True)


class BuildfileError(OCIError):
    pass


def logical_lines(text):
    """(line number, text) with comments dropped and continuations joined."""
    out, buf, start = [], "", None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue                            # a comment inside a continued instruction
        if start is None:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append((start, (buf + line).strip()))
        buf, start = "", None
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def substitute(text, env, where):
    def repl(m):
        name = m.group("braced") or m.group("plain")
        value = env.get(name)
        if m.group("op") == "-":
            return value if value else m.group("word")
        if m.group("op") == "+":
            return m.group("word") if value else ""
        return value or ""
    try:
        return _VAR.sub(repl, text)
    except re.error as exc:     # pragma: no cover - the pattern is fixed
        raise BuildfileError(f"{where}: {exc}") from None


def words(text, env, where):
    """Split like a shell word list: quotes group, a backslash escapes one character, and
    ENV substitution happens outside single quotes."""
    out, cur, have, i, n = [], [], False, 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            if have:
                out.append("".join(cur))
            cur, have, i = [], False, i + 1
            continue
        have = True
        if c == "\\" and i + 1 < n:
            cur.append(text[i + 1])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise BuildfileError(f"{where}: unterminated ' quote")
            cur.append(text[i + 1:j])
            i = j + 1
        elif c == '"':
            j, seg = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$':
                    cur.append(substitute("".join(seg), env, where) + text[j + 1])
                    seg, j = [], j + 2
                    continue
                seg.append(text[j])
                j += 1
            if j >= n:
                raise BuildfileError(f'{where}: unterminated " quote')
            cur.append(substitute("".join(seg), env, where))
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in " \t'\"\\":
                j += 1
            cur.append(substitute(text[i:j], env, where))
            i = j
    if have:
        out.append("".join(cur))
    return out


def exec_or_shell(text, where):
    """["a", "b"] (exec form) or ["/bin/sh", "-c", text] (shell form)."""
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return value, "exec"
    if not text:
        raise BuildfileError(f"{where}: needs a command")
    return ["/bin/sh", "-c", text], "shell"


def pairs(text, env, where, what):
    ws = words(text, env, where)
    if ws and "=" not in ws[0] and what == "ENV":       # legacy `ENV KEY VALUE ...`
        if len(ws) < 2:
            raise BuildfileError(f"{where}: ENV needs KEY=VALUE or KEY VALUE")
        return [(ws[0], substitute(text.split(None, 1)[1], env, where))]
    out = []
    for w in ws:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise BuildfileError(f"{where}: {what} needs KEY=VALUE, got {w!r}")
        out.append((key, value))
    if not out:
        raise BuildfileError(f"{where}: {what} needs KEY=VALUE")
    return out


def copy_args(text, env, where, what):
    flags = {}
    if text.lstrip().startswith("["):
        try:
            ws = json.loads(text)
        except ValueError:
            raise BuildfileError(f"{where}: {what}: bad JSON list") from None
        ws = [substitute(w, env, where) for w in ws]
    else:
        ws = words(text, env, where)
    while ws and ws[0].startswith("--"):
        flag, _, value = ws.pop(0)[2:].partition("=")
        if flag not in ("chown", "chmod"):
            raise BuildfileError(f"{where}: {what} --{flag} is not supported "
                                 "(--chown, --chmod are)")
        flags[flag] = value
    if len(ws) < 2:
        raise BuildfileError(f"{where}: {what} needs a source and a destination")
    if "chmod" in flags and not re.fullmatch(r"[0-7]{3,4}", flags["chmod"]):
        raise BuildfileError(f"{where}: --chmod takes an octal mode like 755")
    if "chown" in flags and not re.fullmatch(r"\d+(:\d+)?", flags["chown"]):
        raise BuildfileError(f"{where}: --chown takes numeric UID[:GID] "
                             "(hvlab images have no /etc/passwd lookup at build time)")
    return {"sources": ws[:-1], "dest": ws[-1], **flags}


def parse(text, name="Buildfile"):
    """The steps of a Buildfile, parsed but not yet substituted (ENV changes as it runs)."""
    steps = []
    for n, line in logical_lines(text):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        where = f"{name}:{n}"
        if instruction not in INSTRUCTIONS:
            raise BuildfileError(f"{where}: unknown or unsupported instruction {instruction} "
                                 f"(hvlab reads {', '.join(INSTRUCTIONS)})")
        steps.append(Step(n, instruction, rest.strip()))
    if not steps:
        raise BuildfileError(f"{name}: no instructions")
    if steps[0].instruction != "FROM":
        raise BuildfileError(f"{name}:{steps[0].line}: the first instruction must be FROM")
    for s in steps[1:]:
        if s.instruction == "FROM":
            raise BuildfileError(f"{name}:{s.line}: only one FROM (multi-stage builds are "
                                 "not supported)")
    return steps


def understand(step, env, name="Buildfile"):
    """Fill step.args for the current ENV; raises BuildfileError with the line."""
    where, text, i = f"{name}:{step.line}", step.text, step.instruction
    if i == "FROM":
        ws = text.split()
        if len(ws) not in (1, 3) or (len(ws) == 3 and ws[1].upper() != "AS"):
            raise BuildfileError(f"{where}: FROM takes an image (FROM name[:tag] [AS stage])")
        step.args = {"image": ws[0]}
    elif i in ("COPY", "ADD"):
        step.args = copy_args(text, env, where, i)
    elif i in ("ENV", "LABEL"):
        step.args = {"pairs": pairs(text, env, where, i)}
    elif i in ("WORKDIR", "USER", "STOPSIGNAL"):
        ws = words(text, env, where)
        if len(ws) != 1:
            raise BuildfileError(f"{where}: {i} takes one argument")
        step.args = {"value": ws[0]}
    elif i == "EXPOSE":
        ports = words(text, env, where)
        for p in ports:
            if not re.fullmatch(r"\d{1,5}(/(tcp|udp|sctp))?", p):
                raise BuildfileError(f"{where}: bad port {p!r} (PORT or PORT/tcp)")
        step.args = {"ports": [p if "/" in p else p + "/tcp" for p in ports]}
    else:                                       # CMD, ENTRYPOINT, RUN
        argv, form = exec_or_shell(text, where)
        step.args = {"argv": argv, "form": form}
    return step
