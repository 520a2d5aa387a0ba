# Two files linked together (with multi_lib.s): globals resolve across files, local labels
# with the same name stay apart, and .text of both files is concatenated.
    .text
    .globl  _start
    .globl  counter
_start:
    call    lib_function
    la      a0, lib_data
    lw      a1, lib_data
    jal     lib_function
    bnez    a0, local
local:
    j       _start
    .data
counter:
    .word   lib_data, lib_function
