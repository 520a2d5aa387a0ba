"""The second pass: with every address known, turn items into bytes.

Immediate fields are computed as the GNU linker would resolve the relocations GNU as emits
(RISC-V ELF psABI, "Relocations"): %hi/%lo are R_RISCV_HI20/LO12, %pcrel_hi/%pcrel_lo are
R_RISCV_PCREL_HI20/PCREL_LO12 (the low part uses the value computed at its auipc), branch and
jal targets are R_RISCV_BRANCH/JAL.  hi20 rounds so that hi20<<12 + sext(lo12) is the value.
"""
from ..isa.instructions import encode as encode_insn
from .errors import AsmError
from .expr import evaluate
from .forms import sext12
from .items import Align, Branch, Data, Insn, nop_fill
from .symbols import FinalEnv

LOW_KINDS = (None, "lo", "pcrel_lo", "pcrel_lo_of")
HIGH_KINDS = (None, "hi", "pcrel_hi")
RANGES = {"shamt": (0, 31, "shift amount"), "uimm": (0, 31, "CSR immediate"),
          "csr": (0, 4095, "CSR number")}


def hi20(value):
    return ((value + 0x800) >> 12) & 0xFFFFF


class Encoder:
    def __init__(self, unit, program):
        self.env = FinalEnv(unit, program)
        self.pcrel_hi = program.pcrel_hi        # auipc address -> value its %pcrel_hi took
        self.report = program.report

    # --- values ----------------------------------------------------------------------------
    def value(self, node, loc):
        return self.env.address(node, loc)

    def constant(self, imm, what):
        self.env.loc = imm.loc
        value = evaluate(imm.node, self.env)
        if value.anchor is not None:
            raise imm.loc.error(f"{what} must be a constant, not an address",
                                hint="use %lo(symbol) / %hi(symbol) or la for addresses")
        return value.offset

    def low12(self, imm, insn):
        if imm.kind not in LOW_KINDS:
            raise imm.loc.error(
                f"%{imm.kind} is not allowed in the 12-bit immediate of {insn.mnemonic}",
                hint="use %lo or %pcrel_lo")
        if imm.kind is None:
            v = self.constant(imm, "the immediate")
            if 0 <= v <= 0xFFFFFFFF:           # GAS normalize_constant_expr: 32-bit patterns
                v = (v ^ 0x80000000) - 0x80000000
            if not -2048 <= v <= 2047:
                raise imm.loc.error(f"immediate {v} out of range for {insn.mnemonic}",
                                    hint="-2048..2047")
            return v
        if imm.kind == "lo":
            return sext12(self.value(imm.node, imm.loc))
        if imm.kind == "pcrel_lo_of":
            return sext12(self.value(imm.node, imm.loc) - self.value(imm.anchor, imm.loc))
        label = self.value(imm.node, imm.loc)           # %pcrel_lo(label): label is the auipc
        if label not in self.pcrel_hi:
            raise imm.loc.error("%pcrel_lo needs the label of an auipc with %pcrel_hi",
                                hint=f"no %pcrel_hi at {label:#x}")
        return sext12(self.pcrel_hi[label])

    def high20(self, imm, insn, pc):
        if imm.kind not in HIGH_KINDS:
            raise imm.loc.error(f"%{imm.kind} is not allowed in {insn.mnemonic}",
                                hint="use %hi or %pcrel_hi")
        if imm.kind is None:
            v = self.constant(imm, "the immediate")
            if not 0 <= v <= 0xFFFFF:
                raise imm.loc.error(f"immediate {v:#x} out of range for {insn.mnemonic}",
                                    hint="0..0xfffff")
            return v
        target = self.value(imm.node, imm.loc)
        return hi20(target - pc if imm.kind == "pcrel_hi" else target)

    def target(self, imm, pc, bits, what):
        if imm.kind:
            raise imm.loc.error(f"%{imm.kind} is not allowed in a {what} target")
        offset = self.value(imm.node, imm.loc) - pc
        reach = 1 << (bits - 1)
        if not -reach <= offset < reach:
            instead = "j/jal, or call/tail" if what == "branch" else "call or tail"
            raise imm.loc.error(f"{what} target out of range ({offset:+d} bytes)",
                                hint=f"{what} reaches -{reach}..+{reach - 2}; use {instead}")
        if offset & 1:
            raise imm.loc.error(f"{what} target is not 2-byte aligned ({offset:+d} bytes)")
        return offset

    # --- instructions ----------------------------------------------------------------------
    def insn_word(self, item, pc):
        insn, values = item.insn, {}
        for name in insn.fields:
            v = item.fields.get(name, 0)
            if not isinstance(v, int):
                if name in ("imm_i", "imm_s"):
                    v = self.low12(v, insn)
                elif name == "imm_u":
                    v = self.high20(v, insn, pc)
                elif name == "imm_b":
                    v = self.target(v, pc, 13, "branch")
                elif name == "imm_j":
                    v = self.target(v, pc, 21, "jump")
                elif name == "offb":                    # c.beqz/c.bnez (CB format)
                    v = self.target(v, pc, 9, "branch")
                elif name == "offj":                    # c.j/c.jal (CJ format)
                    v = self.target(v, pc, 12, "jump")
                else:
                    lo, hi, what = RANGES[name]
                    v = self.constant(v, f"the {what}")
                    if not lo <= v <= hi:
                        raise item.fields[name].loc.error(
                            f"{what} {v} out of range for {insn.mnemonic}", hint=f"{lo}..{hi}")
            values[name] = v
        return insn.encode(**values)

    def branch_bytes(self, br, pc):
        """The bytes of a relaxed branch of br.size bytes (tc-riscv.c md_convert_frag_branch)."""
        if br.size == 2:
            return self.insn_word(br.short, pc).to_bytes(2, "little")
        if br.size == 4:
            return self.insn_word(br.insn, pc).to_bytes(4, "little")
        jal = encode_insn("jal", rd=0, imm_j=self.target(br.target, pc + br.size - 4, 21, "jump"))
        if br.size == 6:
            # the opposite c.beqz/c.bnez (funct3 110 <-> 111: bit 13) over the jal
            c = br.short
            word = c.insn.encode(**dict(c.fields, offb=6)) ^ (1 << 13)
            return word.to_bytes(2, "little") + jal.to_bytes(4, "little")
        # the opposite branch over the jal (funct3 bit 0 flips beq<->bne, blt<->bge...)
        fields = dict(br.insn.fields, imm_b=8)
        word = br.insn.insn.encode(**fields) ^ (1 << 12)
        return word.to_bytes(4, "little") + jal.to_bytes(4, "little")

    def data_bytes(self, item):
        v = self.value(item.node, item.loc)
        bits = 8 * item.size
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            unit = "byte" if item.size == 1 else "bytes"
            raise item.loc.error(f"value {v:#x} does not fit in {item.size} {unit}",
                                 hint=f"{-(1 << (bits - 1))}..{(1 << bits) - 1}")
        return (v & ((1 << bits) - 1)).to_bytes(item.size, "little")

    # --- sections --------------------------------------------------------------------------
    def section_bytes(self, sec):
        """The section's contents; an item in error is reported (and zero-filled) so that
        every error of the section is found."""
        out = bytearray()
        for frag in sec.frags:
            base = sec.addr + frag.start
            for offset, item in frag.items:
                try:
                    if isinstance(item, Insn):
                        size = item.insn.size
                        out += self.insn_word(item, base + offset).to_bytes(size, "little")
                    elif isinstance(item, Data):
                        out += self.data_bytes(item)
                    else:
                        out += item.data
                except AsmError as exc:
                    self.report(exc)
                    out += bytes(base + offset + _size(item) - sec.addr - len(out))
            var = frag.var
            if isinstance(var, Branch):
                try:
                    out += self.branch_bytes(var, base + frag.size)
                except AsmError as exc:
                    self.report(exc)
                    out += bytes(var.size)
            elif isinstance(var, Align) and var.size:
                out += nop_fill(var.size) if var.code else bytes([var.fill or 0]) * var.size
        return bytes(out)


def _size(item):
    if isinstance(item, Insn):
        return item.insn.size
    if isinstance(item, Data):
        return item.size
    return len(item.data)


def collect_pcrel_hi(unit, program):
    """Map each auipc written with %pcrel_hi to the pc-relative value, for %pcrel_lo(label)."""
    env = FinalEnv(unit, program)
    for sec in unit.sections.values():
        for frag in sec.frags:
            for offset, item in frag.items:
                imm = item.fields.get("imm_u") if isinstance(item, Insn) else None
                if imm is not None and not isinstance(imm, int) and imm.kind == "pcrel_hi":
                    pc = sec.addr + frag.start + offset
                    try:
                        program.pcrel_hi[pc] = env.address(imm.node, imm.loc) - pc
                    except AsmError:
                        pass            # reported when the auipc itself is encoded
