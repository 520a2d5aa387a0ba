"""hvlab's assembler and disassembler: GNU as syntax for RV32IMAC + Zicsr + Zifencei.

    assemble_files(paths, base=0x80400000, march=DEFAULT_MARCH) -> bytes   a linked ELF32
    assemble_text(text, base=..., filename="<string>", march=...) -> bytes
    disassemble_word(word, pc=0, symbols=None) -> str    e.g. "addi sp,sp,-16"
    AsmError                                             file, line, col, message, hint;
                                                         AsmErrors when there are several
`march` is an ISA string as for GNU as (`rv32imac_zicsr_zifencei` compresses); the default,
DEFAULT_MARCH, is rv32ima_zicsr_zifencei.

See docs/assembly.md for the language and hypervisor/asm/commands.py for `hv asm`/`hv dis`.
"""
from .errors import AsmError, AsmErrors
from .march import DEFAULT_MARCH, MarchError
from .program import DEFAULT_BASE, build, link


def assemble_sources(sources, base=DEFAULT_BASE, march=DEFAULT_MARCH):
    """[(filename, text)] -> ELF image bytes."""
    name = sources[0][0] if sources else "<string>"
    try:
        return link(build(sources, base, march))
    except MarchError as exc:
        raise AsmError(f"-march {exc}", name) from None
    except RecursionError:
        raise AsmError("an expression is nested too deeply (over ~900 levels)", name) from None


def assemble_text(text, base=DEFAULT_BASE, filename="<string>", march=DEFAULT_MARCH):
    """Assemble one source text into a linked ELF image."""
    return assemble_sources([(filename, text)], base, march)


def assemble_files(paths, base=DEFAULT_BASE, march=DEFAULT_MARCH):
    """Assemble source files (in order, as if linked in that order) into an ELF image."""
    sources = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                sources.append((str(path), f.read()))
        except OSError as exc:
            raise AsmError(f"cannot read: {exc.strerror}", str(path)) from None
        except UnicodeDecodeError:
            raise AsmError("not a text file (expected UTF-8 assembly source)", str(path)) from None
    return assemble_sources(sources, base, march)


def disassemble_word(word, pc=0, symbols=None):
    """One instruction word as text, with GNU objdump's pseudo-instruction forms, e.g.
    "beq a0,a1,80400010 <loop+0x8>".  `symbols` is {address: name}, or a `Symbols` built
    once from it (cheaper when disassembling many words); without symbols, targets are
    printed as 0x-hex addresses."""
    from .disasm import disassemble_word as dis
    return dis(word, pc, symbols)


def __getattr__(name):
    if name == "Symbols":
        from .disasm import Symbols
        return Symbols
    raise AttributeError(name)


__all__ = ["AsmError", "AsmErrors", "DEFAULT_MARCH", "assemble_files", "assemble_text", "assemble_sources",
           "disassemble_word", "Symbols", "DEFAULT_BASE"]
