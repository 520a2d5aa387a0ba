/* rogue - the attacker.
 *
 * Tries, one at a time, everything a guest might do to reach outside its VM:
 * loads, stores, atomics and instruction fetches below, above and far outside
 * its RAM, at device holes and at wrapped addresses; Sv32 page tables that
 * point at guest-physical pages beyond RAM (just past its end, and above
 * 4 GiB, where a 32-bit truncation would alias RAM); every privileged
 * instruction from U-mode; writes to read-only CSRs and M-mode instructions
 * from S-mode; jumps to random addresses.
 *
 * Each attempt runs under a guard: if it traps, the trap handler records
 * scause/stval and resumes rogue at the guard (a setjmp/longjmp done by
 * rewriting the trap frame).  An attempt is "contained" when it trapped with
 * one of the causes the guest ABI (docs/guest-abi.md) promises for it.  A few
 * controls check that the legitimate neighbours of those accesses still work.
 * rogue shuts down with SRST reason 0 only if every attempt had its expected
 * outcome, reason 1 otherwise.
 */
#include "guest.h"

#define BIT(c)          (1u << (c))
#define NO_TRAP         0u              /* a control: must not trap */
#define SC_FAIL_OK      0x80000000u     /* sc.w: "no trap, store failed" is fine too */

#define LOAD_FAULT      BIT(EXC_LOAD_ACCESS)
#define STORE_FAULT     BIT(EXC_STORE_ACCESS)
#define FETCH_FAULT     BIT(EXC_INST_ACCESS)
#define ILLEGAL         BIT(EXC_ILLEGAL_INST)
#define LOAD_PF         BIT(EXC_LOAD_PAGE_FAULT)
#define STORE_PF        BIT(EXC_STORE_PAGE_FAULT)
#define FETCH_PF        BIT(EXC_INST_PAGE_FAULT)

typedef uint32_t (*probe_t)(uint32_t, uint32_t);

/* probes.S */
uint32_t probe_lw(uint32_t, uint32_t), probe_lb(uint32_t, uint32_t);
uint32_t probe_lw_plus8(uint32_t, uint32_t), probe_sw(uint32_t, uint32_t);
uint32_t probe_amoadd(uint32_t, uint32_t), probe_lr(uint32_t, uint32_t);
uint32_t probe_sc(uint32_t, uint32_t), probe_jump(uint32_t, uint32_t);
uint32_t s_mret(uint32_t, uint32_t), s_csrw_cycle(uint32_t, uint32_t);
uint32_t s_csrw_time(uint32_t, uint32_t), s_csrw_instret(uint32_t, uint32_t);
uint32_t s_csrw_cycleh(uint32_t, uint32_t), s_csrw_timeh(uint32_t, uint32_t);
uint32_t s_csrw_instreth(uint32_t, uint32_t), s_csrr_mstatus(uint32_t, uint32_t);
uint32_t s_csrw_mtvec(uint32_t, uint32_t), s_csrr_mhartid(uint32_t, uint32_t);
uint32_t s_csrr_misa(uint32_t, uint32_t), s_csrr_hstatus(uint32_t, uint32_t);
uint32_t s_csrr_dcsr(uint32_t, uint32_t), s_ebreak(uint32_t, uint32_t);
void u_csrr_sstatus(void), u_csrw_sstatus(void), u_csrw_stvec(void), u_csrr_sie(void);
void u_csrr_sscratch(void), u_csrw_satp(void), u_csrr_mstatus(void), u_sret(void);
void u_mret(void), u_wfi(void), u_sfence(void), u_rdcycle(void), u_rdtime(void);
void u_rdinstret(void), u_ecall(void), u_lw(void), u_jump(void);

struct jmpctx {
        uint32_t ra, sp, s[12];
};
int guard_setjmp(struct jmpctx *ctx) __attribute__((returns_twice));
void enter_user(void (*entry)(void), uint32_t user_sp, uint32_t arg) __attribute__((noreturn));

static struct jmpctx guard;
static volatile int armed;
static volatile uint32_t trap_cause, trap_tval, trap_from_u;

static uint8_t user_stack[1024] __attribute__((aligned(16)));
static uint8_t scratch[4096] __attribute__((aligned(4096)));

static unsigned n_attempts, n_good;

