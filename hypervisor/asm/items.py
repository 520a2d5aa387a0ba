"""What a section is made of, before layout: fragments of fixed-size items.

Modelled on GNU as (gas/frags.c): a section is a chain of fragments; each has a fixed part
whose size is known when the statement is read, and may end in one *variable* part whose size
depends on addresses (an alignment, or a conditional branch that may need the long form).
Two labels in the same fragment are a known distance apart as soon as both are read; that is
when GNU as (and we) can use `end - start` as a constant, e.g. in `li`.
"""
from dataclasses import dataclass, field

# section flags as in ELF (gABI "Section Attribute Flags"); letters as in `.section name,"awx"`
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
FLAG_LETTERS = {"w": SHF_WRITE, "a": SHF_ALLOC, "x": SHF_EXECINSTR}


class Frag:
    __slots__ = ("section", "items", "size", "var", "start")

    def __init__(self, section):
        self.section, self.items, self.size, self.var, self.start = section, [], 0, None, 0


class InputSection:
    """One section of one source file (GNU as would write it into that file's .o)."""

    def __init__(self, name, flags, nobits, filename):
        self.name, self.flags, self.nobits, self.filename = name, flags, nobits, filename
        # GNU as gives .text 4-byte alignment from the start (tc-riscv.c md_begin); other
        # sections start at 1 and grow with .align
        self.align = 4 if name == ".text" else 1
        self.frags = [Frag(self)]
        self.size = 0          # set by layout
        self.addr = 0          # set by placement
        self.output = None     # the OutputSection it is placed in

    @property
    def frag(self):
        return self.frags[-1]

    @property
    def is_code(self):
        return bool(self.flags & SHF_EXECINSTR)

    def add(self, item, size):
        """Append a fixed-size item; returns the (frag, offset) it starts at."""
        frag = self.frag
        where = (frag, frag.size)
        frag.items.append((frag.size, item))
        frag.size += size
        return where

    def add_var(self, var):
        """End the current fragment with a variable-size part and start a new fragment."""
        frag = self.frag
        frag.var = var
        var.frag = frag
        self.frags.append(Frag(self))

    def __repr__(self):
        return f"<{self.filename}:{self.name}>"


@dataclass
class Imm:
    """An immediate operand: an expression, how to turn its value into the field
    (kind: None, 'hi', 'lo', 'pcrel_hi', 'pcrel_lo', 'pcrel_lo_of'), and where it was written.
    For 'pcrel_lo_of' (from la/call/tail/lw sym), `anchor` is the Here of the auipc."""
    node: object
    loc: object
    kind: str = None
    anchor: object = None


@dataclass
class Insn:
    """One real instruction: its table entry, register fields and immediate fields."""
    insn: object                     # isa.instructions.Instruction
    fields: dict                     # field name -> int (registers, pred/succ) or Imm
    loc: object
    here: object = None              # Here of this instruction (its pc)


@dataclass
class Data:
    """A `.word`/`.half`/`.byte` value of `size` bytes."""
    size: int
    node: object
    loc: object
    here: object = None


@dataclass
class Bytes:
    data: bytes


@dataclass
class Align:
    """Pad to a multiple of `align` bytes, with `fill` (None: nops in code, zeros in data),
    skipping the padding when it would be more than `max_skip` bytes (0: no limit)."""
    align: int
    fill: int | None
    max_skip: int
    code: bool
    size: int = 0
    frag: object = None

    def compute(self, offset):
        pad = -offset % self.align
        self.size = 0 if self.max_skip and pad > self.max_skip else pad
        return self.size


@dataclass
class Branch:
    """A branch or jump whose size depends on where its target ends up, as GNU as relaxes
    it (tc-riscv.c relaxed_branch_length, md_convert_frag_branch):

      conditional branch   4 bytes if the target is in the same section and within
                           +-4 KiB, else 8 (the opposite branch over a `jal x0, target`);
      jal                  always 4 (GNU "assumes jumps are in range": the linker checks);
      with a 16-bit form   (`short`: c.beqz/c.bnez, c.j/c.jal, under RVC) 2 bytes if the
                           target is within +-256 bytes (branch) or +-2 KiB (jump); else
                           as above, except a far branch in the same section is 6 bytes:
                           the opposite c.beqz/c.bnez over a 4-byte `jal x0`.
    `insn` is the 32-bit form; the target must be a defined, non-weak symbol of the same
    section for anything but the longest form."""
    insn: Insn
    target: Imm
    jump: bool = False
    short: Insn = None
    size: int = 0
    frag: object = None

    def __post_init__(self):
        self.size = 2 if self.short is not None else 4


def nop_fill(count):
    """Code padding as GNU as makes it without relaxation (tc-riscv.c riscv_handle_align and
    riscv_make_nops): a zero byte if the count is odd, one 2-byte c.nop if needed, then
    4-byte `nop`s (addi x0, x0, 0 = 0x00000013)."""
    out = bytearray()
    excess = count % 4
    if excess % 2:
        out += b"\x00"
    if excess >= 2:
        out += b"\x01\x00"            # c.nop = 0x0001
    out += b"\x13\x00\x00\x00" * (count // 4)
    return bytes(out)
