# Directives (GAS manual "Assembler Directives"), and expressions with every operator.
    .option norvc
    .option push
    .option norelax
    .option pop
    .equ    UART, 0x10000000
    .set    COUNT, 4
    SHIFT = 3
    .set    COUNT, COUNT + 1        # redefinition: later uses see 5
    .equ    MIXED, (1 + 2) * 3 - 4 / 2 % 3 << 1 >> 1 & 0xff | 0x100 ^ 0x3
    .globl  _start, helper
    .global data_start

    .text
_start:
    li      a0, UART
    li      a1, COUNT
    li      a2, 1 << SHIFT
    li      a3, MIXED
    li      a4, -(5 + 3)
    li      a5, ~0x0f
    li      a6, !0
    li      a7, 7 > 3
    li      t0, (3 <= 2) || (1 && 1)
    li      t1, 0b1010 + 017 + 'A' + '\n'
    li      t2, 100 / 7
    li      t3, -100 / 7
    li      t4, -100 % 7
    li      t5, 1 == 1
    li      t6, 3 != 3
    li      s0, 4 <> 5
    li      s1, 8 >= 8
    li      s2, 5 ! 2
    li      s3, 0x7fffffff + 1
    li      s4, 2 * 3 + 4 * 5
    li      s5, 1 + 2 & 3
    .byte   0x11
    .align  2
helper:
    ret
    .balign 16
    nop
    .p2align 3
    nop
    .byte   1, 2, 3
    .p2align 4, 0xcc
    .half   0x1234
    .balign 8, 0x5a, 3
    .balign 8, , 7
    ret

    .data
data_start:
    .byte   1, -1, 255, 'x', COUNT
    .half   0x1234, -2, 65535
    .short  7
    .2byte  8
    .word   0x12345678, -1, UART
    .long   9
    .4byte  10
    .dword  0x1122334455667788
    .quad   -2
    .8byte  3
    .ascii  "abc", "de\n"
    .asciz  "nul-terminated\t\"quoted\"\\"
    .string "str", "\x41\102"
    .align  3
    .word   data_start, data_end - data_start
    .space  5
    .space  3, 0xee
    .skip   2, 1
    .zero   4
    .fill   3, 2, 0x1234
    .fill   2, 4, -1
    .fill   2
data_end:

    .section .rodata
ro_table:
    .word   1, 2, 3
    .section .rodata.str1, "a"
    .asciz  "in a .rodata.* section"

    .section .sdata, "aw"
small:  .word   42

    .bss
    .align  4
bss_start:
    .space  100
    .zero   12
bss_end:

    .section .mydata, "aw", @progbits
    .word   0xfeedface
    .section .mycode, "ax"
    nop
    .pushsection .data
    .word   0xabcdef01
    .popsection
    ret
    .previous
    .word   0x11111111
    .previous
    ret
    .section .mybss, "aw", @nobits
    .space  16
