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
RES_ADDR = 49   # reserved virtual address, or -1 when no reservation is held

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

STATE_SIZE = 80

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
