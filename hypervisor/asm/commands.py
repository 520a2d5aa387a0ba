"""`hv asm` and `hv dis`."""
import os
import sys

from .errors import AsmError
from .march import DEFAULT_MARCH
from .program import DEFAULT_BASE


def _number(text):
    """argparse type for addresses and words: 0x.., 0b.., 0o.. or decimal."""
    import argparse
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"{text} does not fit in 32 bits")
    return value


def _march(text):
    """argparse type for -march: an ISA string we can assemble for."""
    import argparse
    from .march import MarchError, parse_march
    try:
        parse_march(text)
    except MarchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def register(subparsers):
    p = subparsers.add_parser(
        "asm", help="assemble RV32IMAC assembly (GNU as syntax) into an ELF image",
        description="Assemble one or more .s files (GNU as syntax, RV32IMAC + Zicsr + Zifencei) "
                    "into one linked ELF32 executable, byte for byte what GNU as and "
                    "ld --no-relax make of them.  See docs/assembly.md.")
    p.add_argument("sources", nargs="+", metavar="FILE.s",
                   help="assembly source files, linked in this order")
    p.add_argument("-o", "--output", metavar="FILE.elf",
                   help="output file (default: the first source with .elf)")
    p.add_argument("--base", type=_number, default=DEFAULT_BASE, metavar="ADDR",
                   help=f"address of .text (default {DEFAULT_BASE:#x}); must suit its alignment")
    p.add_argument("-march", "--march", type=_march, default=DEFAULT_MARCH, metavar="ISA",
                   help=f"ISA extensions, as for GNU as (default {DEFAULT_MARCH}); with C, "
                        "e.g. rv32imac_zicsr_zifencei, instructions are compressed as GNU as "
                        "does")
    p.set_defaults(func=run_asm)

    d = subparsers.add_parser(
        "dis", help="disassemble an ELF image or one instruction word",
        description="Disassemble the code of an ELF file the way objdump -d shows it, or one "
                    "32-bit instruction word with --hex.")
    d.add_argument("elf", nargs="?", metavar="FILE.elf", help="ELF executable")
    d.add_argument("--hex", type=_number, metavar="WORD",
                   help="disassemble this one instruction (32 bits, or 16 bits when the low "
                        "two bits are not 11)")
    d.add_argument("--pc", type=_number, default=0, metavar="ADDR",
                   help="address of the --hex word (for branch targets)")
    d.add_argument("-S", "--source", action="store_true",
                   help="print assembly source that reassembles to the same bytes")
    d.add_argument("--no-aliases", action="store_true",
                   help="print real instructions, not pseudo-instructions")
    d.set_defaults(func=run_dis)


def _fail(message):
    print(message, file=sys.stderr)
    return 2


def run_asm(args):
    output = args.output or os.path.splitext(args.sources[0])[0] + ".elf"
    from . import assemble_files
    try:
        image = assemble_files(args.sources, base=args.base, march=args.march)
    except AsmError as exc:
        return _fail(str(exc))          # every error, one per line (at most 20, then a count)
    except RecursionError:
        return _fail(f"{args.sources[0]}: error: expression nested too deeply")
    try:
        with open(output, "wb") as f:
            f.write(image)
    except OSError as exc:
        return _fail(f"{output}: error: cannot write: {exc.strerror}")
    return 0


def run_dis(args):
    from .disasm import decode_text
    if args.hex is not None:
        if args.elf:
            return _fail("hv dis: error: give either FILE.elf or --hex WORD, not both")
        if args.hex & 3 != 3 and args.hex > 0xFFFF:
            return _fail(f"hv dis: error: {args.hex:#x} is not one instruction: its low 16 bits "
                         f"{args.hex & 0xFFFF:#06x} are a whole (compressed) instruction")
        mn, ops = decode_text(args.hex, args.pc, None, not args.no_aliases)
        print(f"{mn} {ops}".rstrip())
        return 0
    if not args.elf:
        return _fail("hv dis: error: give FILE.elf or --hex WORD")
    from .elfread import read_elf
    try:
        with open(args.elf, "rb") as f:
            image = read_elf(f.read(), args.elf)
    except OSError as exc:
        return _fail(f"{args.elf}: error: cannot read: {exc.strerror}")
    except AsmError as exc:
        return _fail(str(exc))
    if args.source:
        from .reassemble import to_source
        sys.stdout.write(to_source(image, args.elf))
    else:
        from .listing import listing
        sys.stdout.write(listing(image, args.elf, aliases=not args.no_aliases))
    return 0
