# M (ch. 7) and A (ch. 8) extensions, every aq/rl ordering.
    .text
    mul     a0, a1, a2
    mulh    a3, a4, a5
    mulhsu  a6, a7, s0
    mulhu   s1, s2, s3
    div     s4, s5, s6
    divu    s7, s8, s9
    rem     s10, s11, t3
    remu    t4, t5, t6
    lr.w        a0, (a1)
    lr.w.aq     a0, (a1)
    lr.w.rl     a0, 0(a1)
    lr.w.aqrl   t0, (sp)
    sc.w        a0, a2, (a1)
    sc.w.aq     a0, a2, (a1)
    sc.w.rl     a0, a2, (a1)
    sc.w.aqrl   a0, a2, 0(a1)
    amoswap.w   a0, a2, (a1)
    amoswap.w.aq    a0, a2, (a1)
    amoswap.w.rl    a0, a2, (a1)
    amoswap.w.aqrl  a0, a2, (a1)
    amoadd.w    t0, t1, (t2)
    amoadd.w.aq t0, t1, (t2)
    amoadd.w.rl t0, t1, (t2)
    amoadd.w.aqrl t0, t1, (t2)
    amoxor.w    a0, a1, (a2)
    amoxor.w.aqrl a0, a1, (a2)
    amoand.w    a0, a1, (a2)
    amoand.w.aq a0, a1, (a2)
    amoor.w     a0, a1, (a2)
    amoor.w.rl  a0, a1, (a2)
    amomin.w    a0, a1, (a2)
    amomin.w.aqrl a0, a1, (a2)
    amomax.w    a0, a1, (a2)
    amomax.w.aq a0, a1, (a2)
    amominu.w   a0, a1, (a2)
    amominu.w.rl a0, a1, (a2)
    amomaxu.w   a0, zero, (sp)
    amomaxu.w.aqrl x31, x30, (x29)
