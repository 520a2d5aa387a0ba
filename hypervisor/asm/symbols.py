"""Symbols, and the three ways of evaluating an expression that refers to them.

* NowEnv: while reading a file, for `li`, `.space` counts, alignments: only what is known at
  that point (absolute numbers and distances inside one fragment), as GNU as does;
* LayoutEnv: during branch relaxation, section-relative offsets of the current layout;
* FinalEnv: after placement, real addresses; an undefined name is an error here.
"""
import difflib

from .expr import NotConstant, Value, evaluate


class Symbol:
    __slots__ = ("name", "kind", "frag", "offset", "node", "is_global", "weak", "loc",
                 "type", "size", "file", "shown")

    def __init__(self, name, file, loc=None):
        self.name, self.file, self.loc = name, file, loc
        self.kind = None            # None (declared only), "label" or "equ"
        self.frag = self.offset = self.node = self.size = None
        self.is_global = self.weak = False
        self.type = 0               # ELF STT_*: 0 NOTYPE, 1 OBJECT, 2 FUNC
        self.shown = name

    @property
    def defined(self):
        return self.kind is not None


class _Env:
    def __init__(self, unit):
        self.unit = unit            # the FileAssembler whose names we resolve
        self.loc = None             # location for errors (set by the caller)
        self._active = set()

    def _equ(self, sym):
        if sym.name in self._active:
            raise sym.loc.error(f"circular definition of '{sym.name}'")
        self._active.add(sym.name)
        try:
            return evaluate(sym.node, self)
        finally:
            self._active.discard(sym.name)

    def _defined(self, node):
        """The value of a symbol defined in this file: an .equ evaluated, a label placed by
        _place(); anything else is not (yet) a constant."""
        sym = self.unit.symbols.get(node.name)
        if sym is None or not sym.defined:
            raise NotConstant(node.shown)
        if sym.kind == "equ":
            return self._equ(sym)
        return self._place(sym)


class NowEnv(_Env):
    def symbol(self, node):
        return self._defined(node)

    def _place(self, sym):
        return Value(sym.frag, sym.offset)

    def here(self, node):
        return Value(node.frag, node.offset)

    def absolute(self, value):
        if value.anchor is not None:
            raise NotConstant()
        return value.offset


class LayoutEnv(_Env):
    def symbol(self, node):
        return self._defined(node)

    def _place(self, sym):
        return Value(sym.frag.section, sym.frag.start + sym.offset)

    def here(self, node):
        return Value(node.frag.section, node.frag.start + node.offset)

    def absolute(self, value):
        if value.anchor is not None:
            raise NotConstant()
        return value.offset


class FinalEnv(_Env):
    """Addresses are known.  `program.globals` resolves names a file does not define."""

    def __init__(self, unit, program):
        super().__init__(unit)
        self.program = program

    def lookup(self, node):
        sym = self.unit.symbols.get(node.name)
        if sym is not None and sym.defined:
            return sym
        sym = self.program.globals.get(node.name)
        if sym is not None:
            return sym
        weak = self.unit.symbols.get(node.name)
        if weak is not None and weak.weak:
            return None                      # an undefined weak symbol is 0
        raise self.undefined(node)

    def undefined(self, node):
        known = [n for n in self.unit.symbols if "\x02" not in n] + list(self.program.globals)
        close = difflib.get_close_matches(node.name, known, n=1)
        if "\x02" in node.name:
            where = "before" if node.shown.endswith("b") else "after"
            hint = f"no local label {node.shown[:-1]} is defined {where} this line"
        else:
            hint = (f"did you mean '{close[0]}'?" if close
                    else "define it as a label, with .equ, or .globl in another file")
        return self.loc.at(node.col).error(f"undefined symbol '{node.shown}'", hint=hint)

    def symbol(self, node):
        sym = self.lookup(node)
        if sym is None:
            return Value(None, 0)
        if sym.kind == "equ":
            env = self if sym.file is self.unit else FinalEnv(sym.file, self.program)
            saved, env.loc = env.loc, sym.loc
            try:
                return env._equ(sym)
            finally:
                env.loc = saved
        return Value(sym.frag.section, sym.frag.start + sym.offset)

    def here(self, node):
        return Value(node.frag.section, node.frag.start + node.offset)

    def absolute(self, value):
        if value.anchor is None:
            return value.offset
        return value.anchor.addr + value.offset

    def address(self, node, loc):
        """The absolute value of an expression (an address or a number)."""
        self.loc = loc
        return self.absolute(evaluate(node, self))