/* The trap handler: during an attempt, note the trap and resume at the guard
 * with guard_setjmp() returning 1, back in S-mode on rogue's own stack. */
static void on_trap(struct trap_frame *tf)
{
        if (!armed) {
                printf("rogue: trap outside an attempt!\n");
                trap_dump(tf);
                console_flush();
                sbi_shutdown(1);
        }
        armed = 0;
        trap_cause = tf->scause;
        trap_tval = tf->stval;
        trap_from_u = !(tf->sstatus & SSTATUS_SPP);

        tf->regs[REG_RA] = guard.ra;
        tf->regs[REG_SP] = guard.sp;
        tf->regs[REG_S0] = guard.s[0];
        tf->regs[REG_S1] = guard.s[1];
        for (int i = 2; i < 12; i++)
                tf->regs[REG_S2 + i - 2] = guard.s[i];
        tf->regs[REG_A0] = 1;
        tf->sepc = guard.ra;
        tf->sstatus |= SSTATUS_SPP;             /* resume in S-mode ... */
        tf->sstatus &= ~SSTATUS_SPIE;           /* ... with interrupts off */
}

struct outcome {
        int trapped;
        uint32_t value;                 /* what the probe returned if it did not trap */
};

static const char *short_cause(uint32_t c)
{
        switch (c) {
        case EXC_INST_MISALIGNED: return "fetch misaligned";
        case EXC_INST_ACCESS: return "fetch access fault";
        case EXC_ILLEGAL_INST: return "illegal instruction";
        case EXC_BREAKPOINT: return "breakpoint";
        case EXC_LOAD_MISALIGNED: return "load misaligned";
        case EXC_LOAD_ACCESS: return "load access fault";
        case EXC_STORE_MISALIGNED: return "store misaligned";
        case EXC_STORE_ACCESS: return "store access fault";
        case EXC_ECALL_U: return "ecall from U";
        case EXC_ECALL_S: return "ecall from S";
        case EXC_INST_PAGE_FAULT: return "fetch page fault";
        case EXC_LOAD_PAGE_FAULT: return "load page fault";
        case EXC_STORE_PAGE_FAULT: return "store page fault";
        default: return (c & SCAUSE_INTERRUPT) ? "interrupt" : "?";
        }
}

