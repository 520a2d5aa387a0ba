/* probes.S - the single instructions rogue tries, each in its own function.
 *
 * S-mode probes are called normally and return if nothing traps.  U-mode
 * snippets are entered with enter_user() and end with `ecall`: if the
 * privileged instruction before it did not trap, the ecall (scause 8) tells
 * the trap handler so.  Whenever an attempt traps, rogue's trap handler
 * resumes at the guard_setjmp() point instead (see rogue.c).
 */
        .text
        .macro FUNC name
        .globl \name
        .type \name, @function
        .balign 4
\name:
        .endm

/* ---- S-mode memory probes: a0 = address (a1 = value) ---- */
FUNC probe_lw
        lw      a0, 0(a0)
        ret
FUNC probe_lb
        lb      a0, 0(a0)
        ret
FUNC probe_lw_plus8                     /* address wraps if a0 >= 0xfffffff8 */
        lw      a0, 8(a0)
        ret
FUNC probe_sw
        sw      a1, 0(a0)
        ret
FUNC probe_amoadd                       /* adds 0: harmless if it does happen */
        amoadd.w a0, zero, (a0)
        ret
FUNC probe_lr
        lr.w    a0, (a0)
        ret
FUNC probe_sc                           /* returns 0 if the store happened */
        sc.w    a0, zero, (a0)
        ret
FUNC probe_jump                         /* fetch from a0 */
        jr      a0

/* ---- S-mode instructions that must be illegal ---- */
FUNC s_mret
        mret
        ret
FUNC s_csrw_cycle
        csrw    cycle, zero
        ret
FUNC s_csrw_time
        csrw    time, zero
        ret
FUNC s_csrw_instret
        csrw    instret, zero
        ret
FUNC s_csrw_cycleh
        csrw    cycleh, zero
        ret
FUNC s_csrw_timeh
        csrw    timeh, zero
        ret
FUNC s_csrw_instreth
        csrw    instreth, zero
        ret
FUNC s_csrr_mstatus
        csrr    a0, mstatus
        ret
FUNC s_csrw_mtvec
        csrw    mtvec, zero
        ret
FUNC s_csrr_mhartid
        csrr    a0, mhartid
        ret
FUNC s_csrr_misa
        csrr    a0, misa
        ret
FUNC s_csrr_hstatus                     /* no H extension here */
        csrr    a0, 0x600
        ret
FUNC s_csrr_dcsr                        /* debug mode only */
        csrr    a0, 0x7b0
        ret
FUNC s_ebreak                           /* a breakpoint is the guest's own business */
        ebreak
        ret

/* ---- U-mode snippets (entered by enter_user, a0 = argument) ---- */
FUNC u_csrr_sstatus
        csrr    t0, sstatus
        ecall
FUNC u_csrw_sstatus
        csrw    sstatus, zero
        ecall
FUNC u_csrw_stvec
        csrw    stvec, zero
        ecall
FUNC u_csrr_sie
        csrr    t0, sie
        ecall
FUNC u_csrr_sscratch
        csrr    t0, sscratch
        ecall
FUNC u_csrw_satp
        csrw    satp, zero
        ecall
FUNC u_csrr_mstatus
        csrr    t0, mstatus
        ecall
FUNC u_sret
        sret
        ecall
FUNC u_mret
        mret
        ecall
FUNC u_wfi
        wfi
        ecall
FUNC u_sfence
        sfence.vma
        ecall
FUNC u_rdcycle                          /* illegal while scounteren.CY = 0 */
        rdcycle t0
        ecall
FUNC u_rdtime
        rdtime  t0
        ecall
FUNC u_rdinstret
        rdinstret t0
        ecall
FUNC u_ecall                            /* the legal way out: scause 8 */
        ecall
FUNC u_lw                               /* load from a0 */
        lw      t0, 0(a0)
        ecall
FUNC u_jump                             /* fetch from a0 */
        jr      a0

/* enter_user(entry, user_sp, arg): sret to U-mode at entry with a0 = arg.
 * Traps from U land on the current kernel stack (sscratch, see trap_entry.S). */
FUNC enter_user
        csrw    sepc, a0
        li      t0, 0x120               /* SPP (U) and SPIE (interrupts stay off) */
        csrc    sstatus, t0
        csrw    sscratch, sp
        mv      sp, a1
        mv      a0, a2
        sret

/* guard_setjmp(ctx): save ra, sp, s0..s11; returns 0 now, and 1 when the trap
 * handler resumes here after an attempt trapped. */
FUNC guard_setjmp
        sw      ra, 0(a0)
        sw      sp, 4(a0)
        sw      s0, 8(a0)
        sw      s1, 12(a0)
        sw      s2, 16(a0)
        sw      s3, 20(a0)
        sw      s4, 24(a0)
        sw      s5, 28(a0)
        sw      s6, 32(a0)
        sw      s7, 36(a0)
        sw      s8, 40(a0)
        sw      s9, 44(a0)
        sw      s10, 48(a0)
        sw      s11, 52(a0)
        li      a0, 0
        ret
