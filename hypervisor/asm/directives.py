"""Assembler directives (GAS manual, "Assembler Directives", and the RISC-V specific ones in
"RISC-V Dependent Features").  Each handler takes the file being assembled and a statement."""
import re

from .expr import char_value, parse_expression
from .items import Align, Bytes, Data, FLAG_LETTERS, Imm
from .march import MarchError, parse_march, update_march
from .operands import immediate

_NAME = re.compile(r"^[A-Za-z_.$][\w.$]*$")
_STRING_ESCAPE = re.compile(r"\\(?:[0-7]{1,3}|x[0-9a-fA-F]+|.)|[^\\]", re.S)
MAX_ALIGN_POWER = 16
MAX_FILL = 64 << 20        # one directive reserves at most 64 MiB (hvlab's default guest RAM)


def _args(stmt, least, most=None):
    ops = stmt.operands
    most = least if most is None else most
    if not least <= len(ops) <= most:
        want = str(least) if least == most else f"{least} to {most}"
        plural = "s" if most != 1 else ""
        raise stmt.loc.error(f"{stmt.name} takes {want} operand{plural}, got {len(ops)}", stmt.text)
    return ops


def _name(text, loc):
    if not _NAME.match(text):
        raise loc.error("expected a symbol name", text)
    return text


