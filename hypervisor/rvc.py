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


# the 32-bit formats expand() builds (each encoded in one place: a small function to compile)
F_NONE, F_I, F_S, F_R, F_B, F_J, F_RAW = range(7)


@njit(cache=True, nogil=True, no_rewrites=True)
def expand(p):
    """The 32-bit instruction that 16-bit parcel ``p`` stands for, or -1 (reserved/illegal)."""
    op = p & 3
    f3 = (p >> 13) & 7
    rd = (p >> 7) & 31                  # rd / rs1 of the CI, CR and CSS formats
    rs2 = (p >> 2) & 31
    rdp = 8 + ((p >> 2) & 7)            # rd' / rs2' (bits 4:2) of CIW, CL, CS, CA
    rs1p = 8 + ((p >> 7) & 7)           # rs1' / rd' (bits 9:7) of CL, CS, CA, CB
    b12 = (p >> 12) & 1
    imm6 = (((b12 << 5) | ((p >> 2) & 31)) ^ 32) - 32       # CI: imm[5] = 12, imm[4:0] = 6:2
    # the expansion, as fields of one 32-bit format, encoded at the end (I: imm, rs1 = a,
    # funct3 = f, rd = c, op = b; S: imm, rs2 = a, rs1 = c, funct3 = f).  One assignment a
    # field, not a tuple: numba builds and unpacks a tuple for ``fmt, imm, ... = ...``, which
    # made this function 25% slower to compile (bench/compile.py)
    fmt = F_NONE
    imm = 0
    a = 0
    b = 0
    c = 0
    f = 0
    if op == 0:
        uimm = (((p >> 10) & 7) << 3) | (((p >> 6) & 1) << 2) | (((p >> 5) & 1) << 6)
        if f3 == 0:                     # c.addi4spn rd', nzuimm: nzuimm[5:4|9:6|2|3]
            nz = (((p >> 11) & 3) << 4) | (((p >> 7) & 15) << 6) | (((p >> 6) & 1) << 2) \
                | (((p >> 5) & 1) << 3)
            if nz != 0:                 # (0: the all-zero parcel included)
                fmt = F_I
                imm = nz
                a = 2
                f = 0
                c = rdp
                b = 0x13
        elif f3 == 2:                   # c.lw rd', uimm(rs1')
            fmt = F_I
            imm = uimm
            a = rs1p
            f = 2
            c = rdp
            b = 0x03
        elif f3 == 6:                   # c.sw rs2', uimm(rs1')
            fmt = F_S
            imm = uimm
            a = rdp
            c = rs1p
            f = 2
        # else c.fld, c.flw, c.fsd, c.fsw, reserved (100)
    elif op == 1:
        if f3 == 0:                     # c.addi rd, imm (c.nop when rd = 0)
            fmt = F_I
            imm = imm6
            a = rd
            f = 0
            c = rd
            b = 0x13
        elif f3 == 1 or f3 == 5:        # c.jal (RV32) / c.j: offset[11|4|9:8|10|6|7|3:1|5]
            v = (b12 << 11) | (((p >> 11) & 1) << 4) | (((p >> 9) & 3) << 8) \
                | (((p >> 8) & 1) << 10) | (((p >> 7) & 1) << 6) | (((p >> 6) & 1) << 7) \
                | (((p >> 3) & 7) << 1) | (((p >> 2) & 1) << 5)
            fmt = F_J
            imm = (v ^ 0x800) - 0x800
            c = 1 if f3 == 1 else 0
        elif f3 == 2:                   # c.li rd, imm
            fmt = F_I
            imm = imm6
            a = 0
            f = 0
            c = rd
            b = 0x13
        elif f3 == 3:
            if rd == 2:                 # c.addi16sp: nzimm[9] = 12, [4|6|8:7|5] = 6|5|4:3|2
                nz = (b12 << 9) | (((p >> 6) & 1) << 4) | (((p >> 5) & 1) << 6) \
                    | (((p >> 3) & 3) << 7) | (((p >> 2) & 1) << 5)
                if nz != 0:
                    fmt = F_I
                    imm = (nz ^ 0x200) - 0x200
                    a = 2
                    f = 0
                    c = 2
                    b = 0x13
            elif imm6 != 0:             # c.lui rd, nzimm (nzimm = 0: reserved)
                fmt = F_RAW
                imm = ((imm6 << 12) & 0xFFFFF000) | (rd << 7) | 0x37
        elif f3 == 4:
            f2 = (p >> 10) & 3
            if f2 == 0 or f2 == 1:      # c.srli / c.srai rd', shamt (RV32: shamt[5] = 0)
                if b12 == 0:
                    fmt = F_I
                    imm = ((p >> 2) & 31) | (0x400 if f2 == 1 else 0)
                    a = rs1p
                    f = 5
                    c = rs1p
                    b = 0x13
            elif f2 == 2:               # c.andi rd', imm
                fmt = F_I
                imm = imm6
                a = rs1p
                f = 7
                c = rs1p
                b = 0x13
            elif b12 == 0:              # c.sub, c.xor, c.or, c.and (bit 12 set: c.subw,
                g = (p >> 5) & 3        # c.addw (RV64) and two reserved slots)
                fmt = F_R
                imm = 0x20 if g == 0 else 0
                a = rdp
                b = rs1p
                c = rs1p
                f = 0 if g == 0 else (4 if g == 1 else (6 if g == 2 else 7))
        else:                           # c.beqz / c.bnez rs1', offset[8|4:3|7:6|2:1|5]
            v = (b12 << 8) | (((p >> 10) & 3) << 3) | (((p >> 5) & 3) << 6) \
                | (((p >> 3) & 3) << 1) | (((p >> 2) & 1) << 5)
            fmt = F_B
            imm = (v ^ 0x100) - 0x100
            a = rs1p
            f = 0 if f3 == 6 else 1
    elif op == 2:
        if f3 == 0:                     # c.slli rd, shamt (RV32: shamt[5] = 0)
            if b12 == 0:
                fmt = F_I
                imm = (p >> 2) & 31
                a = rd
                f = 1
                c = rd
                b = 0x13
        elif f3 == 2:                   # c.lwsp rd, uimm(x2): uimm[5] = 12, [4:2] = 6:4, [7:6] = 3:2
            if rd != 0:
                uimm = (b12 << 5) | (((p >> 4) & 7) << 2) | (((p >> 2) & 3) << 6)
                fmt = F_I
                imm = uimm
                a = 2
                f = 2
                c = rd
                b = 0x03
        elif f3 == 4:
            if b12 == 0 and rs2 == 0:   # c.jr rs1 (rs1 = 0: reserved)
                if rd != 0:
                    fmt = F_I
                    imm = 0
                    a = rd
                    f = 0
                    c = 0
                    b = 0x67
            elif b12 == 0:              # c.mv rd, rs2: add rd, x0, rs2
                fmt = F_R
                imm = 0
                a = rs2
                b = 0
                c = rd
                f = 0
            elif rs2 == 0 and rd == 0:  # c.ebreak
                fmt = F_RAW
                imm = 0x00100073
            elif rs2 == 0:              # c.jalr rs1: jalr x1, 0(rs1)
                fmt = F_I
                imm = 0
                a = rd
                f = 0
                c = 1
                b = 0x67
            else:                       # c.add rd, rs2
                fmt = F_R
                imm = 0
                a = rs2
                b = rd
                c = rd
                f = 0
        elif f3 == 6:                   # c.swsp rs2, uimm(x2): uimm[5:2] = 12:9, [7:6] = 8:7
            uimm = (((p >> 9) & 15) << 2) | (((p >> 7) & 3) << 6)
            fmt = F_S
            imm = uimm
            a = rs2
            c = 2
            f = 2
        # else c.fldsp, c.flwsp, c.fsdsp, c.fswsp
    # encode (R: funct7 = imm, rs2 = a, rs1 = b, rd = c, funct3 = f; B: imm, rs1 = a, funct3 = f,
    # rs2 = x0; J: imm, rd = c)
    if fmt == F_I:
        return ((imm & 0xFFF) << 20) | (a << 15) | (f << 12) | (c << 7) | b
    if fmt == F_S:
        return (((imm >> 5) & 0x7F) << 25) | (a << 20) | (c << 15) | (f << 12) \
            | ((imm & 31) << 7) | 0x23
    if fmt == F_R:
        return (imm << 25) | (a << 20) | (b << 15) | (f << 12) | (c << 7) | 0x33
    if fmt == F_B:
        return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (a << 15) | (f << 12) \
            | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63
    if fmt == F_J:
        return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) \
            | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xFF) << 12) | (c << 7) | 0x6F
    if fmt == F_RAW:
        return imm
    return -1                           # reserved, F/D, or op == 3 (not a 16-bit instruction)
