"""Reading one source file: statements become items in sections, labels become symbols.

This is GNU as's first pass.  Sizes are fixed here except for alignments and conditional
branches (see items.py); everything that needs addresses waits for encode.py.
"""
import difflib

from ..isa.instructions import BY_MNEMONIC
from . import directives
from .expr import Here, NotConstant, Sym, evaluate, parse_expression
from .forms import FORMS
from .items import Align, Branch, Imm, InputSection, Insn, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from .operands import check_base_register, convert, kind_of, matches
from .source import parse_source
from .symbols import NowEnv, Symbol

# Flags and type GNU as gives a section from its name alone (bfd/elf.c special_sections:
# ".text" also covers ".text.*", and so on).
_CODE, _RO, _RW = SHF_ALLOC | SHF_EXECINSTR, SHF_ALLOC, SHF_ALLOC | SHF_WRITE
_DEFAULTS = ((".text", _CODE, False), (".init", _CODE, False), (".fini", _CODE, False),
             (".rodata", _RO, False), (".srodata", _RO, False), (".data", _RW, False),
             (".sdata", _RW, False), (".bss", _RW, True), (".sbss", _RW, True))


def default_flags(name):
    """(flags, nobits) for a section named without flags; unknown names are not allocated."""
    for prefix, flags, nobits in _DEFAULTS:
        if name == prefix or name.startswith(prefix + "."):
            return flags, nobits
    return 0, False


class FileAssembler:
    """One source file.  The instruction forms and directives call back into it."""

    def __init__(self, program, filename, text):
        self.program, self.filename, self.text = program, filename, text
        self.sections = {}
        self.symbols = {}
        self.local_counts = {}
        self.section_stack = []
        self.now_env = NowEnv(self)
        for name in (".text", ".data", ".bss"):      # GNU as creates these three first
            self.section(name)
        self.cur = self.previous = self.sections[".text"]

    # --- sections --------------------------------------------------------------------------
    def section(self, name, flags=None, nobits=None):
        sec = self.sections.get(name)
        if sec is None:
            dflags, dnobits = default_flags(name)
            sec = InputSection(name, dflags if flags is None else flags,
                               dnobits if nobits is None else nobits, self.filename)
            self.sections[name] = sec
        return sec

    def switch(self, sec):
        self.previous, self.cur = self.cur, sec

    # --- reading ---------------------------------------------------------------------------
    def run(self):
        for stmt in parse_source(self.text, self.filename):
            for name, loc in stmt.labels:
                self.define_label(name, loc)
            if not stmt.name:
                continue
            if stmt.name == "=":
                directives.assign(self, stmt.operands[0], stmt.operands[1])
            elif stmt.name.startswith("."):
                directives.handle(self, stmt)
            else:
                self.instruction(stmt)
        for sec in self.sections.values():
            # GNU as pads the end of a code section to its alignment with nops
            # (gas/write.c SUB_SEGMENT_ALIGN with HANDLE_ALIGN)
            if sec.is_code and sec.align > 1:
                sec.add_var(Align(sec.align, None, 0, True))

    def instruction(self, stmt):
        forms = FORMS.get(stmt.name)
        if forms is None:
            close = difflib.get_close_matches(stmt.name, FORMS, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else "not an RV32IMA/Zicsr/Zifencei instruction")
            raise stmt.loc.error(f"unknown instruction '{stmt.name}'", hint=hint)
        if self.cur.nobits:
            raise stmt.loc.error(f"instruction in section {self.cur.name}, which holds no data",
                                 hint="switch to .text first")
        texts = [t for t, _ in stmt.operands]
        kinds = [kind_of(t) for t in texts]
        for text, loc in stmt.operands:
            check_base_register(text, loc)
        for pattern, _usage, build in forms:
            if matches(pattern, kinds, texts):
                ops = [convert(k, t, loc, self) for k, (t, loc) in zip(pattern, stmt.operands)]
                build(self, stmt.loc, *ops)
                return
        usages = " | ".join(f"{stmt.name} {u}".strip() for _p, u, _b in forms)
        raise stmt.loc.error(f"invalid operands for '{stmt.name}'", stmt.text,
                             hint=f"expected {usages}")

    # --- symbols ---------------------------------------------------------------------------
    def symbol(self, name, loc=None):
        sym = self.symbols.get(name)
        if sym is None:
            sym = self.symbols[name] = Symbol(name, self, loc)
        return sym

    def define_label(self, name, loc):
        if name.isdigit():
            count = self.local_counts.get(int(name), 0) + 1
            self.local_counts[int(name)] = count
            name_in = f"{int(name)}\x02{count}"
        else:
            name_in = name
        sym = self.symbol(name_in, loc)
        if sym.defined:
            raise loc.error(f"symbol '{name}' is already defined",
                            hint=f"first defined at line {sym.loc.line}")
        sym.kind, sym.loc, sym.shown = "label", loc, name
        sym.frag, sym.offset = self.cur.frag, self.cur.frag.size

    def symbol_ref(self, name, col):
        sym = self.symbols.get(name)
        if sym is not None and sym.kind == "equ":
            return sym.node
        return Sym(name, col)

    def local_label(self, number, direction):
        """Internal name of `Nb` (latest definition so far) or `Nf` (the next one)."""
        count = self.local_counts.get(number, 0)
        return f"{number}\x02{count + (direction == 'f')}"

    def here(self):
        return Here(self.cur.frag, self.cur.frag.size)

    # --- values known now ------------------------------------------------------------------
    def value_now(self, imm):
        """The constant value of an Imm if it is known at this point, else None."""
        if imm.kind:
            return None
        self.now_env.loc = imm.loc
        try:
            value = evaluate(imm.node, self.now_env)
            return self.now_env.absolute(value)
        except NotConstant:
            return None

    def constant_now(self, imm, message, hint=""):
        self.plain(imm)
        value = self.value_now(imm)
        if value is None:
            raise imm.loc.error(message, hint=hint)
        return value

    def expr_now(self, text, loc, message):
        """Parse and evaluate a directive argument that must be constant here."""
        hint = ("only numbers, .equ symbols defined above, and distances between labels with "
                "no alignment or branch between them are known here")
        return self.constant_now(Imm(parse_expression(text, loc, self), loc), message, hint)

    def plain(self, imm):
        if imm.kind:
            raise imm.loc.error(f"%{imm.kind}(...) is not allowed here")

    # --- emitting --------------------------------------------------------------------------
    def emit(self, mnemonic, loc, **fields):
        self.cur.add(Insn(BY_MNEMONIC[mnemonic], fields, loc, self.here()), 4)

    def emit_branch(self, mnemonic, loc, rs1, rs2, target):
        self.plain(target)
        fields = {"rs1": rs1, "rs2": rs2, "imm_b": target}
        insn = Insn(BY_MNEMONIC[mnemonic], fields, loc, self.here())
        self.cur.add_var(Branch(insn, target))

    def align(self, sec, power_bytes):
        """Record an alignment requirement (GNU as record_alignment)."""
        sec.align = max(sec.align, power_bytes)
