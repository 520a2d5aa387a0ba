# The second file of branches.s: a label the first file branches to.
    .text
    .globl  extern_label
extern_label:
    ret
