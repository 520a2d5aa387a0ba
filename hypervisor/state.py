"""The layout of one VM's hart state: a row of int64 named by the constants below.

Every VM's registers, pc, privilege, virtual CSR file, counters and exit counters live in one
int64 row, so many VMs sit side by side in a 2-D array (``states[vm, :]``) and the TUI can read
any of them at any time without stopping the hart (a torn read of a counter is harmless).  One
int64 array beat separate arrays by 6-15% in the prototypes (shared/notes/hart-performance.md).

Register values are kept as *unsigned* 32-bit numbers (0 .. 2**32-1) in the int64 slots.

    index   what
    0..31   x0..x31 (x0 is rewritten to 0 before every instruction)
    32      PC
    33      PRIV          virtual privilege: 1 = S, 0 = U (M belongs to the monitor)
    34..    virtual S-mode CSRs (privileged spec ch. 10 "Supervisor-Level ISA")
    ..      counters (cycle, instret), timer compare, reservation, exit info
    64..    exit counters, one per cause (EXIT_NAMES)
    127     X_SINK        the destination of instructions whose rd is x0
"""

# --- general registers and pc -----------------------------------------------------------------
X0 = 0
PC = 32
PRIV = 33

# --- virtual supervisor CSRs --------------------------------------------------------------------
SSTATUS = 34
SIE = 35
SIP = 36        # SSIP is guest-writable; STIP/SEIP are driven by the monitor (timer, PLIC)
STVEC = 37
SSCRATCH = 38
SEPC = 39
SCAUSE = 40
STVAL = 41
SATP = 42
SCOUNTEREN = 43
SENVCFG = 44

# --- counters and the virtual timer -----------------------------------------------------------
CYCLE = 45      # virtual cycles: executed instructions plus time skipped while idle in wfi
INSTRET = 46    # instructions retired
TIMECMP = 47    # SBI set_timer deadline in timebase ticks (-1: none). STIP = time >= TIMECMP
TIME_DIV = 48   # cycles per timebase tick (time = CYCLE // TIME_DIV)

# --- LR/SC reservation ----------------------------------------------------------------------------
RES_ADDR = 49   # the reserved word: its host index (physical), or -1 when none is held

# --- configuration set by the monitor -------------------------------------------------------------
TRAP_VIA_MONITOR = 50   # 1: every guest exception exits to the monitor before it is delivered
RAM_BASE = 51           # guest-physical base of RAM (0x8000_0000)
RAM_SIZE = 52           # bytes of guest RAM

# --- what the last exit was about (written by the hart, read by the monitor) --------------------
EXIT_INSN = 53      # instruction word of the exiting instruction
EXIT_VADDR = 54     # virtual address of the access (G-stage / MMIO exits)
EXIT_GPA = 55       # guest-physical address of the access
EXIT_ACCESS = 56    # ACCESS_READ / ACCESS_WRITE / ACCESS_EXEC
EXIT_CAUSE = 57     # trap cause (TRAP exits, crashes)
EXIT_TVAL = 58      # trap value
EXIT_PC = 59        # pc of the trapping instruction

IDLE = 60           # 1 while the hart waits in wfi with nothing pending
WALLCLOCK = 61      # 1: time follows the host clock (the monitor advances CYCLE); wfi sleeps
MISA = 62           # the ISA, encoded as the misa CSR does (an M-mode CSR: the guest cannot read
                    # it; the monitor sets it at boot): MXL = 1 (RV32), I, M, A, S, U and C or not
MISA_C = 1 << 2     # misa bit of the C extension
MISA_RV32IMA = (1 << 30) | sum(1 << (ord(x) - ord("A")) for x in "IMASU")
MISA_RV32IMAC = MISA_RV32IMA | MISA_C
EXIT_ILEN = 63      # length in bytes (2 or 4) of the exiting instruction (SBI and MMIO exits):
                    # the monitor steps past it by this much

# --- the idle pacing of virtual time (csr._wfi, scheduler.py) -----------------------------------
SKIP_LIMIT = 76     # wfi may skip virtual time up to this CYCLE; a skip past it waits in host
                    # time instead (0: no limit; the scheduler keeps it a little ahead of the
                    # host clock, so an idle guest does not run its timers back to back)
MEGA_TLB = 77       # 1: the TLB may hold entries of a 4 MiB megapage (sfence.vma by address
                    # then drops every entry of the address's 4 MiB region, not one page)

# --- exit counters ----------------------------------------------------------------------------
COUNTERS = 64
EXIT_NAMES = (
    "csr_read",         # CSR instruction that only reads
    "csr_write",        # CSR instruction that writes (csrrw/s/c with a source)
    "sret",
    "wfi",
    "sfence",           # sfence.vma
    "sbi",              # ecall from virtual S-mode
    "gstage",           # guest-physical page not mapped (demand allocation)
    "mmio",             # device access emulated by the monitor
    "irq",              # interrupt injected into the guest
    "exc_delegated",    # exception delivered straight to the guest's stvec
    "exc_monitor",      # exception routed through the monitor (TRAP_VIA_MONITOR)
    "counter",          # cycle/time/instret read from U-mode
)
N_EXITS = len(EXIT_NAMES)
(CNT_CSR_READ, CNT_CSR_WRITE, CNT_SRET, CNT_WFI, CNT_SFENCE, CNT_SBI, CNT_GSTAGE, CNT_MMIO,
 CNT_IRQ, CNT_EXC_DELEGATED, CNT_EXC_MONITOR, CNT_COUNTER) = range(COUNTERS, COUNTERS + N_EXITS)

