"""`-march` ISA strings and which extension each mnemonic needs, as GNU as 2.40 checks them.

An ISA string (Vol. I ch. 27 "ISA Extension Naming Conventions") is `rv32`, a base (`i`, or
`g` for imafd_zicsr_zifencei), single-letter extensions, then `_`-separated multi-letter
ones; each may carry a version (`m2p0`), which we accept and ignore.  hvlab's assembler knows
I, M, A, C, Zicsr, Zifencei and Zmmul (M's multiplications alone).  As in binutils 2.40
(ISA spec 20191213), Zicsr and Zifencei are not implied by I: `-march=rv32imac` has no
`csrr`; write `rv32imac_zicsr_zifencei`.
"""
import re

# No C by default, although the hart runs it: the bundled guests and the labs' generated code
# are byte-compared as 4-byte instructions and must also run on `--isa rv32ima` VMs; -march
# rv32imac or `.option rvc` turns compression on, as with GNU as
DEFAULT_MARCH = "rv32ima_zicsr_zifencei"
SUPPORTED = {"i", "m", "a", "c", "zicsr", "zifencei", "zmmul"}
_SINGLE = re.compile(r"([a-z])(\d+(?:p\d+)?)?")
_MULTI = re.compile(r"([a-z][a-z0-9]*?)(\d+(?:p\d+)?)?$")


class MarchError(ValueError):
    """An ISA string we cannot use; str() is the reason, for a one-line message."""


def parse_march(text):
    """The set of extensions an ISA string names, e.g. {"i", "m", "a", "c", "zicsr"}."""
    if text != text.lower():
        raise MarchError(f"'{text}': ISA strings are lower case (e.g. rv32imac_zicsr)")
    if not text.startswith("rv32"):
        raise MarchError(f"'{text}': hvlab assembles RV32 only (the string must begin rv32)")
    rest, exts = text[4:], set()
    if not rest or rest[0] not in "ig":
        what = "RV32E (16 registers) is not supported" if rest[:1] == "e" else "must be i or g"
        raise MarchError(f"'{text}': the base {what}")
    parts = rest.split("_")
    letters, pos = parts[0], 0
    while pos < len(letters):
        m = _SINGLE.match(letters, pos)
        exts.add(m.group(1))
        pos = m.end()
    if "g" in exts:
        exts |= {"i", "m", "a", "f", "d", "zicsr", "zifencei"}
        exts.discard("g")
    for part in parts[1:]:
        if not part:
            continue
        single = _SINGLE.fullmatch(part)
        if single:                       # GCC writes rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0
            exts.add(single.group(1))
            continue
        m = _MULTI.match(part)
        if not m or m.group(1)[0] not in "zsx" or len(m.group(1)) < 2:
            raise MarchError(f"'{text}': bad extension name '{part}'")
        exts.add(m.group(1))
    unknown = sorted(exts - SUPPORTED)
    if unknown:
        fp = [e for e in unknown if e in ("f", "d", "q")]
        why = ("floating point (F/D/Q) is not supported" if fp and len(fp) == len(unknown)
               else "hv asm supports i, m, a, c, zicsr, zifencei, zmmul")
        raise MarchError(f"'{text}': extension {', '.join(unknown)} unknown here ({why})")
    return frozenset(exts)


def update_march(exts, change):
    """`.option arch, +c` / `-c` (several may be given, comma separated) or a whole new ISA
    string (`.option arch, rv32imac`), as GNU as 2.40's s_riscv_option."""
    out = set(exts)
    for item in (c.strip() for c in change.split(",")):
        if item.startswith(("+", "-")):
            name = item[1:]
            m = _MULTI.match(name)
            base = m.group(1) if m else name
            if base not in SUPPORTED:
                raise MarchError(f"'{item}': extension '{name}' unknown here")
            if item[0] == "+":
                out.add(base)
            else:
                out.discard(base)
        else:
            out = set(parse_march(item))
    return frozenset(out)


# --- which extension a mnemonic needs (riscv-opc.c INSN_CLASS_*) ---------------------------

_M = {"mul", "mulh", "mulhsu", "mulhu"}                      # M or Zmmul
_M_ONLY = {"div", "divu", "rem", "remu"}
_ZICSR = {"csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci", "csrr", "csrw", "csrs",
          "csrc", "csrwi", "csrsi", "csrci"}        # rdcycle & co. and unimp are base I in 2.40


def required(mnemonic):
    """(test(exts) -> bool, what to say) for the extension a mnemonic needs, or None."""
    if mnemonic in _M:
        return (lambda e: "m" in e or "zmmul" in e), "`m' or `zmmul'"
    if mnemonic in _M_ONLY:
        return (lambda e: "m" in e), "`m'"
    if mnemonic.startswith(("lr.w", "sc.w", "amo")):
        return (lambda e: "a" in e), "`a'"
    if mnemonic in _ZICSR:
        return (lambda e: "zicsr" in e), "`zicsr'"
    if mnemonic == "fence.i":
        return (lambda e: "zifencei" in e), "`zifencei'"
    if mnemonic.startswith("c."):
        return (lambda e: "c" in e), "`c'"
    return None


def hint_for(mnemonic):
    """What to tell a user whose -march lacks the extension `mnemonic` needs."""
    if mnemonic.startswith("c."):
        return "use .option rvc, or -march=rv32imac_zicsr_zifencei"
    return "add it to -march (rv32imac_zicsr_zifencei has every extension hv asm knows)"
