"""Expressions in operands and directives: tokenizer, parser and evaluator.

Semantics follow GNU as (gas/expr.c, "Expressions" in the GAS manual):
  * values are 64-bit two's complement; `>>` is a logical shift of the 64-bit value, so
    `-8 >> 1` is 0x7ffffffffffffffc exactly as in GNU as;
  * binary precedence, highest first: `* / % << >>`, then `| & ^ !` (`a ! b` is a | ~b),
    then `+ -`, then comparisons `== != <> < > <= >=` (true is -1), then `&&`, then `||`;
  * `.` is the current location; `1b`/`1f` name the nearest local label 1 backwards/forwards.

A value is absolute (anchor None) or an offset from an anchor (a fragment of a section before
layout, a section after).  Two values with the same anchor subtract to an absolute number;
that is how `end - start` becomes a constant.
"""
import re


MASK64 = (1 << 64) - 1


def wrap64(v):
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


class NotConstant(Exception):
    """Raised while evaluating 'now' (before layout) when the value is not known yet."""


# --- AST -----------------------------------------------------------------------------------

class Num:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Sym:
    __slots__ = ("name", "col", "shown")

    def __init__(self, name, col, shown=None):
        self.name, self.col, self.shown = name, col, shown or name


class Here:
    """`.`: the location where the expression was written (a fragment and offset in it)."""
    __slots__ = ("frag", "offset")

    def __init__(self, frag, offset):
        self.frag, self.offset = frag, offset


class Unary:
    __slots__ = ("op", "arg")

    def __init__(self, op, arg):
        self.op, self.arg = op, arg


class Binary:
    __slots__ = ("op", "left", "right", "col")

    def __init__(self, op, left, right, col):
        self.op, self.left, self.right, self.col = op, left, right, col


class Reloc:
    """%hi(x), %lo(x), %pcrel_hi(x), %pcrel_lo(label): only as a whole operand."""
    __slots__ = ("kind", "arg", "col")

    def __init__(self, kind, arg, col):
        self.kind, self.arg, self.col = kind, arg, col


RELOC_KINDS = ("hi", "lo", "pcrel_hi", "pcrel_lo")

# --- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<hex>0[xX][0-9a-fA-F]+)
  | (?P<bin>0[bB][01]+(?![\w$]))
  | (?P<local>[0-9]+[bf](?![\w$]))
  | (?P<dec>[0-9]+)
  | (?P<char>'(?:\\(?:[0-7]{1,3}|x[0-9a-fA-F]+|.)|[^\\])'?)
  | (?P<reloc>%[A-Za-z_]\w*)
  | (?P<name>[A-Za-z_.$][\w.$]*)
  | (?P<op><<|>>|==|!=|<>|<=|>=|&&|\|\||[-+*/%&|^!~<>()])
""", re.VERBOSE)

ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "v": 11, "a": 7, "e": 27,
           "\\": 92, "'": 39, '"': 34, "0": 0}


def char_value(body):
    """The value of a character (or escape) as in a 'c' literal or a string."""
    if body[0] != "\\":
        return ord(body[0])
    rest = body[1:]
    if rest[0] in "01234567":
        return int(rest, 8) & 0xFF
    if rest[0] in "xX":
        return int(rest[1:], 16) & 0xFF
    return ESCAPES.get(rest, ord(rest[0]))


def tokenize(text, loc):
    """[(kind, value, col)] for an expression; loc gives file/line and the text's column."""
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        col = loc.col + pos
        if not m:
            raise loc.at(col).error("unexpected character in expression", text[pos:pos + 1])
        kind, tok = m.lastgroup, m.group()
        pos = m.end()
        if kind == "space":
            continue
        if kind == "dec" and pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
            word = re.match(r"[\w.$]+", text[pos - len(tok):]).group()
            raise loc.at(col).error("bad number", word)
        if kind == "hex":
            out.append(("num", int(tok, 16), col))
        elif kind == "bin":
            out.append(("num", int(tok[2:], 2), col))
        elif kind == "dec":
            out.append(("num", int(tok, 8) if len(tok) > 1 and tok[0] == "0" else int(tok), col))
        elif kind == "char":
            body = tok[1:-1] if tok.endswith("'") and len(tok) > 2 else tok[1:]
            out.append(("num", char_value(body), col))
        else:
            out.append((kind, tok, col))
    return out


# --- parser (precedence climbing) -----------------------------------------------------------

BINARY_PREC = {"||": 1, "&&": 2,
               "==": 3, "!=": 3, "<>": 3, "<": 3, ">": 3, "<=": 3, ">=": 3,
               "+": 4, "-": 4,
               "|": 5, "&": 5, "^": 5, "!": 5,
               "*": 6, "/": 6, "%": 6, "<<": 6, ">>": 6}


