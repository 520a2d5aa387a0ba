# Zicsr (ch. 9), Zifencei (ch. 3) and privileged instructions (Vol. II 3.3, 4.2.1).
    .text
    csrrw   a0, sstatus, a1
    csrrs   a0, sie, a1
    csrrc   a0, stvec, a1
    csrrwi  a0, sscratch, 31
    csrrsi  a0, sepc, 0
    csrrci  zero, scause, 5
    csrrw   t0, 0x7c0, t1
    csrrs   x0, 4095, x0
    csrrc   a0, 0, a0
    csrr    a0, stval
    csrr    a1, sip
    csrr    a2, satp
    csrr    a3, mhartid
    csrr    a4, mstatus
    csrr    a5, hstatus
    csrr    a6, hgatp
    csrr    a7, vsatp
    csrr    s0, time
    csrr    s1, cycleh
    csrw    sstatus, a0
    csrs    sie, a1
    csrc    sip, a2
    csrwi   sscratch, 1
    csrsi   sstatus, 2
    csrci   sstatus, 31
    csrw    mtvec, zero
    csrrw   a0, sstatus, 3
    csrrs   a0, sstatus, 0
    csrw    sstatus, 7
    csrs    sstatus, 8
    csrc    sstatus, 9
    rdcycle     a0
    rdtime      a1
    rdinstret   a2
    rdcycleh    a3
    rdtimeh     a4
    rdinstreth  a5
    fence
    fence.i
    fence.tso
    sfence.vma
    sfence.vma  a0
    sfence.vma  a0, a1
    sfence.vma  zero, t0
    ecall
    ebreak
    sret
    mret
    wfi
    unimp