def _string(text, loc):
    """The bytes of one "quoted string" with C escapes (GAS "Strings")."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise loc.error("expected a \"quoted string\"", text)
    return bytes(char_value(m.group()) for m in _STRING_ESCAPE.finditer(text[1:-1]))


def _need_data(unit, stmt):
    if unit.cur.nobits:
        raise stmt.loc.error(f"{stmt.name} puts data in {unit.cur.name}, which holds no data",
                             hint="use .space or .zero in .bss")


# --- sections ------------------------------------------------------------------------------

def _section(unit, stmt):
    ops = _args(stmt, 1, 4)
    name = ops[0][0]
    flags = nobits = None
    if len(ops) > 1:
        letters = ops[1][0].strip('"')
        flags = 0
        for letter in letters:
            if letter in FLAG_LETTERS:
                flags |= FLAG_LETTERS[letter]
            elif letter not in "MSGTRoy?":
                raise ops[1][1].error(f"unknown section flag '{letter}'", hint="use a, w and x")
    if len(ops) > 2:
        kind = ops[2][0].lstrip("@%")
        if kind not in ("progbits", "nobits"):
            raise ops[2][1].error(f"unsupported section type '{ops[2][0]}'",
                                  hint="@progbits or @nobits")
        nobits = kind == "nobits"
    sec = unit.section(name, flags, nobits)
    if stmt.name == ".pushsection":      # obj-elf.c: the stack keeps current and previous
        unit.section_stack.append((unit.cur, unit.previous))
    unit.switch(sec)


def _named_section(name):
    def handler(unit, stmt):
        ops = _args(stmt, 0, 1)
        if ops and ops[0][0] != "0":
            raise ops[0][1].error("subsections are not supported", ops[0][0],
                                  hint=f"use another section, e.g. .section {name}.more")
        unit.switch(unit.section(name))
    return handler


def _popsection(unit, stmt):
    if not unit.section_stack:
        raise stmt.loc.error(".popsection without .pushsection")
    unit.cur, unit.previous = unit.section_stack.pop()


def _previous(unit, stmt):
    unit.switch(unit.previous)


# --- data ----------------------------------------------------------------------------------

def _data(size):
    def handler(unit, stmt):
        _need_data(unit, stmt)
        for text, loc in stmt.operands:
            imm = immediate(text, loc, unit)
            unit.plain(imm)
            unit.cur.add(Data(size, imm.node, loc, unit.here()), size)
    return handler


def _ascii(zero):
    def handler(unit, stmt):
        _need_data(unit, stmt)
        for text, loc in stmt.operands:
            unit.cur.add(Bytes(_string(text, loc) + (b"\0" if zero else b"")),
                         len(_string(text, loc)) + zero)
    return handler


def _space(unit, stmt):
    ops = _args(stmt, 1, 2)
    count = unit.expr_now(*ops[0], f"{stmt.name} needs a constant size")
    fill = unit.expr_now(*ops[1], "fill value must be constant") if len(ops) > 1 else 0
    _check_size(count, ops[0], stmt.name)
    if fill and unit.cur.nobits:
        _need_data(unit, stmt)
    unit.cur.add(Bytes(bytes([fill & 0xFF]) * count), count)


def _check_size(count, op, name):
    if not 0 <= count <= MAX_FILL:
        raise op[1].error(f"{name} size {count} out of range", op[0],
                          hint=f"0..{MAX_FILL:#x} bytes")


def _fill(unit, stmt):
    ops = _args(stmt, 1, 3)
    repeat = unit.expr_now(*ops[0], ".fill needs a constant repeat count")
    size = unit.expr_now(*ops[1], ".fill size must be constant") if len(ops) > 1 else 1
    value = unit.expr_now(*ops[2], ".fill value must be constant") if len(ops) > 2 else 0
    _check_size(repeat, ops[0], ".fill")
    if not 0 <= size <= 8:
        raise ops[1][1].error(".fill size out of range", ops[1][0], hint="0..8 bytes")
    # GAS: a value wider than 4 bytes has zero upper bytes
    one = (value & 0xFFFFFFFF).to_bytes(8, "little")[:size]
    if value and unit.cur.nobits:
        _need_data(unit, stmt)
    unit.cur.add(Bytes(one * repeat), size * repeat)


def _align(kind):
    """.align/.p2align take a power of two; .balign takes bytes (on RISC-V .align is p2)."""
    def handler(unit, stmt):
        ops = _args(stmt, 1, 3)
        n = unit.expr_now(*ops[0], "alignment must be constant")
        if kind == "bytes":
            if n <= 0 or n & (n - 1):
                raise ops[0][1].error("alignment is not a power of 2", ops[0][0])
            n = n.bit_length() - 1
        if not 0 <= n <= MAX_ALIGN_POWER:
            raise ops[0][1].error("alignment out of range", ops[0][0],
                                  hint=f"0..{MAX_ALIGN_POWER} (as a power of two)")
        fill = None
        if len(ops) > 1 and ops[1][0]:
            fill = unit.expr_now(*ops[1], "fill value must be constant") & 0xFF
        max_skip = unit.expr_now(*ops[2], "maximum must be constant") if len(ops) > 2 else 0
        sec = unit.cur
        code = sec.is_code and fill is None
        # GNU as (tc-riscv.c riscv_frag_align_code): in code, aligning to the instruction
        # size or less (4 bytes; 2 with RVC) emits nothing; the alignment is still recorded
        if n and not (code and n <= (1 if unit.rvc else 2)):
            sec.add_var(Align(1 << n, fill, max_skip, code))
        if n:
            unit.align(sec, 1 << n)
    return handler


# --- symbols -------------------------------------------------------------------------------

def assign(unit, name_op, value_op):
    """`name = expr`, `.equ name, expr`, `.set name, expr`."""
    name = _name(*name_op)
    node = parse_expression(value_op[0], value_op[1], unit)
    sym = unit.symbol(name, name_op[1])
    if sym.kind == "label":
        raise name_op[1].error(f"symbol '{name}' is already defined as a label",
                               hint=f"at line {sym.loc.line}")
    sym.kind, sym.node, sym.loc = "equ", node, name_op[1]


def _equ(unit, stmt):
    ops = _args(stmt, 2)
    if stmt.name == ".equiv":
        sym = unit.symbols.get(ops[0][0])
        if sym is not None and sym.defined:
            raise ops[0][1].error(f"symbol '{ops[0][0]}' is already defined")
    assign(unit, ops[0], ops[1])


def _binding(kind):
    def handler(unit, stmt):
        for text, loc in stmt.operands:
            sym = unit.symbol(_name(text, loc), loc)
            sym.is_global = kind != "local"
            sym.weak = kind == "weak"
    return handler


_TYPES = {"function": 2, "object": 1, "notype": 0}


def _type(unit, stmt):
    ops = _args(stmt, 2)
    kind = ops[1][0].lstrip("@%").lower().replace("stt_", "")
    if kind not in _TYPES:
        raise ops[1][1].error(f"unknown symbol type '{ops[1][0]}'", hint="@function or @object")
    unit.symbol(_name(*ops[0]), ops[0][1]).type = _TYPES[kind]


def _size(unit, stmt):
    ops = _args(stmt, 2)
    size = Imm(parse_expression(ops[1][0], ops[1][1], unit), ops[1][1])
    unit.symbol(_name(*ops[0]), ops[0][1]).size = size


# --- .option -------------------------------------------------------------------------------

def _option(unit, stmt):
    """.option (GAS manual "RISC-V Directives"): rvc/norvc switch compression on and off (as
    `.option arch, +c/-c` do), push/pop save and restore them; relax, norelax, nopic and
    csr-check change nothing here (we never relax and never check CSR privilege)."""
    ops = stmt.operands
    if not ops or (len(ops) > 1 and ops[0][0] != "arch"):
        _args(stmt, 1)
    word, loc = ops[0]
    if word == "rvc":
        unit.set_exts(unit.exts | {"c"})
    elif word == "norvc":
        unit.set_exts(unit.exts - {"c"})
    elif word == "push":
        unit.option_stack.append(unit.exts)
    elif word == "pop":
        if not unit.option_stack:
            raise loc.error(".option pop without .option push")
        unit.set_exts(unit.option_stack.pop())
    elif word == "arch":
        if len(ops) < 2:
            raise loc.error(".option arch needs +ext, -ext or an ISA string",
                            hint="e.g. .option arch, +c")
        try:
            unit.set_exts(update_march(unit.exts, ", ".join(t for t, _ in ops[1:])))
        except MarchError as exc:
            raise ops[1][1].error(str(exc)) from None
    elif word == "pic":
        raise loc.error("position-independent code is not supported", word,
                        hint="la is always auipc+addi")
    elif word not in ("relax", "norelax", "nopic", "csr-check", "no-csr-check"):
        raise loc.error(f"unknown .option '{word}'",
                        hint="rvc, norvc, arch, push, pop, relax, norelax, pic, nopic")


def _attribute(unit, stmt):
    """.attribute (RISC-V ELF psABI "Attributes"): `arch` sets the extensions in force, as
    GNU as 2.40 does (so GCC's `.attribute arch, "rv32i2p1_m2p0_a2p1_c2p0..."` decides
    compression); the other tags are about the object file and ignored."""
    ops = _args(stmt, 2)
    if ops[0][0] not in ("arch", "Tag_RISCV_arch", "5"):
        return
    if unit.seen_instruction:
        raise stmt.loc.error("the arch attribute must be set before any instructions")
    try:
        unit.set_exts(parse_march(_string(*ops[1]).decode()))
    except MarchError as exc:
        raise ops[1][1].error(str(exc)) from None


def _ignore(unit, stmt):
    """.file, .ident, .attribute and friends: about the object file, nothing to place."""


HANDLERS = {
    ".text": _named_section(".text"), ".data": _named_section(".data"),
    ".rodata": _named_section(".rodata"), ".bss": _named_section(".bss"),
    ".section": _section, ".pushsection": _section, ".popsection": _popsection,
    ".previous": _previous,
    ".byte": _data(1), ".half": _data(2), ".short": _data(2), ".2byte": _data(2),
    ".word": _data(4), ".long": _data(4), ".4byte": _data(4),
    ".dword": _data(8), ".quad": _data(8), ".8byte": _data(8),
    ".ascii": _ascii(False), ".asciz": _ascii(True), ".string": _ascii(True),
    ".space": _space, ".skip": _space, ".zero": _space, ".fill": _fill,
    ".align": _align("p2"), ".p2align": _align("p2"), ".balign": _align("bytes"),
    ".equ": _equ, ".set": _equ, ".equiv": _equ,
    ".globl": _binding("global"), ".global": _binding("global"), ".local": _binding("local"),
    ".weak": _binding("weak"),
    ".type": _type, ".size": _size, ".option": _option,
    ".file": _ignore, ".ident": _ignore, ".attribute": _attribute, ".loc": _ignore,
    ".cfi_startproc": _ignore, ".cfi_endproc": _ignore,
}


def handle(unit, stmt):
    handler = HANDLERS.get(stmt.name)
    if handler is None:
        import difflib
        close = difflib.get_close_matches(stmt.name, HANDLERS, n=1)
        raise stmt.loc.error(f"unknown directive '{stmt.name}'",
                             hint=f"did you mean '{close[0]}'?" if close
                             else "see docs/assembly.md")
    if stmt.name == ".zero" and len(stmt.operands) > 1:
        raise stmt.loc.error(".zero takes 1 operand", stmt.text)
    handler(unit, stmt)