/* Run one attempt: fn(a, b) in S-mode, or fn with a0 = a in U-mode. */
static struct outcome attempt(int user, void *fn, uint32_t a, uint32_t b, uint32_t expect,
                              const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

static struct outcome attempt(int user, void *fn, uint32_t a, uint32_t b, uint32_t expect,
                              const char *fmt, ...)
{
        struct outcome o = { 0, 0 };
        volatile uint32_t value = 0;
        char what[72], result[72];
        const char *verdict;
        int good;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        console_flush();

        if (guard_setjmp(&guard) == 0) {
                armed = 1;
                if (user)
                        enter_user((void (*)(void))fn, (uintptr_t)(user_stack + sizeof(user_stack)), a);
                value = ((probe_t)fn)(a, b);
                armed = 0;
                o.trapped = 0;
        } else {
                o.trapped = 1;
        }
        o.value = value;

        n_attempts++;
        if (o.trapped) {
                uint32_t c = trap_cause;
                good = !(c & SCAUSE_INTERRUPT) && c < 31 && (expect & ~SC_FAIL_OK & BIT(c));
                snprintf(result, sizeof(result), "scause %2lu %-19s stval 0x%08lx",
                         (unsigned long)c, short_cause(c), (unsigned long)trap_tval);
                verdict = good ? "contained" : (expect == NO_TRAP ? "WRONG: should not trap"
                                                                  : "WRONG CAUSE");
        } else {
                good = expect == NO_TRAP || ((expect & SC_FAIL_OK) && o.value != 0);
                snprintf(result, sizeof(result), "no trap, a0 = 0x%08lx", (unsigned long)o.value);
                verdict = good ? (expect == NO_TRAP ? "ok (allowed)" : "contained (sc.w failed)")
                               : "NOT CONTAINED";
        }
        n_good += good;
        printf("rogue: %2u %c %-50s -> %-53s %s\n", n_attempts, user ? 'U' : 'S', what, result,
               verdict);
        if (!good && expect != NO_TRAP) {
                printf("rogue:        expected:");
                for (int c = 0; c < 31; c++)
                        if (expect & BIT(c))
                                printf(" %s (%d)", short_cause((uint32_t)c), c);
                if (expect & SC_FAIL_OK)
                        printf(" or a failed sc.w");
                printf("\n");
        }
        return o;
}

#define S_(fn, a, b, expect, ...) attempt(0, (void *)(fn), (a), (b), (expect), __VA_ARGS__)
#define U_(fn, a, expect, ...) attempt(1, (void *)(fn), (a), 0, (expect), __VA_ARGS__)

static uint32_t lcg_state = 0x5eed1234u;

static uint32_t lcg(void)
{
        lcg_state = lcg_state * 1664525u + 1013904223u;
        return lcg_state;
}

int main(unsigned long hartid, const void *dtb)
{
        uint32_t base, end, i;
        uint64_t ram_end;
        pte_t *root;
        struct outcome o;

        guest_init(hartid, dtb);
        trap_init(on_trap);
        ram_end = boot.mem_base + boot.mem_size;
        if (boot.mem_base != RAM_BASE || ram_end > 0xfffff000u || boot.mem_size < 8 * MiB) {
                printf("rogue: needs 8 MiB .. 2 GiB of RAM at 0x80000000 (got %llu bytes at "
                       "0x%llx)\n", (unsigned long long)boot.mem_size,
                       (unsigned long long)boot.mem_base);
                return 1;
        }
        base = (uint32_t)boot.mem_base;
        end = (uint32_t)ram_end;
        printf("rogue: RAM is 0x%08lx..0x%08lx (%lu MiB); trying to get out of it\n",
               (unsigned long)base, (unsigned long)(end - 1), (unsigned long)(boot.mem_size >> 20));
        printf("rogue: each line: mode, attempt -> what happened, verdict\n");

        printf("rogue: --- physical memory outside RAM (paging off) ---\n");
        S_(probe_lw, base, 0, NO_TRAP, "load first word of RAM 0x%08lx", (unsigned long)base);
        S_(probe_lw, end - 4, 0, NO_TRAP, "load last word of RAM 0x%08lx", (unsigned long)(end - 4));
        S_(probe_lw, 0x7ffff000u, 0, LOAD_FAULT, "load below RAM 0x7ffff000");
        S_(probe_sw, 0x7ffffffcu, 0x11, STORE_FAULT, "store just below RAM 0x7ffffffc");
        S_(probe_lw, 0, 0, LOAD_FAULT, "load 0x00000000");
        S_(probe_sw, 0, 0x22, STORE_FAULT, "store 0x00000000");
        S_(probe_lw, end, 0, LOAD_FAULT, "load at RAM end 0x%08lx", (unsigned long)end);
        S_(probe_sw, end, 0x33, STORE_FAULT, "store at RAM end 0x%08lx", (unsigned long)end);
        S_(probe_lw, end + 0x1000, 0, LOAD_FAULT, "load a page above RAM end 0x%08lx",
           (unsigned long)(end + 0x1000));
        S_(probe_lw, 0xfffffff0u, 0, LOAD_FAULT, "load far outside 0xfffffff0");
        S_(probe_sw, 0xfffffff0u, 0x44, STORE_FAULT, "store far outside 0xfffffff0");
        S_(probe_lb, 0xffffffffu, 0, LOAD_FAULT, "byte load at the top 0xffffffff");

        printf("rogue: --- device holes (not RAM, not one of our devices) ---\n");
        S_(probe_lw, 0x00001000u, 0, LOAD_FAULT, "load 0x00001000 (boot ROM on QEMU)");
        S_(probe_lw, 0x00101000u, 0, LOAD_FAULT, "load 0x00101000 (RTC on QEMU)");
        S_(probe_lw, 0x02000000u, 0, LOAD_FAULT, "load 0x02000000 (CLINT on QEMU)");
        S_(probe_sw, 0x02004000u, 0x55, STORE_FAULT, "store 0x02004000 (mtimecmp on QEMU)");
        S_(probe_lw, 0x0bfffffcu, 0, LOAD_FAULT, "load 0x0bfffffc (just below the PLIC)");
        S_(probe_lw, 0x10001000u, 0, LOAD_FAULT, "load 0x10001000 (virtio on QEMU)");
        S_(probe_lw, 0x20000000u, 0, LOAD_FAULT, "load 0x20000000 (flash on QEMU)");
        S_(probe_sw, 0x20000000u, 0x66, STORE_FAULT, "store 0x20000000 (flash on QEMU)");
        S_(probe_lw, 0x30000000u, 0, LOAD_FAULT, "load 0x30000000 (PCIe ECAM on QEMU)");
        S_(probe_lw, 0x40000000u, 0, LOAD_FAULT, "load 0x40000000 (PCIe MMIO on QEMU)");

        printf("rogue: --- wrapped and straddling accesses ---\n");
        S_(probe_lw, 0xfffffffeu, 0, BIT(EXC_LOAD_MISALIGNED) | LOAD_FAULT,
           "misaligned load crossing 2^32 at 0xfffffffe");
        S_(probe_sw, 0xfffffffeu, 0x77, BIT(EXC_STORE_MISALIGNED) | STORE_FAULT,
           "misaligned store crossing 2^32 at 0xfffffffe");
        S_(probe_lw_plus8, 0xfffffffcu, 0, LOAD_FAULT, "load 8(0xfffffffc): wraps to 0x00000004");
        S_(probe_lw, end - 2, 0, BIT(EXC_LOAD_MISALIGNED) | LOAD_FAULT,
           "misaligned load straddling RAM end 0x%08lx", (unsigned long)(end - 2));
        S_(probe_sw, end - 2, 0x88, BIT(EXC_STORE_MISALIGNED) | STORE_FAULT,
           "misaligned store straddling RAM end 0x%08lx", (unsigned long)(end - 2));
        S_(probe_sw, base - 2, 0x99, BIT(EXC_STORE_MISALIGNED) | STORE_FAULT,
           "misaligned store straddling RAM start 0x%08lx", (unsigned long)(base - 2));
        S_(probe_lw, end - 6, 0, NO_TRAP, "misaligned load inside RAM 0x%08lx",
           (unsigned long)(end - 6));

        printf("rogue: --- atomics outside RAM and on MMIO ---\n");
        S_(probe_amoadd, 0, 0, STORE_FAULT, "amoadd.w at 0x00000000");
        S_(probe_amoadd, end, 0, STORE_FAULT, "amoadd.w at RAM end 0x%08lx", (unsigned long)end);
        S_(probe_lr, end, 0, LOAD_FAULT | STORE_FAULT, "lr.w at RAM end 0x%08lx", (unsigned long)end);
        S_(probe_sc, end, 0, STORE_FAULT | SC_FAIL_OK, "sc.w at RAM end 0x%08lx", (unsigned long)end);
        S_(probe_amoadd, 0x0c000004u, 0, STORE_FAULT, "amoadd.w on MMIO (PLIC priority 1)");
        S_(probe_lr, 0x0c000004u, 0, LOAD_FAULT | STORE_FAULT, "lr.w on MMIO (PLIC priority 1)");
        S_(probe_sc, 0x0c000004u, 0, STORE_FAULT | SC_FAIL_OK, "sc.w on MMIO (PLIC priority 1)");

        printf("rogue: --- instruction fetch outside RAM ---\n");
        S_(probe_jump, UART_BASE, 0, FETCH_FAULT, "jump into the UART 0x%08lx", (unsigned long)UART_BASE);
        S_(probe_jump, PLIC_BASE, 0, FETCH_FAULT, "jump into the PLIC 0x%08lx", (unsigned long)PLIC_BASE);
        S_(probe_jump, FINISHER_BASE, 0, FETCH_FAULT, "jump into the test finisher 0x%08lx",
           (unsigned long)FINISHER_BASE);
        S_(probe_jump, 0, 0, FETCH_FAULT, "jump to 0x00000000");
        S_(probe_jump, base - 4, 0, FETCH_FAULT, "jump just below RAM 0x%08lx", (unsigned long)(base - 4));
        S_(probe_jump, end, 0, FETCH_FAULT, "jump to RAM end 0x%08lx", (unsigned long)end);
        S_(probe_jump, 0xfffffffcu, 0, FETCH_FAULT, "jump to 0xfffffffc (next fetch would wrap)");
        for (i = 0; i < 8; i++) {
                uint32_t target;
                do
                        target = lcg() & ~3u;
                while (target >= base && target < end);
                S_(probe_jump, target, 0, FETCH_FAULT, "jump to random address 0x%08lx",
                   (unsigned long)target);
        }

        printf("rogue: --- privileged instructions from U-mode ---\n");
        csr_write(scounteren, 0);
        U_(u_ecall, 0, BIT(EXC_ECALL_U), "ecall (the legal way to ask the kernel)");
        U_(u_csrr_sstatus, 0, ILLEGAL, "csrr sstatus");
        U_(u_csrw_sstatus, 0, ILLEGAL, "csrw sstatus");
        U_(u_csrw_stvec, 0, ILLEGAL, "csrw stvec");
        U_(u_csrr_sie, 0, ILLEGAL, "csrr sie");
        U_(u_csrr_sscratch, 0, ILLEGAL, "csrr sscratch");
        U_(u_csrw_satp, 0, ILLEGAL, "csrw satp");
        U_(u_csrr_mstatus, 0, ILLEGAL, "csrr mstatus");
        U_(u_sret, 0, ILLEGAL, "sret");
        U_(u_mret, 0, ILLEGAL, "mret");
        U_(u_wfi, 0, ILLEGAL, "wfi");
        U_(u_sfence, 0, ILLEGAL, "sfence.vma");
        U_(u_rdcycle, 0, ILLEGAL, "rdcycle with scounteren = 0");
        U_(u_rdtime, 0, ILLEGAL, "rdtime with scounteren = 0");
        U_(u_rdinstret, 0, ILLEGAL, "rdinstret with scounteren = 0");
        U_(u_lw, end, LOAD_FAULT, "load at RAM end 0x%08lx", (unsigned long)end);
        U_(u_jump, UART_BASE, FETCH_FAULT, "jump into the UART 0x%08lx", (unsigned long)UART_BASE);

        printf("rogue: --- S-mode: read-only CSRs and M-mode ---\n");
        S_(s_csrw_cycle, 0, 0, ILLEGAL, "csrw cycle");
        S_(s_csrw_time, 0, 0, ILLEGAL, "csrw time");
        S_(s_csrw_instret, 0, 0, ILLEGAL, "csrw instret");
        S_(s_csrw_cycleh, 0, 0, ILLEGAL, "csrw cycleh");
        S_(s_csrw_timeh, 0, 0, ILLEGAL, "csrw timeh");
        S_(s_csrw_instreth, 0, 0, ILLEGAL, "csrw instreth");
        S_(s_mret, 0, 0, ILLEGAL, "mret");
        S_(s_csrr_mstatus, 0, 0, ILLEGAL, "csrr mstatus");
        S_(s_csrw_mtvec, 0, 0, ILLEGAL, "csrw mtvec");
        S_(s_csrr_mhartid, 0, 0, ILLEGAL, "csrr mhartid");
        S_(s_csrr_misa, 0, 0, ILLEGAL, "csrr misa");
        S_(s_csrr_hstatus, 0, 0, ILLEGAL, "csrr hstatus (0x600, no H extension)");
        S_(s_csrr_dcsr, 0, 0, ILLEGAL, "csrr dcsr (0x7b0, debug mode only)");
        S_(s_ebreak, 0, 0, BIT(EXC_BREAKPOINT), "ebreak (delivered to this kernel)");

        printf("rogue: --- Sv32 page tables pointing outside RAM ---\n");
        root = sv32_alloc_table();
        sv32_identity_mega(root, base, end - 1, PTE_RWX | PTE_A | PTE_D);
        {
                const uint32_t rw = PTE_R | PTE_W | PTE_A | PTE_D;
                const uint32_t sp = (uintptr_t)scratch;
                const uint64_t alias = (uint64_t)base + 0x100000000ull;
                const uint64_t mega_end = (ram_end + SV32_MEGAPAGE - 1) & ~(uint64_t)(SV32_MEGAPAGE - 1);

                sv32_map_page(root, 0x40000000u, end, rw);
                sv32_map_page(root, 0x40001000u, end - SV32_PAGE, rw);
                sv32_map_page(root, 0x40002000u, alias, rw);
                sv32_map_page(root, 0x40003000u, 0x3fffff000ull, rw);
                sv32_map_page(root, 0x40004000u, sp, PTE_R | PTE_A);
                sv32_map_page(root, 0x40005000u, sp, rw | PTE_U);
                sv32_map_page(root, 0x40006000u, sp, PTE_W | PTE_A | PTE_D);
                sv32_map_page(root, 0x40007000u, sp, rw);
                sv32_map_mega(root, 0x40400000u, 0x280000000ull, rw);
                sv32_map_mega(root, 0x40800000u, mega_end, rw);
                root[0x40c00000u >> 22] = sv32_pte(end, PTE_V);            /* non-leaf */
                root[0x41000000u >> 22] = sv32_pte(alias, PTE_V);          /* non-leaf */
                root[0x41400000u >> 22] = sv32_pte(base + SV32_PAGE, rw | PTE_V);  /* misaligned */
                sv32_enable(root);
                printf("rogue: paging on (satp 0x%08lx), RAM identity-mapped\n",
                       (unsigned long)csr_read(satp));

                o = S_(probe_lw, 0x40001000u, 0, NO_TRAP,
                       "load VA 0x40001000 -> PA 0x%08lx (last RAM page)",
                       (unsigned long)(end - SV32_PAGE));
                if (!o.trapped && o.value != *(volatile uint32_t *)(uintptr_t)(end - SV32_PAGE))
                        printf("rogue:        ... but it read something else than that page!\n");
                S_(probe_lw, 0x40000000u, 0, LOAD_FAULT, "load VA 0x40000000 -> PA 0x%08lx (RAM end)",
                   (unsigned long)end);
                S_(probe_sw, 0x40000000u, 0xaa, STORE_FAULT,
                   "store VA 0x40000000 -> PA 0x%08lx (RAM end)", (unsigned long)end);
                o = S_(probe_lw, 0x40002000u, 0, LOAD_FAULT,
                       "load VA 0x40002000 -> PA 0x%llx (RAM+4G)", (unsigned long long)alias);
                if (!o.trapped && o.value == *(volatile uint32_t *)(uintptr_t)base)
                        printf("rogue:        ... and it read RAM at 0x%08lx: the PPN was truncated "
                               "to 32 bits!\n", (unsigned long)base);
                S_(probe_sw, 0x40002000u, 0xbb, STORE_FAULT,
                   "store VA 0x40002000 -> PA 0x%llx (RAM+4G)", (unsigned long long)alias);
                S_(probe_lw, 0x40003000u, 0, LOAD_FAULT, "load VA 0x40003000 -> PA 0x3fffff000 (top)");
                S_(probe_lw, 0x40400000u, 0, LOAD_FAULT, "load VA 0x40400000 -> megapage PA 0x280000000");
                S_(probe_lw, 0x40800000u, 0, LOAD_FAULT, "load VA 0x40800000 -> megapage PA 0x%llx",
                   (unsigned long long)mega_end);
                S_(probe_lw, 0x40c00000u, 0, LOAD_FAULT | LOAD_PF,
                   "load VA 0x40c00000: its page table at PA 0x%08lx", (unsigned long)end);
                S_(probe_lw, 0x41000000u, 0, LOAD_FAULT | LOAD_PF,
                   "load VA 0x41000000: its page table at PA 0x%llx", (unsigned long long)alias);
                S_(probe_lw, 0x41400000u, 0, LOAD_PF, "load VA 0x41400000: misaligned megapage");
                S_(probe_lw, 0x50000000u, 0, LOAD_PF, "load VA 0x50000000 (unmapped)");
                S_(probe_jump, 0x50000000u, 0, FETCH_PF, "jump to VA 0x50000000 (unmapped)");
                S_(probe_lw, 0x40004000u, 0, NO_TRAP, "load read-only page VA 0x40004000");
                S_(probe_sw, 0x40004000u, 0xcc, STORE_PF, "store to read-only page VA 0x40004000");
                S_(probe_lw, 0x40005000u, 0, LOAD_PF, "load user page VA 0x40005000 (SUM = 0)");
                S_(probe_lw, 0x40006000u, 0, LOAD_PF, "load page with W but no R VA 0x40006000");
                S_(probe_jump, 0x40007000u, 0, FETCH_PF, "jump to no-execute page VA 0x40007000");
                sv32_disable();
        }

        printf("rogue: %u of %u attempts had the expected outcome: %s\n", n_good, n_attempts,
               n_good == n_attempts ? "everything was contained" : "SOMETHING GOT THROUGH");
        return n_good == n_attempts ? 0 : 1;
}
