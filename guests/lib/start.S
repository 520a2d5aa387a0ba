/* start.S - the first instructions of every guest.
 *
 * The hypervisor (or OpenSBI, or QEMU's reset code) jumps here with
 *   a0 = hart id, a1 = guest-physical address of the device tree,
 * paging off.  We set up gp and a stack, zero .bss (the stack lives there
 * too), call main(hartid, dtb) and pass its return value to _exit().
 * Nothing here touches a CSR, so the same code runs in S-mode and in M-mode
 * (bench.elf on qemu -bios none).
 */
        .section .text.start, "ax"
        .globl _start
        .type _start, @function
_start:
        .option push
        .option norelax
        la      gp, __global_pointer$
        .option pop
        la      sp, __stack_top
        la      t0, __bss_start
        la      t1, __bss_end
1:      bgeu    t0, t1, 2f
        sw      zero, 0(t0)
        addi    t0, t0, 4
        j       1b
2:      call    main            /* a0, a1 untouched so far */
        tail    _exit
        .size _start, . - _start
