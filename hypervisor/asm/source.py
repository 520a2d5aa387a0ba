"""From source text to statements: comments, `;` separators, labels, operands.

GNU as syntax (GAS manual, "Syntax"): `#` starts a comment (riscv's comment character),
`/* ... */` comments may span lines, `;` separates statements on one line.  We also accept
`//` comments, which GNU as does not (it reads `//` as two divisions).
A statement is `label: label: mnemonic operand, operand` or `name = expression`.
"""
import re
from dataclasses import dataclass, field

from .errors import AsmError, Location

_LABEL = re.compile(r"\s*([A-Za-z_.$][\w.$]*|[0-9]+)\s*:(?!=)")
_ASSIGN = re.compile(r"\s*([A-Za-z_.$][\w.$]*)\s*=(?!=)")
_WORD = re.compile(r"\s*([A-Za-z_.][\w.]*)")


@dataclass
class Statement:
    loc: Location                                    # where the mnemonic/directive starts
    labels: list = field(default_factory=list)       # [(name, Location)]
    name: str = ""                   # mnemonic or directive in lower case, "=" for name = expr
    operands: list = field(default_factory=list)     # [(text, Location)]
    text: str = ""                                   # the statement as written (for messages)


def skip_char_literal(text, i):
    """Index just past the character constant starting at text[i] == "'"."""
    m = re.compile(r"'(?:\\(?:[0-7]{1,3}|x[0-9a-fA-F]+|.)|.)'?").match(text, i)
    return m.end() if m else i + 1


def _strip_line(line, in_block):
    """Blank out comments (keeping columns); return (segments, in_block).  Segments are
    (start_index, text) pieces split at top-level `;`."""
    out = list(line)
    i, quote, start, segments = 0, None, 0, []
    while i < len(line):
        c = line[i]
        if in_block:
            if line.startswith("*/", i):
                out[i] = out[i + 1] = " "
                in_block = False
                i += 2
                continue
            out[i] = " "
        elif quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c == '"':
            quote = '"'
        elif c == "'":   # character constant 'c' or 'c: skip the character (may be # or ;)
            i = skip_char_literal(line, i)
            continue
        elif line.startswith("/*", i):
            in_block = True
            out[i] = " "
        elif c == "#" or line.startswith("//", i):
            out[i:] = " " * (len(line) - i)
            break
        elif c == ";":
            segments.append((start, "".join(out[start:i])))
            start = i + 1
        i += 1
    segments.append((start, "".join(out[start:])))
    return segments, in_block


def split_operands(text, base_col):
    """Split at commas outside parentheses and quotes: [(operand_text, col)]."""
    parts, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c == '"':
            quote = c
        elif c == "'":
            i = skip_char_literal(text, i)
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append((start, text[start:i]))
            start = i + 1
        i += 1
    parts.append((start, text[start:]))
    out = []
    for off, piece in parts:
        lead = len(piece) - len(piece.lstrip())
        out.append((piece.strip(), base_col + off + lead))
    if len(out) == 1 and not out[0][0]:
        return []
    return out


def _parse_segment(seg, col0, filename, lineno):
    """One statement (text starting at 1-based column col0) -> Statement or None."""
    stmt = Statement(Location(filename, lineno, col0), text=seg.strip())
    pos = 0
    while True:
        m = _LABEL.match(seg, pos)
        if not m:
            break
        stmt.labels.append((m.group(1), Location(filename, lineno, col0 + m.start(1))))
        pos = m.end()
    rest = seg[pos:]
    if not rest.strip():
        return stmt if stmt.labels else None
    m = _ASSIGN.match(seg, pos)
    if m:
        stmt.name = "="
        stmt.loc = Location(filename, lineno, col0 + m.start(1))
        value_col = m.end() + len(seg[m.end():]) - len(seg[m.end():].lstrip())
        value = (seg[m.end():].strip(), Location(filename, lineno, col0 + value_col))
        stmt.operands = [(m.group(1), stmt.loc), value]
        return stmt
    m = _WORD.match(seg, pos)
    if not m:
        bad = rest.strip().split()[0]
        raise Location(filename, lineno, col0 + pos + len(rest) - len(rest.lstrip())).error(
            "expected an instruction, directive or label", bad)
    stmt.name = m.group(1).lower()
    stmt.loc = Location(filename, lineno, col0 + m.start(1))
    stmt.operands = [(t, Location(filename, lineno, c))
                     for t, c in split_operands(seg[m.end():], col0 + m.end())]
    return stmt


def parse_source(text, filename="<string>", report=None):
    """All statements of one source file, in order.  A statement that cannot be read is
    passed to `report` (an AsmError) and skipped; without `report` it is raised."""
    statements, in_block = [], False
    for lineno, line in enumerate(text.splitlines(), start=1):
        segments, in_block = _strip_line(line, in_block)
        for start, seg in segments:
            try:
                stmt = _parse_segment(seg, start + 1, filename, lineno)
            except AsmError as exc:
                if report is None:
                    raise
                report(exc)
                continue
            if stmt is not None:
                statements.append(stmt)
    return statements
