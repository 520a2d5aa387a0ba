# Conditional branches GNU as turns into the long form (the opposite branch over a jal) when
# the target is too far, in another section or not defined in this file
# (tc-riscv.c relaxed_branch_length); jal is always the short form.
    .text
    .globl  _start
_start:
    beq     a0, a1, near
    bne     a0, a1, far_ahead       # > 4 KiB ahead: long form
    blt     a0, a1, other_section   # another section: long form
    bge     a0, a1, extern_label    # defined in another file: long form
    bltu    a0, a1, far_ahead
    bgeu    a0, a1, far_ahead
    beqz    a0, far_ahead
    bgt     a0, a1, far_ahead
    bleu    a0, a1, other_section
near:
    jal     far_ahead
    j       other_section
    j       extern_label
    .fill   1020, 4, 0x00000013     # 1020 nops
edge:
    beq     a0, a1, edge + 4092     # just in reach
    beq     a0, a1, . - 4096        # just in reach backwards
    beq     a0, a1, edge - 4096     # 4104 bytes back from here: long form
    bne     a0, a1, _start          # out of reach backwards: long form
far_ahead:
    ret

    .section .text.other, "ax"
other_section:
    ret