X_SINK = 127         # where instructions with rd = x0 write (predecoded so), never read: x0
                     # itself is never written and need not be zeroed before each instruction
STATE_SIZE = 128     # a power of two: a record's 7-bit rd field always indexes inside the row

# --- privilege levels ------------------------------------------------------------------------------
PRIV_U = 0
PRIV_S = 1

# --- access kinds --------------------------------------------------------------------------------
ACCESS_READ = 0
ACCESS_WRITE = 1
ACCESS_EXEC = 2

# --- kernel return codes (cpu.run) ----------------------------------------------------------------
RUN_BUDGET = 0      # the instruction budget is spent
RUN_STOP = 1        # the stop flag was raised
RUN_SBI = 2         # ecall from virtual S-mode: a7/a6 name the SBI call; pc still at the ecall
RUN_GSTAGE = 3      # access to an unmapped guest-physical address (EXIT_GPA, EXIT_ACCESS, ...)
RUN_TRAP = 4        # guest exception to route through the monitor (EXIT_CAUSE, EXIT_TVAL, EXIT_PC)
RUN_IDLE = 5        # wfi with no interrupt pending and no timer armed
RUN_CRASH = 6       # double fault: trap with no usable stvec (EXIT_CAUSE, EXIT_TVAL, EXIT_PC)
RUN_NAMES = ("budget", "stop", "sbi", "gstage", "trap", "idle", "crash")

# --- the TLB: direct-mapped entries of 4 int64 (read tag, write tag, exec tag, host addend) ---
# 256 entries, indexed by a hash of the virtual page number (vpn ^ vpn >> 8): with a plain
# `vpn & 63`, two arrays 1 MiB apart (a common layout) fell into one entry and evicted each
# other on every access, and a loop over both ran at 6 MIPS instead of 250.
TLB_ENTRIES = 256
TLB_SIZE = TLB_ENTRIES * 4
# A write tag with this bit set (vpn | TLB_HASCODE) marks a page that has decoded instructions in
# the predecode cache: the inner loop's store test misses, and the slow path stores and
# invalidates the decoded records it overwrote (vpn < 2**20, so the bit is free).
TLB_HASCODE = 1 << 20

# --- the predecode cache, in the same int64 array as the TLB, after it -------------------------
# Decoded instruction records (decode.py) of up to ICACHE_MAX_SLOTS host pages, one slot per
# page (direct-mapped by host page number), one int64 record per 2-byte parcel:
#     tlb[ICACHE_SLOTS]                   number of slots S (a power of two)
#     tlb[TLB_HOST_IDX .. + 3]            scratch: host indices of a slow access's bytes
#                                         (access.py; a slice of tlb, so cpu.run allocates
#                                         nothing, and compiles no np.empty)
#     tlb[ICACHE_TAG + s]                 host page number held in slot s, or -1
#     tlb[ICACHE_REC + s * SLOT_STRIDE + i]  record of the instruction at byte 2*i of that page
#                                         (0: not decoded yet), i < 2048; record 2048 is a
#                                         sentinel (C_PAGE_END) that stops straight-line code
#                                         running off the page, so the inner loop tests the page
#                                         only on jumps
# slot S is a scratch page for page-straddling instructions: only its first record is written.
# 512, not 128: Linux's boot executes code from ~370 host pages, which 128 direct-mapped slots
# kept evicting and decoding again (linux-batch's VM time 1.20x longer, bench/boot.py --vs a
# 128-slot tree, 9 rounds); its cache is then ~5.9 MiB resident, a small program's a few slots
ICACHE_MAX_SLOTS = 512
ICACHE_SLOTS = TLB_SIZE
TLB_HOST_IDX = TLB_SIZE + 4
ICACHE_TAG = TLB_SIZE + 8
ICACHE_REC = TLB_SIZE + 8 + ICACHE_MAX_SLOTS
RECS_PER_PAGE = 2048
SLOT_STRIDE = RECS_PER_PAGE + 1


def icache_slots(ram_pages):
    """Slots for a VM of ``ram_pages`` guest pages: an eighth of its pages (a power of two),
    between 4 and ICACHE_MAX_SLOTS.  Each slot is 2,049 records of 8 bytes (16 KiB), so a VM's
    TLB array (TLB, tags, slots and the scratch slot) is at most 8.03 MiB of address space
    (512 slots: 16 MiB of RAM or more), 540 KiB with 1 MiB of RAM (32 slots), 92 KiB with
    64 KiB (4 slots).  It is an anonymous mapping (icache.new_tlb): the host backs only the
    pages of the slots a VM has used."""
    s = 4
    while s < ICACHE_MAX_SLOTS and s * 2 <= ram_pages // 8:
        s *= 2
    return s


def tlb_size(slots):
    """int64 elements of a TLB with ``slots`` predecode slots (and the scratch slot)."""
    return ICACHE_REC + (slots + 1) * SLOT_STRIDE
