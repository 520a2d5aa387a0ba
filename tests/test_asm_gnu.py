"""The assembler against GNU as, the disassembler against GNU objdump (issue 6).

Method (see hypervisor/asm/reference.py): each corpus group is assembled by us into a linked
ELF, and by `riscv64-unknown-elf-as -march=rv32ima_zicsr_zifencei -mabi=ilp32 -mno-relax`
(or the -march a file names on a `# march:` first line: rvc.s uses rv32imac_zicsr_zifencei)
into objects that `riscv64-unknown-elf-ld --no-relax` links with a script placing every
output section at the address ours has.  The bytes of every loaded section must be equal.
No relaxation on either side: GNU's linker relaxation would shorten call/la sequences, which
an assembler that writes the final image in one step never does.  GNU as with its defaults
(relaxation on) is checked too, on the files without aligned code.
"""
import re
from pathlib import Path

import pytest

from hypervisor.asm import DEFAULT_MARCH, assemble_files, assemble_text
from hypervisor.asm import reference as ref
from hypervisor.asm.disasm import decode_text
from hypervisor.asm.elfread import read_elf
from hypervisor.asm.listing import listing
from hypervisor.asm.registers import register_number
from hypervisor.isa.csrs import ALIASES, CSRS, csr_number

CORPUS = Path(__file__).parent / "asm_corpus"
needs_gnu = pytest.mark.skipif(
    not ref.available(), reason="riscv64-unknown-elf-as/ld/objdump are not installed (CI has them)")


def corpus_groups():
    """Each corpus file, with its companions (x_ext.s / x_lib.s) linked after it."""
    files = sorted(p.name for p in CORPUS.glob("*.s"))
    companion = [f for f in files if f.endswith(("_ext.s", "_lib.s"))]
    groups = []
    for f in files:
        if f in companion:
            continue
        extra = [c for c in companion if f.startswith(c.rsplit("_", 1)[0])]
        groups.append([f] + extra)
    return groups


GROUPS = corpus_groups()


def _paths(group):
    return [str(CORPUS / f) for f in group]


def march_of(group):
    """The -march a corpus group is assembled with: a `# march: ISA` first line, or ours."""
    first = (CORPUS / group[0]).read_text().splitlines()[0]
    m = re.match(r"#\s*march:\s*(\S+)", first)
    return m.group(1) if m else DEFAULT_MARCH


def assemble_group(group):
    return assemble_files(_paths(group), march=march_of(group))


@needs_gnu
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: "+".join(g))
def test_section_bytes_equal_gnu(group):
    ours = assemble_group(group)
    gnu, _warnings = ref.gnu_build(_paths(group), ours, march=march_of(group))
    mine, theirs = ref.alloc_sections(ours), ref.alloc_sections(gnu)
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        assert mine[name][0] == theirs[name][0], f"{name} address"
        assert mine[name][2] == theirs[name][2], f"{name} size"
        assert mine[name][1] == theirs[name][1], f"{name} bytes differ"


@needs_gnu
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: "+".join(g))
def test_elf_flags_equal_gnu(group):
    """e_flags: EF_RISCV_RVC when any file was assembled with C on, as GNU ld merges them."""
    ours = assemble_group(group)
    gnu, _warnings = ref.gnu_build(_paths(group), ours, march=march_of(group))
    assert _e_flags(ours) == _e_flags(gnu)


def _e_flags(elf):
    return int.from_bytes(elf[36:40], "little")


# GNU as's default (relaxation on) pads aligned code with extra nops for the linker to delete
RELAX_GROUPS = [g for g in GROUPS if g[0] not in ("directives.s", "multi_main.s", "rvc.s")]


@needs_gnu
@pytest.mark.parametrize("group", RELAX_GROUPS, ids=lambda g: "+".join(g))
def test_same_bytes_with_gnu_as_defaults(group):
    ours = assemble_group(group)
    gnu, _warnings = ref.gnu_build(_paths(group), ours, relax=True, march=march_of(group))
    assert ref.alloc_sections(ours) == ref.alloc_sections(gnu)


def test_corpus_covers_every_instruction_and_pseudo():
    """Every mnemonic we accept appears in the corpus."""
    from hypervisor.asm.compress import EXPLICIT
    from hypervisor.asm.forms import FORMS
    text = "\n".join(p.read_text() for p in CORPUS.glob("*.s"))
    used = set(re.findall(r"^\s*(?:[\w.]+:\s*)*([a-z][\w.]*)", text, re.M))
    assert not (set(FORMS) | set(EXPLICIT)) - used


# --- objdump agreement ---------------------------------------------------------------------

# binutils 2.40's objdump prints immediate instructions under the register-form alias GNU as
# accepts (add a0,a1,5 for addi; csrw sstatus,5 for csrwi); we print the real names.
IMM_ALIASES = {"add": "addi", "and": "andi", "or": "ori", "xor": "xori", "sll": "slli",
               "srl": "srli", "sra": "srai", "csrw": "csrwi", "csrs": "csrsi", "csrc": "csrci",
               "csrrw": "csrrwi", "csrrs": "csrrsi", "csrrc": "csrrci"}
_LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f]+)\s*\t(\S+)(?:\t([^#]*))?(?:# (.*))?")


def parse_listing(text, notes=False):
    """{address: (mnemonic, [operands])} of the 2- and 4-byte instructions in objdump -d
    output (with `notes`, the `# address <symbol>` note as a third item)."""
    out = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and len(m.group(2)) in (4, 8):
            entry = (m.group(3), (m.group(4) or "").strip().split(","))
            out[int(m.group(1), 16)] = entry + (m.group(5),) if notes else entry
    return out


def _same(mine, theirs):
    (mn, ops), (tmn, tops) = mine, theirs
    if tmn in IMM_ALIASES and register_number(tops[-1]) is None and tops[-1]:
        tmn = IMM_ALIASES[tmn]
    if mn != tmn or len(ops) != len(tops):
        return False
    for a, b in zip(ops, tops):
        # objdump 2.40 defaults to privileged spec 1.11: it shows 1.12 CSRs as numbers
        if a != b and not (b.startswith("0x") and csr_number(a) == int(b, 16)):
            return False
    return True


OBJDUMP_GROUPS = [g for g in GROUPS if g[0] != "directives.s"]   # has misaligned code on purpose


@needs_gnu
@pytest.mark.parametrize("group", OBJDUMP_GROUPS, ids=lambda g: "+".join(g))
@pytest.mark.parametrize("aliases", [True, False], ids=["default", "no-aliases"])
def test_disassembly_agrees_with_objdump(group, aliases):
    elf = assemble_group(group)
    mine = parse_listing(listing(read_elf(elf), "x", aliases=aliases))
    theirs = parse_listing(ref.objdump(elf, *([] if aliases else ["-M", "no-aliases"])))
    decoded = {a for a, (mn, _) in mine.items() if mn not in (".4byte", ".2byte")}
    assert decoded <= set(theirs), "objdump decodes every word we decode"
    bad = [(hex(a), mine[a], theirs[a]) for a in sorted(decoded) if not _same(mine[a], theirs[a])]
    assert not bad


@needs_gnu
@pytest.mark.parametrize("group", OBJDUMP_GROUPS, ids=lambda g: "+".join(g))
def test_address_notes_agree_with_objdump(group):
    """Our `# address` notes are objdump's, with two deliberate differences: a symbol is
    named only for an address in (or at the end of) a section, and a lui/auipc value is
    forgotten once its register is written (objdump keeps it until the next use)."""
    image = read_elf(assemble_group(group))
    elf = assemble_group(group)
    mine = parse_listing(listing(image, "x"), notes=True)
    theirs = parse_listing(ref.objdump(elf), notes=True)
    spans = [(s.addr, s.addr + s.size) for s in image.sections]
    checked = 0
    for addr, (_mn, _ops, note) in mine.items():
        if note is None:
            continue
        other = theirs[addr][2]
        assert other is not None, f"{addr:#x}: we print # {note}, objdump nothing"
        value = int(note.split()[0], 16)
        assert value == int(other.split()[0].removeprefix("0x"), 16), hex(addr)
        inside = any(lo <= value <= hi for lo, hi in spans)
        assert (" <" in note) == inside and (not inside or note == other), (note, other)
        checked += 1
    assert checked or not any(t[2] for t in theirs.values())


@needs_gnu
def test_csr_names_agree_with_gnu(tmp_path):
    """Every CSR name we know is accepted by GNU as with the same number, and the name we
    print for each of the 4096 numbers is objdump's (where objdump names it)."""
    names = list(CSRS) + list(ALIASES)
    src = tmp_path / "csrs.s"
    src.write_text(".text\n" + "".join(f"    csrrs a0, {n}, x0\n" for n in names))
    ours = assemble_files([str(src)])
    assert ref.alloc_sections(ours) == ref.alloc_sections(ref.gnu_build([str(src)], ours)[0])

    every = assemble_text(".text\n" + "".join(f"    csrrs a0, {n}, x0\n" for n in range(4096)))
    code = ref.alloc_sections(every)[".text"]
    theirs = parse_listing(ref.objdump(every))
    assert len(theirs) == 4096
    different = []
    for addr, (mn, ops) in theirs.items():
        word = int.from_bytes(code[1][addr - code[0]:addr - code[0] + 4], "little")
        mine = decode_text(word, addr)
        if _same((mine[0], mine[1].split(",")), (mn, ops)):
            continue
        ours, gnus = mine[1].split(",")[-1], ops[-1]
        if mn in ("frflags", "frrm", "frcsr"):
            continue    # objdump assumes F for an ELF without attributes; we have no F
        if ours.startswith("0x") or gnus.startswith("0x"):
            continue    # one side has no name for it: N/V/AIA/stateen CSRs, or 1.12 ones
        different.append((hex(word >> 20), mine, (mn, ops)))
    assert not different
