"""Assembling a whole program: read every file, link the globals, lay out, encode, write ELF.

This does in one step what `riscv64-unknown-elf-as` per file followed by `riscv64-unknown-elf-ld
--no-relax` does, with the section placement described in layout.py.
"""
from dataclasses import dataclass, field

from .assembler import FileAssembler
from .elf import ElfSection, ElfSymbol, STB_GLOBAL, STB_LOCAL, STB_WEAK, file_symbol, write_elf
from .encode import Encoder, collect_pcrel_hi
from .errors import AsmError, AsmErrors
from .expr import Value, evaluate
from .layout import place, relax
from .march import DEFAULT_MARCH, parse_march
from .symbols import FinalEnv

DEFAULT_BASE = 0x80400000
EF_RISCV_RVC = 0x1          # RISC-V ELF psABI, "e_flags": the image uses compressed code


@dataclass
class Program:
    base: int = DEFAULT_BASE
    units: list = field(default_factory=list)
    globals: dict = field(default_factory=dict)
    pcrel_hi: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)
    entry: int = 0
    errors: list = field(default_factory=list)

    def report(self, exc):
        """Record an error and go on, so one run reports every error, as GNU as does."""
        for e in exc.errors:
            if not any((e.filename, e.line, e.col, e.message) ==
                       (o.filename, o.line, o.col, o.message) for o in self.errors[-50:]):
                self.errors.append(e)

    def check(self):
        """Raise the errors found, in file and line order."""
        if not self.errors:
            return
        order = {u.filename: i for i, u in enumerate(self.units)}
        errors = sorted(self.errors, key=lambda e: (order.get(e.filename, -1), e.line, e.col))
        if len(errors) == 1:
            raise errors[0].with_traceback(None)
        raise AsmErrors(errors)

    @property
    def rvc(self):
        return any(u.used_rvc for u in self.units)


def _link_globals(program):
    for unit in program.units:
        for sym in unit.symbols.values():
            if not (sym.is_global and sym.defined):
                continue
            other = program.globals.get(sym.name)
            if other is not None and not other.weak and not sym.weak:
                program.report(sym.loc.error(
                    f"multiple definition of '{sym.name}'",
                    hint=f"first defined in {other.loc.filename}:{other.loc.line}"))
                continue
            if other is None or other.weak:
                program.globals[sym.name] = sym


def _keep(sym):
    """Symbols GNU as leaves out of the object: .L labels and numeric local labels."""
    return sym.defined and not sym.name.startswith(".L") and "\x02" not in sym.name


def _elf_symbols(program, sections_of):
    out = []
    for unit in program.units:
        env = FinalEnv(unit, program)
        out.append(file_symbol(unit.filename))
        for sym in unit.symbols.values():
            if not _keep(sym):
                continue
            env.loc = sym.loc
            if sym.kind == "equ":
                value = evaluate(sym.node, env)
            else:
                value = Value(sym.frag.section, sym.frag.start + sym.offset)
            section = sections_of.get(id(value.anchor.output)) if value.anchor is not None else None
            size = 0
            if sym.size is not None:
                env.loc = sym.size.loc
                size = env.absolute(evaluate(sym.size.node, env))
            bind = (STB_WEAK if sym.weak else STB_GLOBAL) if sym.is_global else STB_LOCAL
            out.append(ElfSymbol(sym.shown, env.absolute(value), size, bind, sym.type, section))
    return out


def _entry(program):
    start = program.globals.get("_start")
    if start is None:
        start = next((u.symbols["_start"] for u in program.units
                      if "_start" in u.symbols and u.symbols["_start"].kind == "label"), None)
    if start is not None:
        return start.frag.section.addr + start.frag.start + start.offset
    text = next((o for o in program.outputs if o.name == ".text"), None)
    return text.addr if text else program.base


def build(sources, base=DEFAULT_BASE, march=DEFAULT_MARCH):
    """Assemble [(filename, text)] into a Program with every section's bytes in `sec.data`.
    Errors are collected through every pass and raised together (AsmErrors) at the end."""
    program = Program(base)
    exts = parse_march(march)
    for filename, text in sources:
        unit = FileAssembler(program, filename, text, exts)
        unit.run()
        program.units.append(unit)
    _link_globals(program)
    for unit in program.units:
        relax(unit)
    program.outputs = place(program.units, base)
    _check_base(program)
    for unit in program.units:
        collect_pcrel_hi(unit, program)
    for unit in program.units:
        encoder = Encoder(unit, program)
        for sec in unit.sections.values():
            sec.data = b"" if sec.nobits else encoder.section_bytes(sec)
    program.check()
    program.entry = _entry(program)
    return program


def _check_base(program):
    """The first section must start at --base: rounding it up silently would move the
    image away from where the user asked for it."""
    first = next((o for o in program.outputs if o.flags & 0x2 and o.size), None)
    if first is not None and first.addr != program.base:
        raise AsmError(f"base address {program.base:#x} is not aligned: {first.name} needs "
                       f"{first.align}-byte alignment (e.g. --base {first.addr:#x})",
                       first.inputs[0].filename)


def _output_bytes(out):
    if out.nobits:
        return b""
    data = bytearray(out.size)
    for sec in out.inputs:
        start = sec.addr - out.addr
        data[start:start + len(sec.data)] = sec.data
    return bytes(data)


def link(program):
    """The ELF image of a built Program."""
    sections, sections_of = [], {}
    for out in program.outputs:
        has_symbols = any(s.frag.section in out.inputs for u in program.units
                          for s in u.symbols.values() if s.kind == "label" and _keep(s))
        if out.size == 0 and not has_symbols:
            continue
        es = ElfSection(out.name, out.flags, out.nobits, out.addr, out.align,
                        _output_bytes(out), out.size)
        sections.append(es)
        sections_of[id(out)] = es
    flags = EF_RISCV_RVC if program.rvc else 0
    return write_elf(sections, _elf_symbols(program, sections_of), program.entry, flags)
