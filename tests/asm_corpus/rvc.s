# march: rv32imac_zicsr_zifencei
# The C extension (Unprivileged ISA ch. 16): every RV32C instruction written out, the
# 32-bit instructions GNU as compresses (and the near misses it does not), HINTs, branch
# and jump relaxation, alignment and .option.  tests/test_asm_rvc.py has the exhaustive grid.
    .globl  _start
    .text
_start:
# --- explicit compressed instructions, at the edges of their fields ------------------------
    c.addi4spn s0, sp, 4
    c.addi4spn a5, sp, 1020
    c.lw    a0, 0(a1)
    c.lw    s1, 124(a5)
    c.lw    a2, (s0)
    c.sw    a3, 64(a4)
    c.sw    s0, 124(s1)
    c.nop
    c.addi  a0, 1
    c.addi  sp, -32
    c.addi  t6, 31
    c.jal   near
    c.li    a0, -32
    c.li    ra, 31
    c.addi16sp sp, -512
    c.addi16sp sp, 496
    c.lui   a0, 1
    c.lui   t6, 0xfffff
    c.lui   gp, 0xfffe0
    c.srli  a0, 1
    c.srli  s1, 31
    c.srai  a5, 16
    c.andi  s0, -32
    c.andi  a2, 31
    c.sub   s0, s1
    c.xor   a0, a5
    c.or    a1, a2
    c.and   a3, a4
    c.j     near
    c.beqz  a0, near
    c.bnez  s1, _start
    c.slli  ra, 1
    c.slli  t6, 31
    c.lwsp  ra, 0(sp)
    c.lwsp  t6, 252(sp)
    c.jr    ra
    c.jr    t0
    c.mv    a0, a1
    c.mv    t6, ra
    c.ebreak
    c.jalr  a0
    c.jalr  t6
    c.add   a0, a1
    c.add   sp, t6
    c.swsp  ra, 0(sp)
    c.swsp  t6, 252(sp)
    c.unimp
near:
# --- HINTs (table 16.3): legal, no effect; GNU as writes them when asked by name -----------
    c.nop   5
    c.addi  a0, 0
    c.li    zero, 7
    c.lui   zero, 3
    c.mv    zero, a1
    c.add   zero, a2
    c.slli  zero, 4
    c.slli64 a0
    c.srli64 s0
    c.srai64 a5
# --- what GNU as compresses, and what it does not -------------------------------------------
    addi    a0, a0, 1           # c.addi
    addi    a0, a0, 32          # too big for c.addi: 32 bits
    addi    a0, a1, 1           # rd != rs1: 32 bits
    addi    sp, sp, 16          # c.addi (tried before c.addi16sp)
    addi    sp, sp, 64          # c.addi16sp
    addi    s0, sp, 8           # c.addi4spn
    addi    a6, sp, 8           # a6 is not x8..x15: 32 bits
    addi    a0, zero, 5         # c.li
    addi    a0, a1, 0           # c.mv
    addi    a0, a0, 0           # c.mv a0, a0 (not the c.addi hint)
    addi    zero, zero, 0       # c.nop
    addi    a0, a0, 0xffffffff  # not normalized for the 16-bit forms: 32 bits
    add     a0, a0, a1          # c.add
    add     a0, a1, a0          # c.add (either order)
    add     a0, zero, a1        # c.mv
    add     a0, a0, 0           # c.addi hint (add's own alternatives)
    add     a0, a1, a2          # 32 bits
    sub     s0, s0, s1          # c.sub
    sub     s0, s1, s0          # 32 bits: sub does not commute
    and     a0, a1, a0          # c.and
    or      a2, a2, a3          # c.or
    xor     a4, a5, a4          # c.xor
    and     s1, s1, 7           # c.andi
    andi    a0, a0, -1          # c.andi
    ori     a0, a0, 1           # no c.ori: 32 bits
    slli    a0, a0, 3           # c.slli
    sll     ra, ra, 31          # c.slli
    slli    zero, zero, 1       # a HINT GNU as does not choose: 32 bits
    srli    a5, a5, 1           # c.srli
    srai    s0, s0, 2           # c.srai
    srli    a6, a6, 1           # 32 bits
    li      a0, 0               # c.li
    li      a0, 31              # c.li
    li      a0, 32              # addi: 32 bits
    li      a0, 0x1000          # c.lui
    li      a0, -4096           # c.lui 0xfffff
    li      a0, 0x1001          # c.lui + c.addi
    li      sp, 0x1010          # lui (sp cannot c.lui) + c.addi
    li      a0, 0xffffffff      # li's 12-bit form (addi a0, zero, -1): 32 bits
    li      a0, -1              # c.li
    li      zero, 0x1000        # lui zero + c.nop: GNU as adds the addi for rd = x0
    la      a0, 5               # a constant: c.li
    lui     a0, 1               # c.lui
    lui     a0, 0xfffe0         # c.lui
    lui     a0, 32              # 32 bits
    lui     sp, 1               # 32 bits (c.lui cannot write sp)
    mv      a0, a1              # c.mv
    mv      a0, zero            # 32 bits (c.mv cannot read x0)
    lw      a0, 4(sp)           # c.lwsp
    lw      a0, (sp)            # c.lwsp
    lw      a0, 4(a1)           # c.lw
    lw      a0, 2(sp)           # not a multiple of 4: 32 bits
    lw      a6, 4(a1)           # 32 bits
    lw      zero, 4(sp)         # c.lwsp cannot write x0: 32 bits
    sw      a0, 252(sp)         # c.swsp
    sw      zero, 0(sp)         # c.swsp
    sw      a0, 128(a1)         # 32 bits
    sw      s1, 0(s0)           # c.sw
    lb      a0, 0(a1)           # no compressed byte loads in C: 32 bits
    ret                         # c.jr ra
    jr      a0                  # c.jr
    jr      0(a0)               # 32 bits
    jalr    a0                  # c.jalr
    jalr    ra, a0              # 32 bits
    nop                         # c.nop
    ebreak                      # c.ebreak
    sbreak                      # c.ebreak
    unimp                       # c.unimp
    not     a0, a0              # 32 bits
    neg     a0, a0              # 32 bits
    ecall                       # 32 bits
    csrr    a0, sstatus         # 32 bits
    call    far                 # auipc + jalr: 32 bits
