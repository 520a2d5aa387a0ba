# %hi/%lo/%pcrel_hi/%pcrel_lo and data relocations (psABI "Relocations"): R_RISCV_HI20,
# LO12_I/S, PCREL_HI20, PCREL_LO12_I/S, 32, BRANCH, JAL, CALL.
    .text
    .globl  _start
_start:
    lui     a0, %hi(table)
    addi    a0, a0, %lo(table)
    lui     a1, %hi(table + 8)
    lw      a2, %lo(table + 8)(a1)
    sw      a2, %lo(table + 12)(a1)
    lui     a3, %hi(0x12345fff)
    addi    a3, a3, %lo(0x12345fff)
.Lpc0:
    auipc   t0, %pcrel_hi(table)
    addi    t0, t0, %pcrel_lo(.Lpc0)
1:  auipc   t1, %pcrel_hi(buffer)
    lw      t2, %pcrel_lo(1b)(t1)
    sw      t2, %pcrel_lo(1b)(t1)
2:  auipc   t3, %pcrel_hi(far_code)
    jalr    ra, %pcrel_lo(2b)(t3)
    lui     s0, %hi(buffer)
    sb      zero, %lo(buffer)(s0)
    call    far_code
    tail    far_code
    j       far_code
    beq     a0, a1, near
near:
    ret

    .section .text.far, "ax", @progbits
far_code:
    jal     zero, _start
    ret

    .data
    .align  2
table:
    .word   1, 2, 3
    .word   table, _start, far_code + 4
    .word   end_table - table
    .half   end_table - table
    .byte   end_table - table
end_table:
    .word   .
    .word   . - table

    .bss
buffer: .space  64

    # GNU as folds a label difference into a constant in .equ (once both labels are read),
    # not directly in an instruction operand; li then takes the constant
    .equ    TABLE_SIZE, end_table - table
    .text
    li      a4, TABLE_SIZE
    li      a5, TABLE_SIZE / 4
    li      a6, TABLE_SIZE + 0x1000
