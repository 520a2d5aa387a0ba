"""The C extension: each 16-bit RV32C instruction expanded into the 32-bit instruction it stands
for (unprivileged spec, chapter "C" Standard Extension for Compressed Instructions", Table
"RVC opcode map" and the expansion given with each instruction).

``expand(parcel)`` returns the 32-bit word, or -1 when the parcel is not an RV32C instruction of
this hart: the all-zero parcel and every other reserved code point (C.ADDI4SPN with nzuimm = 0,
C.ADDI16SP and C.LUI with a zero immediate, C.LWSP with rd = x0, C.JR with rs1 = x0, the
RV64-only C.SUBW/C.ADDW slots, RV32's shamt[5] = 1 shifts) and the floating-point loads and
stores (no F or D here).  HINTs (C.NOP with an immediate, C.LI/C.MV/C.ADD with rd = x0, shamt
= 0 shifts, ...) are legal and expand to the base instruction, which has no effect.
"""
from .jit import njit


@njit("int64(int64, int64, int64, int64, int64)", cache=True, nogil=True)
def _i(imm, rs1, f3, rd, op):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


@njit("int64(int64, int64, int64, int64)", cache=True, nogil=True)
def _s(imm, rs2, rs1, f3):
    return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) \
        | ((imm & 31) << 7) | 0x23


@njit("int64(int64, int64, int64, int64, int64)", cache=True, nogil=True)
def _r(f7, rs2, rs1, f3, rd):
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33


@njit("int64(int64, int64, int64)", cache=True, nogil=True)
def _b(imm, rs1, f3):                   # beq/bne rs1, x0, imm
    return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs1 << 15) | (f3 << 12) \
        | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63


@njit("int64(int64, int64)", cache=True, nogil=True)
def _j(imm, rd):
    return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20) \
        | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F


@njit("int64(int64, int64)", cache=True, nogil=True)
def _bit(p, i):
    return (p >> i) & 1


@njit("int64(int64, int64)", cache=True, nogil=True)
def _sext(v, bits):
    sign = 1 << (bits - 1)
    return (v ^ sign) - sign


@njit("int64(int64)", cache=True, nogil=True)
def _cj_imm(p):
    """C.J / C.JAL offset[11|4|9:8|10|6|7|3:1|5] from bits 12|11|10:9|8|7|6|5:3|2."""
    v = (_bit(p, 12) << 11) | (_bit(p, 11) << 4) | (((p >> 9) & 3) << 8) | (_bit(p, 8) << 10) \
        | (_bit(p, 7) << 6) | (_bit(p, 6) << 7) | (((p >> 3) & 7) << 1) | (_bit(p, 2) << 5)
    return _sext(v, 12)