# --- branches and jumps, relaxed --------------------------------------------------------------
1:  beqz    a0, 1b              # c.beqz
    bnez    s1, 1b              # c.bnez
    beq     a0, zero, 1b        # c.beqz
    bne     a5, x0, 1b          # c.bnez
    beq     zero, a0, 1b        # 32 bits (the register must come first)
    beqz    a6, 1b              # 32 bits (a6 is not x8..x15)
    blt     a0, a1, 1b          # 32 bits
    j       1b                  # c.j
    jal     1b                  # 32 bits: GNU as 2.40 never picks c.jal for jal
    jal     ra, 1b              # 32 bits
    beqz    a0, mid             # too far for c.beqz: 4-byte beqz
    beqz    a0, far             # too far for a branch: c.bnez over a jal (6 bytes)
    bnez    a6, far             # bne over a jal (8 bytes)
    c.beqz  a0, far             # c.beqz is relaxed too
    c.j     far                 # too far for c.j: jal x0
    j       other               # another section: jal
    beqz    a0, other           # another section: bnez over a jal (8 bytes)
    beqz    a0, weak_here       # a weak symbol may be replaced: 8 bytes
    c.jal   other               # jal ra
    beqz    a0, 2f              # forward, within c.beqz's reach: 2 bytes
    .space  240
2:  bnez    a1, 3f              # beyond it: 4 bytes (the edges: tests/test_asm_rvc.py)
    .space  300
3:
# --- alignment with RVC: nops are 2 or 4 bytes ----------------------------------------------
    c.nop
    .align  1                   # already 2-byte aligned: nothing
    .align  2                   # one c.nop
    nop
    .byte   1
    .balign 8                   # a zero byte, a c.nop, a nop
    .p2align 3, 0xcc            # fill bytes
    c.nop
    .balign 16, , 6             # at most 6 bytes: skipped
    .balign 16
# --- .option -------------------------------------------------------------------------------
    .option push
    .option norvc
    addi    a0, a0, 1           # 32 bits
    j       1b                  # 32 bits
    .option rvc
    addi    a0, a0, 1           # compressed again
    .option pop
    .option arch, -c
    addi    a0, a0, 1           # 32 bits
    .option arch, +c
    addi    a0, a0, 1           # compressed
    .option relax
    .option norelax              # GNU as pads alignments by the relax state at the end
mid:
    .space  4000
    .weak   weak_here
weak_here:
    .space  2000
far:
    c.nop
    ret
    .section .text.other, "ax"
other:
    c.nop                       # .text.other has 1-byte alignment: .text ends 2-aligned
