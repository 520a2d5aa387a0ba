"""rogue's console, read: each of its attempts to get out of its VM, the trap it got, and why
that attempt could not work (lab 2, part 4; guests/rogue/rogue.c prints the lines).

    rogue: 37 S jump into the UART 0x10000000   -> scause  1 fetch access fault  stval ...  contained
"""
import re

_ATTEMPT = re.compile(r"^rogue:\s+(\d+) ([SU]) (.*)\s+-> (.*)$")   # what may hold "->" too
_CAUSE = re.compile(r"scause\s+(\d+)")
_SECTION = re.compile(r"^rogue: --- (.*) ---$")

WHY = {
    "physical memory outside RAM (paging off)":
        "no RAM of this VM and no device there: the monitor's G-stage map has entries only for "
        "its own pages, so the access is a hole and the guest gets an access fault",
    "device holes (not RAM, not one of our devices)":
        "QEMU has a device there, hvlab has none: a hole like any other",
    "wrapped and straddling accesses":
        "every byte of an access is checked: a word that wraps past 2^32 or sticks out of RAM "
        "is an access fault, not a way round the bound",
    "atomics outside RAM and on MMIO":
        "atomics need real memory: outside RAM, or on a device register, they fault (and sc.w "
        "without a reservation just fails)",
    "instruction fetch outside RAM":
        "the hart fetches only from this VM's RAM: devices and holes are not executable",
    "privileged instructions from U-mode":
        "U-mode may not touch supervisor state: illegal instruction, delivered to rogue's own "
        "kernel (ecall is the legal way in)",
    "S-mode: read-only CSRs and M-mode":
        "the guest kernel is only in virtual S-mode: M-mode, hypervisor and debug CSRs do not "
        "exist for it, and the counters are read-only",
    "Sv32 page tables pointing outside RAM":
        "the guest's own page tables may name any address, but what they name is still "
        "guest-physical: stage 2 refuses what is not its RAM (access fault); the usual "
        "permission checks give page faults",
}


def parse(text):
    """rogue's attempt lines -> [{n, mode, what, outcome, scause (-1: no trap), verdict,
    section}]."""
    out, section = [], ""
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            continue
        m = _ATTEMPT.match(line)
        if not m:
            continue
        rest = m.group(4).strip()
        verdict = re.split(r"\s{2,}", rest)[-1]          # the last column
        outcome = rest[:len(rest) - len(verdict)].strip()
        c = _CAUSE.search(outcome)
        out.append({"n": int(m.group(1)), "mode": m.group(2), "what": m.group(3).strip(),
                    "outcome": outcome, "scause": int(c.group(1)) if c else -1,
                    "verdict": verdict, "section": section})
    return out


def table_rows(attempts):
    rows, sections = [], []
    for a in attempts:
        if a["section"] not in sections:
            sections.append(a["section"])
    for sec in sections:
        mine = [a for a in attempts if a["section"] == sec]
        causes = {}
        for a in mine:
            k = "no trap" if a["scause"] < 0 else str(a["scause"])
            causes[k] = causes.get(k, 0) + 1
        rows.append([f"{mine[0]['n']}-{mine[-1]['n']}", sec,
                     ", ".join(f"{k}: {v}" for k, v in causes.items()),
                     WHY.get(sec, "")])
    return rows