@njit(cache=True, nogil=True)
def expand(p):
    """The 32-bit instruction that 16-bit parcel ``p`` stands for, or -1 (reserved/illegal)."""
    op = p & 3
    f3 = (p >> 13) & 7
    rd = (p >> 7) & 31                  # rd / rs1 of the CI, CR and CSS formats
    rs2 = (p >> 2) & 31
    rdp = 8 + ((p >> 2) & 7)            # rd' / rs2' (bits 4:2) of CIW, CL, CS, CA
    rs1p = 8 + ((p >> 7) & 7)           # rs1' / rd' (bits 9:7) of CL, CS, CA, CB
    imm6 = _sext((_bit(p, 12) << 5) | ((p >> 2) & 31), 6)      # CI: imm[5] = 12, imm[4:0] = 6:2
    if op == 0:
        if f3 == 0:                     # c.addi4spn rd', nzuimm: nzuimm[5:4|9:6|2|3]
            nz = (((p >> 11) & 3) << 4) | (((p >> 7) & 15) << 6) | (_bit(p, 6) << 2) \
                | (_bit(p, 5) << 3)
            if nz == 0:
                return -1               # the all-zero parcel included
            return _i(nz, 2, 0, rdp, 0x13)
        uimm = (((p >> 10) & 7) << 3) | (_bit(p, 6) << 2) | (_bit(p, 5) << 6)
        if f3 == 2:                     # c.lw rd', uimm(rs1')
            return _i(uimm, rs1p, 2, rdp, 0x03)
        if f3 == 6:                     # c.sw rs2', uimm(rs1')
            return _s(uimm, rdp, rs1p, 2)
        return -1                       # c.fld, c.flw, c.fsd, c.fsw, reserved (100)
    if op == 1:
        if f3 == 0:                     # c.addi rd, imm (c.nop when rd = 0)
            return _i(imm6, rd, 0, rd, 0x13)
        if f3 == 1 or f3 == 5:          # c.jal (RV32) / c.j
            return _j(_cj_imm(p), 1 if f3 == 1 else 0)
        if f3 == 2:                     # c.li rd, imm
            return _i(imm6, 0, 0, rd, 0x13)
        if f3 == 3:
            if rd == 2:                 # c.addi16sp: nzimm[9] = 12, [4|6|8:7|5] = 6|5|4:3|2
                nz = _sext((_bit(p, 12) << 9) | (_bit(p, 6) << 4) | (_bit(p, 5) << 6)
                           | (((p >> 3) & 3) << 7) | (_bit(p, 2) << 5), 10)
                if nz == 0:
                    return -1
                return _i(nz, 2, 0, 2, 0x13)
            if imm6 == 0:               # c.lui with nzimm = 0: reserved
                return -1
            return ((imm6 << 12) & 0xFFFFF000) | (rd << 7) | 0x37      # lui rd, nzimm
        if f3 == 4:
            f2 = (p >> 10) & 3
            if f2 == 0 or f2 == 1:      # c.srli / c.srai rd', shamt (RV32: shamt[5] = 0)
                if _bit(p, 12):
                    return -1
                return _i(((p >> 2) & 31) | (0x400 if f2 == 1 else 0), rs1p, 5, rs1p, 0x13)
            if f2 == 2:                 # c.andi rd', imm
                return _i(imm6, rs1p, 7, rs1p, 0x13)
            if _bit(p, 12):
                return -1               # c.subw, c.addw (RV64) and the two reserved slots
            f = (p >> 5) & 3            # c.sub, c.xor, c.or, c.and
            if f == 0:
                return _r(0x20, rdp, rs1p, 0, rs1p)
            return _r(0, rdp, rs1p, 4 if f == 1 else (6 if f == 2 else 7), rs1p)
        # c.beqz / c.bnez rs1', offset[8|4:3|7:6|2:1|5] = 12|11:10|6:5|4:3|2
        off = _sext((_bit(p, 12) << 8) | (((p >> 10) & 3) << 3) | (((p >> 5) & 3) << 6)
                    | (((p >> 3) & 3) << 1) | (_bit(p, 2) << 5), 9)
        return _b(off, rs1p, 0 if f3 == 6 else 1)
    if op == 2:
        if f3 == 0:                     # c.slli rd, shamt (RV32: shamt[5] = 0)
            if _bit(p, 12):
                return -1
            return _i((p >> 2) & 31, rd, 1, rd, 0x13)
        if f3 == 2:                     # c.lwsp rd, uimm(x2): uimm[5] = 12, [4:2] = 6:4, [7:6] = 3:2
            if rd == 0:
                return -1
            uimm = (_bit(p, 12) << 5) | (((p >> 4) & 7) << 2) | (((p >> 2) & 3) << 6)
            return _i(uimm, 2, 2, rd, 0x03)
        if f3 == 4:
            if _bit(p, 12) == 0:
                if rs2 == 0:            # c.jr rs1
                    if rd == 0:
                        return -1
                    return _i(0, rd, 0, 0, 0x67)
                return _r(0, rs2, 0, 0, rd)             # c.mv rd, rs2: add rd, x0, rs2
            if rs2 == 0:
                if rd == 0:
                    return 0x00100073                   # c.ebreak
                return _i(0, rd, 0, 1, 0x67)            # c.jalr rs1: jalr x1, 0(rs1)
            return _r(0, rs2, rd, 0, rd)                # c.add rd, rs2
        if f3 == 6:                     # c.swsp rs2, uimm(x2): uimm[5:2] = 12:9, [7:6] = 8:7
            uimm = (((p >> 9) & 15) << 2) | (((p >> 7) & 3) << 6)
            return _s(uimm, rs2, 2, 2)
        return -1                       # c.fldsp, c.flwsp, c.fsdsp, c.fswsp
    return -1                           # op == 3: not a 16-bit instruction
