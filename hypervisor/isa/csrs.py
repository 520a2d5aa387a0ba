"""CSR names and numbers, as GNU as spells them.

Numbers from "The RISC-V Instruction Set Manual, Volume II: Privileged Architecture"
(20211203), ch. 2 "Control and Status Registers", tables 2.2 (unprivileged and user-level),
2.3 (supervisor), 2.4 (hypervisor and VS), 2.5-2.6 (machine) and 2.7 (debug/trigger); the
Sstc extension (stimecmp) and Sscofpmf (mhpmeventNh); F for fflags/frm/fcsr.
"""

def _counters(prefix, base, suffix=""):
    """prefix3..prefix31 at base+3 .. base+31 (hpmcounter3 .. hpmcounter31 and friends)."""
    return {f"{prefix}{n}{suffix}": base + n for n in range(3, 32)}


CSRS = {
    # floating point (Vol. I ch. 11): GNU as knows them even without F
    "fflags": 0x001, "frm": 0x002, "fcsr": 0x003,
    # unprivileged counters and timers (table 2.2)
    "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    "cycleh": 0xC80, "timeh": 0xC81, "instreth": 0xC82,
    # supervisor (table 2.3)
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106, "senvcfg": 0x10A,
    "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
    "stimecmp": 0x14D, "stimecmph": 0x15D,       # Sstc
    "satp": 0x180, "scontext": 0x5A8,
    # hypervisor and virtual supervisor (table 2.4)
    "hstatus": 0x600, "hedeleg": 0x602, "hideleg": 0x603, "hie": 0x604, "htimedelta": 0x605,
    "hcounteren": 0x606, "hgeie": 0x607, "henvcfg": 0x60A, "htimedeltah": 0x615,
    "henvcfgh": 0x61A, "htval": 0x643, "hip": 0x644, "hvip": 0x645, "htinst": 0x64A,
    "hgatp": 0x680, "hcontext": 0x6A8, "hgeip": 0xE12,
    "vsstatus": 0x200, "vsie": 0x204, "vstvec": 0x205, "vsscratch": 0x240, "vsepc": 0x241,
    "vscause": 0x242, "vstval": 0x243, "vsip": 0x244, "vstimecmp": 0x24D,
    "vstimecmph": 0x25D, "vsatp": 0x280,
    # machine information, trap setup and handling (tables 2.5, 2.6)
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mconfigptr": 0xF15,
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303, "mie": 0x304,
    "mtvec": 0x305, "mcounteren": 0x306, "menvcfg": 0x30A, "mstatush": 0x310,
    "menvcfgh": 0x31A, "mcountinhibit": 0x320,
    "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342, "mtval": 0x343, "mip": 0x344,
    "mtinst": 0x34A, "mtval2": 0x34B, "mseccfg": 0x747, "mseccfgh": 0x757,
    "mcycle": 0xB00, "minstret": 0xB02, "mcycleh": 0xB80, "minstreth": 0xB82,
    # debug and trigger (table 2.7)
    "tselect": 0x7A0, "tdata1": 0x7A1, "tdata2": 0x7A2, "tdata3": 0x7A3, "mcontext": 0x7A8,
    "dcsr": 0x7B0, "dpc": 0x7B1, "dscratch0": 0x7B2, "dscratch1": 0x7B3,
}
CSRS.update(_counters("hpmcounter", 0xC00))
CSRS.update(_counters("hpmcounter", 0xC80, "h"))
CSRS.update(_counters("mhpmcounter", 0xB00))
CSRS.update(_counters("mhpmcounter", 0xB80, "h"))
CSRS.update(_counters("mhpmevent", 0x320))
CSRS.update(_counters("mhpmevent", 0x720, "h"))    # Sscofpmf
CSRS.update({f"pmpcfg{n}": 0x3A0 + n for n in range(16)})
CSRS.update({f"pmpaddr{n}": 0x3B0 + n for n in range(64)})

# Older names GNU as still accepts (privileged spec 1.9/1.10); never printed.
ALIASES = {"sbadaddr": 0x143, "mbadaddr": 0x343, "sptbr": 0x180, "dscratch": 0x7B2}

NAMES = {number: name for name, number in CSRS.items()}


def csr_number(name):
    """The number of a CSR given by name, or None."""
    name = name.lower()
    return CSRS.get(name, ALIASES.get(name))


def csr_name(number):
    """The name the disassembler prints: the CSR's name, or 0x-hex for an unnamed CSR."""
    return NAMES.get(number, hex(number))
