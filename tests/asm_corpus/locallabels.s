# Numeric local labels (GAS "Local Symbol Names"): Nb is the nearest N before, Nf after.
    .text
1:  addi    a0, a0, 1
    bnez    a0, 1b
    j       1f
1:  addi    a0, a0, 2
    beqz    a0, 1b
    beqz    a0, 2f
2:  j       2b
1:  j       1b
10: j       10f
10: j       10b
    .data
3:  .word   3f, 3b
3:  .word   3b
