"""Disassemble, reassemble, same bytes (issue 6): `hv dis --source` of every corpus image
assembles back to the identical image, with our assembler and (when installed) GNU as."""
from pathlib import Path

import pytest

from hypervisor.asm import assemble_files, assemble_text
from hypervisor.asm import reference as ref
from hypervisor.asm.elfread import read_elf
from hypervisor.asm.reassemble import to_source

CORPUS = Path(__file__).parent / "asm_corpus"


def corpus_groups():
    """Each corpus file, with its companions (x_ext.s / x_lib.s) linked after it."""
    files = sorted(p.name for p in CORPUS.glob("*.s"))
    companion = [f for f in files if f.endswith(("_ext.s", "_lib.s"))]
    return [[f] + [c for c in companion if f.startswith(c.rsplit("_", 1)[0])]
            for f in files if f not in companion]


def march_of(group):
    from test_asm_gnu import march_of as of
    return of(group)


@pytest.mark.parametrize("group", corpus_groups(), ids=lambda g: "+".join(g))
def test_source_reassembles_to_same_bytes(group, tmp_path):
    march = march_of(group)
    original = assemble_files([str(CORPUS / f) for f in group], march=march)
    source = to_source(read_elf(original))
    again = assemble_text(source, filename="roundtrip.s", march=march)
    assert ref.alloc_sections(again) == ref.alloc_sections(original)
    # the symbols come back too (the first of two same-named locals of different files)
    def names(elf):
        out = {}
        for s in read_elf(elf).symbols:
            out.setdefault(s.name, (s.value, s.is_global))
        return out
    assert names(again) == names(original)
    if ref.available():     # GNU as reads our disassembly the same way
        path = tmp_path / "roundtrip.s"
        path.write_text(source)
        gnu, _ = ref.gnu_build([str(path)], original, march=march)
        assert ref.alloc_sections(gnu) == ref.alloc_sections(original)


def test_every_word_of_the_corpus_disassembles():
    """No instruction we assemble comes back as `.4byte` (except data placed in code)."""
    from hypervisor.asm.disasm import decode_text
    elf = read_elf(assemble_files([str(CORPUS / "rv32i.s")]))
    text = next(s for s in elf.sections if s.name == ".text")
    words = [int.from_bytes(text.data[i:i + 4], "little") for i in range(0, len(text.data), 4)]
    assert all(decode_text(w)[0] != ".4byte" for w in words)
