# Pseudo-instructions (RISC-V Assembly Programmer's Manual, "Pseudoinstructions"), expanded
# as GNU as does.
    .text
    .globl  _start
_start:
    nop
    li      a0, 0
    li      a0, 1
    li      a0, -1
    li      a0, 2047
    li      a0, -2048
    li      a0, 2048
    li      a0, -2049
    li      a0, 4095
    li      a0, 4096
    li      a0, 0x7ff
    li      a0, 0x800
    li      a0, 0xfff
    li      a0, 0x1000
    li      a0, 0x12345678
    li      a0, 0x12345800
    li      a0, 0x7fffffff
    li      a0, 0x7ffff800
    li      a0, 0x7ffff7ff
    li      a0, 0x80000000
    li      a0, 0x80000800
    li      a0, -0x80000000
    li      a0, 0xffffffff
    li      a0, 0xfffff000
    li      a0, 0xfffff800
    li      a0, 0xfffff7ff
    li      a0, 0xdeadbeef
    li      t6, 1 << 31
    li      s0, -1234567
    li      x0, 5
    la      a0, msg
    lla     a1, msg
    la      a2, msg + 3
    la      a3, 0x1234
    mv      a0, a1
    mv      sp, t0
    not     a0, a1
    zext.b  a0, a1
    neg     a0, a1
    seqz    a0, a1
    snez    a0, a1
    sltz    a0, a1
    sgtz    a0, a1
    sgt     a0, a1, a2
    sgtu    t0, t1, t2
    scall
    sbreak
loop:
    beqz    a0, loop
    bnez    a0, loop
    blez    a0, loop
    bgez    a0, loop
    bltz    a0, loop
    bgtz    a0, loop
    bgt     a0, a1, loop
    ble     a0, a1, loop
    bgtu    a0, a1, loop
    bleu    a0, a1, loop
    j       loop
    jal     loop
    jal     t0, loop
    jr      a0
    jr      a0, 8
    jr      -4(a1)
    jalr    a0
    jalr    t0, a1
    jalr    a0, 12
    jalr    16(a1)
    jalr    s1, a2, -8
    call    func
    call    t0, func
    tail    func
    jump    func, t2
    ret
    lb      a0, msg
    lh      a1, msg
    lw      a2, msg
    lbu     a3, msg
    lhu     a4, msg+1
    sb      a0, value, t0
    sh      a1, value, t1
    sw      a2, value, t2
    csrr    a0, sstatus
    csrw    sstatus, a0
    csrs    sstatus, a0
    csrc    sstatus, a0
    csrwi   sstatus, 1
    csrsi   sstatus, 2
    csrci   sstatus, 3
    rdtime  a0
    rdcycle a1
    rdinstret a2
    fence
    fence.i
    sfence.vma
    add     a0, a1, 5
    and     a0, a1, 0xff
    or      a0, a1, 1
    xor     a0, a1, -1
    sll     a0, a1, 3
    srl     a0, a1, 3
    sra     a0, a1, 3
    slt     a0, a1, 3
    sltu    a0, a1, 3
func:
    ret

    .data
value:  .word 0
    .section .rodata
msg:    .string "hello"
