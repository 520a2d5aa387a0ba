"""Reading one source file: statements become items in sections, labels become symbols.

This is GNU as's first pass.  Sizes are fixed here except for alignments and conditional
branches (see items.py); everything that needs addresses waits for encode.py.
"""
import difflib

from ..isa.instructions import BY_MNEMONIC
from . import compress, directives
from .errors import AsmError
from .expr import Here, NotConstant, Sym, evaluate, parse_expression
from .forms import FORMS
from .items import Align, Branch, Imm, InputSection, Insn, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from .march import hint_for, required
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
    """One source file.  The instruction forms and directives call back into it.

    `exts` is the set of ISA extensions in force (from -march, changed by `.option rvc`,
    `.option arch` ...); with "c" in it, instructions are compressed as GNU as does."""

    def __init__(self, program, filename, text, exts=frozenset({"i", "m", "a", "zicsr",
                                                               "zifencei"})):
        self.program, self.filename, self.text = program, filename, text
        self.exts = exts
        self.option_stack = []
        self.seen_instruction = False   # `.attribute arch` must come before any instruction
        self.used_rvc = self.rvc        # the ELF's EF_RISCV_RVC flag (tc-riscv.c riscv_set_rvc)
        self.sections = {}
        self.symbols = {}
        self.local_counts = {}
        self.section_stack = []
        self.now_env = NowEnv(self)
        for name in (".text", ".data", ".bss"):      # GNU as creates these three first
            self.section(name)
        # GNU as aligns .text to the instruction size of the -march it starts with
        # (tc-riscv.c md_begin); a later `.option rvc` does not change it
        self.sections[".text"].align = 2 if self.rvc else 4
        self.cur = self.previous = self.sections[".text"]

    @property
    def rvc(self):
        return "c" in self.exts

    def set_exts(self, exts):
        self.exts = exts
        self.used_rvc |= self.rvc

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
        """Read every statement; an error in one is recorded and reading goes on."""
        report = self.program.report
        for stmt in parse_source(self.text, self.filename, report):
            try:
                self.statement(stmt)
            except AsmError as exc:
                report(exc)
        for sec in self.sections.values():
            # GNU as pads the end of a code section to its alignment with nops
            # (gas/write.c SUB_SEGMENT_ALIGN with HANDLE_ALIGN)
            if sec.is_code and sec.align > 1:
                sec.add_var(Align(sec.align, None, 0, True))

    def statement(self, stmt):
        for name, loc in stmt.labels:
            self.define_label(name, loc)
        if not stmt.name:
            return
        if stmt.name == "=":
            directives.assign(self, stmt.operands[0], stmt.operands[1])
        elif stmt.name.startswith("."):
            directives.handle(self, stmt)
        else:
            self.instruction(stmt)

    def instruction(self, stmt):
        self.seen_instruction = True
        forms = FORMS.get(stmt.name)
        explicit = compress.EXPLICIT.get(stmt.name)
        if forms is None and explicit is None:
            known = list(FORMS) + list(compress.EXPLICIT)
            close = difflib.get_close_matches(stmt.name, known, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else "not an RV32IMAC/Zicsr/Zifencei instruction")
            raise stmt.loc.error(f"unknown instruction '{stmt.name}'", hint=hint)
        if self.cur.nobits:
            raise stmt.loc.error(f"instruction in section {self.cur.name}, which holds no data",
                                 hint="switch to .text first")
        need = required(stmt.name)
        if need and not need[0](self.exts):
            raise stmt.loc.error(f"'{stmt.name}' needs extension {need[1]}, which is not enabled",
                                 hint=hint_for(stmt.name))
        if self.rvc and self.compressed(stmt, explicit or compress.ALTERNATIVES.get(stmt.name)):
            return
        if explicit:
            raise stmt.loc.error(f"invalid operands for '{stmt.name}'", stmt.text,
                                 hint=f"expected {compress.USAGE[stmt.name]}")
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

    def compressed(self, stmt, forms):
        """Emit the 16-bit alternative GNU as would choose, if one fits; True if emitted."""
        if not forms:
            return False
        for text, loc in stmt.operands:
            check_base_register(text, loc)
        found = compress.match(self, forms, stmt.operands)
        if found is None:
            return False
        insn, fields = found
        target = fields.pop("target", None)
        if target is None:
            self.cur.add(Insn(insn, fields, stmt.loc, self.here()), 2)
        else:
            self.emit_relaxable(insn, fields, target, stmt.loc)
        return True

    def emit_compressible(self, mnemonic, loc, operands, **fields):
        """A 32-bit instruction that an expansion writes out as text for GNU as to read
        again (load_const's md_assemblef for `li`), so it is compressed like a source line."""
        if self.rvc:
            found = compress.match(self, compress.ALTERNATIVES[mnemonic],
                                   [(text, loc) for text in operands])
            if found is not None:
                self.cur.add(Insn(found[0], found[1], loc, self.here()), 2)
                return
        self.emit(mnemonic, loc, **fields)

    def emit_relaxable(self, c_insn, fields, target, loc):
        """c.beqz/c.bnez/c.j/c.jal: 2, 4, 6 or 8 bytes once addresses are known."""
        name = c_insn.mnemonic
        long_name, long_fields = {
            "c.beqz": ("beq", {"rs1": fields.get("rs1p"), "rs2": 0, "imm_b": target}),
            "c.bnez": ("bne", {"rs1": fields.get("rs1p"), "rs2": 0, "imm_b": target}),
            "c.j": ("jal", {"rd": 0, "imm_j": target}),
            "c.jal": ("jal", {"rd": 1, "imm_j": target}),
        }[name]
        here = self.here()
        insn = Insn(BY_MNEMONIC[long_name], long_fields, loc, here)
        short = Insn(c_insn, dict(fields, **{c_insn.fields[-1]: target}), loc, here)
        self.cur.add_var(Branch(insn, target, jump=name in ("c.j", "c.jal"), short=short))

    def emit_branch(self, mnemonic, loc, rs1, rs2, target):
        self.plain(target)
        fields = {"rs1": rs1, "rs2": rs2, "imm_b": target}
        insn = Insn(BY_MNEMONIC[mnemonic], fields, loc, self.here())
        self.cur.add_var(Branch(insn, target))

    def emit_jump(self, loc, rd, target):
        """jal: GNU as gives every jal its own fragment (a relaxable jump that stays 4
        bytes), so a label difference across one is not a constant while reading."""
        self.plain(target)
        insn = Insn(BY_MNEMONIC["jal"], {"rd": rd, "imm_j": target}, loc, self.here())
        self.cur.add_var(Branch(insn, target, jump=True))

    def align(self, sec, power_bytes):
        """Record an alignment requirement (GNU as record_alignment)."""
        sec.align = max(sec.align, power_bytes)
