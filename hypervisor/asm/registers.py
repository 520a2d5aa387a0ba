"""Integer register names: x0..x31 and the ABI names (RISC-V psABI, "Integer Register
Convention"; fp is another name for s0)."""

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
             "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
             "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
             "t3", "t4", "t5", "t6")

REGISTERS = {f"x{n}": n for n in range(32)}
REGISTERS.update({name: n for n, name in enumerate(ABI_NAMES)})
REGISTERS["fp"] = 8

ZERO, RA, SP, T0, T1 = 0, 1, 2, 5, 6


def register_number(text):
    """The number of a register name, or None."""
    return REGISTERS.get(text.strip())


def register_name(number):
    """ABI name, as objdump prints it."""
    return ABI_NAMES[number]
