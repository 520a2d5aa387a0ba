# Every RV32I base instruction (Unprivileged ISA ch. 2), with register and immediate extremes.
    .text
    .globl _start
_start:
    lui     a0, 0x12345
    lui     x31, 0xfffff
    lui     zero, 0
    auipc   t0, 0
    auipc   s11, 0xabcde
    jal     ra, 1f
    jal     x0, 1f
    jal     t6, _start
1:  jalr    ra, 0(a0)
    jalr    t0, -2048(s1)
    jalr    x0, 2047(x31)
    beq     a0, a1, 1b
    bne     s0, s1, 2f
    blt     t0, t1, 2f
    bge     x31, x30, 1b
    bltu    a6, a7, 2f
    bgeu    ra, sp, 2f
2:  lb      a0, 0(a1)
    lh      a1, -1(sp)
    lw      a2, 2047(gp)
    lbu     a3, -2048(tp)
    lhu     a4, 100(fp)
    sb      a5, 0(a1)
    sh      s2, -2048(s3)
    sw      s4, 2047(s5)
    sw      zero, (sp)
    addi    a0, a1, -2048
    addi    a0, a1, 2047
    slti    s6, s7, -1
    sltiu   s8, s9, 1
    xori    s10, s11, 0x7ff
    ori     t3, t4, -0x800
    andi    t5, t6, 255
    slli    a0, a0, 0
    slli    a0, a1, 31
    srli    a2, a3, 17
    srai    a4, a5, 31
    add     a0, a1, a2
    sub     a3, a4, a5
    sll     a6, a7, s2
    slt     s3, s4, s5
    sltu    s6, s7, s8
    xor     s9, s10, s11
    srl     t3, t4, t5
    sra     t6, zero, ra
    or      sp, gp, tp
    and     t0, t1, t2
    fence   iorw, iorw
    fence   rw, rw
    fence   i, o
    fence   r, w
    fence   w, r
    fence   io, rw
    fence.tso
    ecall
    ebreak
    # x-names and ABI names
    add     x0, x1, x2
    add     x3, x4, x5
    add     x6, x7, x8
    add     x9, x10, x11
    add     x12, x13, x14
    add     x15, x16, x17
    add     x18, x19, x20
    add     x21, x22, x23
    add     x24, x25, x26
    add     x27, x28, x29
    add     x30, x31, fp
