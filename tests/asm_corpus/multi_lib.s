# The second file of the multi_main.s pair.
    .text
    .globl  lib_function, lib_data
    .byte   1                       # leaves .text of this file unaligned: ld pads before it
    .align  3
lib_function:
    la      t0, counter
local:
    addi    a0, a0, -1
    bnez    a0, local
    ret
    .data
lib_data:
    .word   counter, 7
