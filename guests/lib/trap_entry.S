/* trap_entry.S - S-mode trap entry and exit.
 *
 * sscratch convention: 0 while S-mode runs; the kernel stack pointer while
 * U-mode runs.  On entry we swap sp and sscratch: a non-zero result means we
 * came from U-mode and sp is now the kernel stack.
 *
 * Frame (struct trap_frame, 144 bytes): x0..x31 at 4*n, then sepc, sstatus,
 * scause, stval.
 */
        .equ FRAME_SIZE, 144
        .equ F_SEPC,     128
        .equ F_SSTATUS,  132
        .equ F_SCAUSE,   136
        .equ F_STVAL,    140
        .equ SSTATUS_SPP, 0x100

        .section .text.trap, "ax"
        .globl trap_entry
        .type trap_entry, @function
        .balign 4
trap_entry:
        csrrw   sp, sscratch, sp
        bnez    sp, 1f                  /* from U: sp = kernel stack */
        csrr    sp, sscratch            /* from S: back to the interrupted sp */
1:      addi    sp, sp, -FRAME_SIZE
        sw      x1, 1*4(sp)
        sw      x3, 3*4(sp)
        sw      x4, 4*4(sp)
        sw      x5, 5*4(sp)
        sw      x6, 6*4(sp)
        sw      x7, 7*4(sp)
        sw      x8, 8*4(sp)
        sw      x9, 9*4(sp)
        sw      x10, 10*4(sp)
        sw      x11, 11*4(sp)
        sw      x12, 12*4(sp)
        sw      x13, 13*4(sp)
        sw      x14, 14*4(sp)
        sw      x15, 15*4(sp)
        sw      x16, 16*4(sp)
        sw      x17, 17*4(sp)
        sw      x18, 18*4(sp)
        sw      x19, 19*4(sp)
        sw      x20, 20*4(sp)
        sw      x21, 21*4(sp)
        sw      x22, 22*4(sp)
        sw      x23, 23*4(sp)
        sw      x24, 24*4(sp)
        sw      x25, 25*4(sp)
        sw      x26, 26*4(sp)
        sw      x27, 27*4(sp)
        sw      x28, 28*4(sp)
        sw      x29, 29*4(sp)
        sw      x30, 30*4(sp)
        sw      x31, 31*4(sp)
        csrrw   t0, sscratch, zero      /* the interrupted sp; sscratch = 0 (in S now) */
        sw      t0, 2*4(sp)
        csrr    t0, sepc
        sw      t0, F_SEPC(sp)
        csrr    t0, sstatus
        sw      t0, F_SSTATUS(sp)
        csrr    t0, scause
        sw      t0, F_SCAUSE(sp)
        csrr    t0, stval
        sw      t0, F_STVAL(sp)

        .option push
        .option norelax
        la      gp, __global_pointer$   /* U-mode may have changed gp */
        .option pop
        mv      a0, sp
        call    trap_dispatch

        lw      t0, F_SEPC(sp)
        csrw    sepc, t0
        lw      t0, F_SSTATUS(sp)
        csrw    sstatus, t0
        li      t1, SSTATUS_SPP
        and     t1, t0, t1
        bnez    t1, 2f
        addi    t2, sp, FRAME_SIZE      /* back to U: remember the kernel stack */
        csrw    sscratch, t2
2:      lw      x1, 1*4(sp)
        lw      x3, 3*4(sp)
        lw      x4, 4*4(sp)
        lw      x5, 5*4(sp)
        lw      x6, 6*4(sp)
        lw      x7, 7*4(sp)
        lw      x8, 8*4(sp)
        lw      x9, 9*4(sp)
        lw      x10, 10*4(sp)
        lw      x11, 11*4(sp)
        lw      x12, 12*4(sp)
        lw      x13, 13*4(sp)
        lw      x14, 14*4(sp)
        lw      x15, 15*4(sp)
        lw      x16, 16*4(sp)
        lw      x17, 17*4(sp)
        lw      x18, 18*4(sp)
        lw      x19, 19*4(sp)
        lw      x20, 20*4(sp)
        lw      x21, 21*4(sp)
        lw      x22, 22*4(sp)
        lw      x23, 23*4(sp)
        lw      x24, 24*4(sp)
        lw      x25, 25*4(sp)
        lw      x26, 26*4(sp)
        lw      x27, 27*4(sp)
        lw      x28, 28*4(sp)
        lw      x29, 29*4(sp)
        lw      x30, 30*4(sp)
        lw      x31, 31*4(sp)
        lw      sp, 2*4(sp)             /* last: the interrupted (or new) sp */
        sret
        .size trap_entry, . - trap_entry
