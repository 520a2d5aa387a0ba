"""Issue 9, item 4: loading an ELF never hangs.  pyelftools trusts the header's table sizes
(PN_XNUM: the program header count comes from section 0's sh_info) and reads one header 4
billion times; hvlab bounds every table by the file's size before pyelftools sees the file."""
import contextlib
import signal
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from hypervisor.loader import ImageError, load_image
from test_loader import GOOD

RAM_BASE, RAM = 0x80000000, 8 << 20
PN_XNUM = 0xFFFF


class TookTooLong(BaseException):
    """Not an Exception: the loader's own `except Exception` must not swallow it."""


@contextlib.contextmanager
def time_limit(seconds):
    def alarm(signum, frame):
        raise TookTooLong(f"still loading after {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def elf_header(phoff=0, phentsize=0, phnum=PN_XNUM, shoff=52, shentsize=40, shnum=1,
               shstrndx=0, entry=0x80400000):
    ident = b"\x7fELF" + bytes((1, 1, 1, 0)) + bytes(8)
    return ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, entry, phoff, shoff, 0, 52,
                               phentsize, phnum, shentsize, shnum, shstrndx)


def section(name=0, kind=0, offset=0, size=0, link=0, info=0, entsize=0):
    return struct.pack("<10I", name, kind, 0, 0, offset, size, link, info, 0, entsize)


# the review's file: e_phnum = PN_XNUM, section 0 says sh_info = 0xFFFFFFFF program headers,
# e_phoff = 0 and e_phentsize = 0: every "header" is the ELF header itself, read again and again
HANG = elf_header() + section(info=0xFFFFFFFF) + bytes(12)


def _load(blob):
    with time_limit(10):
        try:
            image = load_image(blob, RAM_BASE, RAM)
        except ImageError as exc:
            assert "\n" not in str(exc)
            return str(exc)
        image.symbols                   # the lazy symbol table walk must end too
        return image


def test_pn_xnum_with_a_huge_count_is_refused_at_once():
    assert len(HANG) == 104
    err = _load(HANG)
    assert isinstance(err, str) and "program header" in err


def test_a_program_header_entry_size_other_than_32_is_refused():
    blob = bytearray(GOOD)
    struct.pack_into("<H", blob, 42, 56)                  # e_phentsize of ELF64
    assert "e_phentsize" in _load(bytes(blob))


def test_a_program_header_table_past_the_end_of_the_file_is_refused():
    blob = bytearray(GOOD)
    struct.pack_into("<H", blob, 44, 1000)                # e_phnum: 32,000 bytes of headers
    assert "past the end" in _load(bytes(blob))


def test_a_section_count_from_section_0_is_bounded_too():
    # e_shnum = 0 with e_shoff set: the count is section 0's sh_size (ELF gABI), here 4 billion
    blob = bytearray(GOOD + section(size=0xFFFFFFFF))
    struct.pack_into("<I", blob, 32, len(GOOD))                     # e_shoff
    struct.pack_into("<HHH", blob, 46, 40, 0, 0)                    # shentsize, shnum, strndx
    assert "section header" in _load(bytes(blob))


def test_pn_xnum_with_a_real_count_still_loads():
    # PN_XNUM is legitimate: 1 program header whose count is kept in section 0's sh_info
    blob = bytearray(GOOD)
    shoff = len(blob)
    blob += section(info=1)
    struct.pack_into("<I", blob, 32, shoff)                         # e_shoff
    struct.pack_into("<HHHH", blob, 44, PN_XNUM, 40, 1, 0)          # phnum, shentsize, shnum
    image = _load(bytes(blob))
    assert not isinstance(image, str), image
    assert image.entry == 0x80400000 and len(image.segments) == 1


EDGE = st.sampled_from([0, 1, 2, 31, 32, 33, 40, 52, 0x7FFF, 0xFFFE, 0xFFFF])
EDGE32 = st.one_of(EDGE, st.sampled_from([0x10000, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFF]),
                   st.integers(0, 0xFFFFFFFF))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(phoff=EDGE32, phentsize=EDGE, phnum=EDGE, shoff=EDGE32, shentsize=EDGE, shnum=EDGE,
       shstrndx=EDGE, sh0=st.tuples(EDGE32, EDGE32, EDGE32, EDGE32, EDGE32))
def test_any_table_geometry_loads_or_fails_in_bounded_time(phoff, phentsize, phnum, shoff,
                                                           shentsize, shnum, shstrndx, sh0):
    size, link, info, offset, entsize = sh0
    body = GOOD[52:]
    blob = elf_header(phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx) + body + \
        section(kind=2, offset=offset, size=size, link=link, info=info, entsize=entsize)
    _load(blob)