class ExprParser:
    """Parses one operand's expression.  `ctx` supplies `here()` (a Here node for `.`),
    `symbol_ref(name, col)` (a Sym, or the expression a `.set` symbol stands for now, so a
    later `.set` does not change what was already written, as in GNU as) and
    `local_label(number, direction)` (the internal name of `1b`/`1f`)."""

    def __init__(self, text, loc, ctx):
        self.text, self.loc, self.ctx = text, loc, ctx
        self.toks = tokenize(text, loc)
        self.i = 0

    def peek(self):
        if self.i < len(self.toks):
            return self.toks[self.i]
        return ("end", None, self.loc.col + len(self.text))

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, message, tok=None):
        kind, value, col = tok or self.peek()
        shown = "end of operand" if kind == "end" else str(self.text[col - self.loc.col:]).strip()
        return self.loc.at(col).error(message, shown)

    def parse_operand(self):
        """A whole operand: an expression, or %reloc(expression)."""
        kind, value, col = self.peek()
        if kind == "reloc":
            self.take()
            name = value[1:]
            if name not in RELOC_KINDS:
                raise self.loc.at(col).error(f"unknown relocation function '{value}'",
                                             hint="use %hi, %lo, %pcrel_hi or %pcrel_lo")
            if self.take()[1] != "(":
                raise self.fail(f"expected '(' after {value}")
            arg = self.expr(0)
            if self.take()[1] != ")":
                raise self.fail(f"expected ')' to close {value}(")
            node = Reloc(name, arg, col)
        else:
            node = self.expr(0)
        if self.peek()[0] != "end":
            raise self.fail("junk after expression")
        return node

    def expr(self, min_prec):
        left = self.unary()
        while True:
            kind, op, col = self.peek()
            prec = BINARY_PREC.get(op) if kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            left = Binary(op, left, self.expr(prec + 1), col)

    def unary(self):
        kind, value, col = self.take()
        if kind == "op" and value in "-~!+":
            return Unary(value, self.unary())
        if kind == "op" and value == "(":
            node = self.expr(0)
            if self.take()[1] != ")":
                raise self.fail("expected ')'")
            return node
        if kind == "num":
            return Num(value)
        if kind == "name":
            return self.ctx.here() if value == "." else self.ctx.symbol_ref(value, col)
        if kind == "local":
            number, direction = value[:-1], value[-1]
            return Sym(self.ctx.local_label(int(number), direction), col, value)
        if kind == "reloc":
            raise self.loc.at(col).error(f"{value}(...) must be the whole operand", value)
        raise self.fail("expected an expression", (kind, value, col))


def parse_expression(text, loc, ctx):
    """Parse `text` (an operand, located at loc) into an AST; raises AsmError."""
    if not text.strip():
        raise loc.error("missing operand")
    return ExprParser(text, loc, ctx).parse_operand()


# --- evaluation ----------------------------------------------------------------------------

class Value:
    """anchor None: absolute number; else `offset` bytes after the anchor."""
    __slots__ = ("anchor", "offset")

    def __init__(self, anchor, offset):
        self.anchor, self.offset = anchor, offset


def _arith(op, a, b, err):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise err("division by zero")
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C: truncate toward 0
        return q if op == "/" else a - q * b
    if op == "<<":
        return a << b if 0 <= b < 64 else 0
    if op == ">>":
        return (a & MASK64) >> b if 0 <= b < 64 else 0
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "!":
        return a | ~b
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    compare = {"==": a == b, "!=": a != b, "<>": a != b, "<": a < b, ">": a > b,
               "<=": a <= b, ">=": a >= b}[op]
    return -1 if compare else 0


def evaluate(node, env):
    """Evaluate an AST.  env provides symbol(Sym) -> Value, here(Here) -> Value,
    absolute(Value) -> int (or raises NotConstant before layout) and loc for errors."""
    if isinstance(node, Num):
        return Value(None, wrap64(node.value))
    if isinstance(node, Sym):
        return env.symbol(node)
    if isinstance(node, Here):
        return env.here(node)
    if isinstance(node, Unary):
        v = evaluate(node.arg, env)
        if node.op == "+":
            return v
        a = env.absolute(v)
        return Value(None, wrap64({"-": -a, "~": ~a, "!": int(not a)}[node.op]))
    if isinstance(node, Binary):
        return _binary(node, evaluate(node.left, env), evaluate(node.right, env), env)
    raise env.loc.at(node.col).error(f"%{node.kind}(...) is not allowed here")


def _binary(node, a, b, env):
    op = node.op
    if op == "+" and (a.anchor is None or b.anchor is None):
        anchor = a.anchor if a.anchor is not None else b.anchor
        return Value(anchor, wrap64(a.offset + b.offset))
    if op == "-" and b.anchor is None:
        return Value(a.anchor, wrap64(a.offset - b.offset))
    if op == "-" and a.anchor is b.anchor:
        return Value(None, wrap64(a.offset - b.offset))
    x, y = env.absolute(a), env.absolute(b)

    def err(message):
        return env.loc.at(node.col).error(message)
    return Value(None, wrap64(_arith(op, x, y, err)))
