/* trap.c - C side of trap handling. */
#include "trap.h"
#include "csr.h"
#include "printf.h"
#include "console.h"
#include "sbi.h"

static trap_handler_t current;

void trap_dispatch(struct trap_frame *tf);

void trap_set_handler(trap_handler_t handler)
{
        current = handler;
}

void trap_init(trap_handler_t handler)
{
        current = handler;
        csr_write(sscratch, 0);
        csr_write(stvec, (uintptr_t)trap_entry);        /* mode 0: direct */
}

const char *trap_cause_name(uint32_t scause)
{
        if (scause & 0x80000000u) {
                switch (scause & 0x7fffffffu) {
                case IRQ_S_SOFT: return "supervisor software interrupt";
                case IRQ_S_TIMER: return "supervisor timer interrupt";
                case IRQ_S_EXT: return "supervisor external interrupt";
                default: return "interrupt ?";
                }
        }
        switch (scause) {
        case EXC_INST_MISALIGNED: return "instruction address misaligned";
        case EXC_INST_ACCESS: return "instruction access fault";
        case EXC_ILLEGAL_INST: return "illegal instruction";
        case EXC_BREAKPOINT: return "breakpoint";
        case EXC_LOAD_MISALIGNED: return "load address misaligned";
        case EXC_LOAD_ACCESS: return "load access fault";
        case EXC_STORE_MISALIGNED: return "store/AMO address misaligned";
        case EXC_STORE_ACCESS: return "store/AMO access fault";
        case EXC_ECALL_U: return "environment call from U-mode";
        case EXC_ECALL_S: return "environment call from S-mode";
        case EXC_INST_PAGE_FAULT: return "instruction page fault";
        case EXC_LOAD_PAGE_FAULT: return "load page fault";
        case EXC_STORE_PAGE_FAULT: return "store/AMO page fault";
        default: return "exception ?";
        }
}

void trap_dump(const struct trap_frame *tf)
{
        static const char *const names[32] = {
                "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
                "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
        };

        printf("trap: scause 0x%08lx (%s) sepc 0x%08lx stval 0x%08lx from %s-mode\n",
               tf->scause, trap_cause_name(tf->scause), tf->sepc, tf->stval,
               (tf->sstatus & SSTATUS_SPP) ? "S" : "U");
        for (int i = 1; i < 32; i++)
                printf("  %-4s %08lx%s", names[i], tf->regs[i], (i % 4 == 3) ? "\n" : "");
}

static void default_handler(struct trap_frame *tf)
{
        printf("unexpected trap, giving up\n");
        trap_dump(tf);
        console_flush();
        sbi_shutdown(1);
}

void trap_dispatch(struct trap_frame *tf)
{
        if (current)
                current(tf);
        else
                default_handler(tf);
}
