/* trap.h - taking traps in S-mode: a saved register frame and a C handler.
 *
 * trap_init() points stvec at trap_entry (lib/trap_entry.S).  On every trap,
 * trap_entry saves all 31 registers and sepc/sstatus/scause/stval into a
 * struct trap_frame on the kernel stack and calls the handler.  Whatever the
 * handler leaves in the frame is restored before `sret`, so a handler can
 * skip an instruction (tf->sepc += 4), return a value (tf->regs[REG_A0]) or
 * resume somewhere else entirely.
 *
 * Traps from U-mode are supported: sscratch holds the kernel stack pointer
 * while U-mode runs (and 0 while S-mode runs), as in Linux and xv6.
 */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <stdint.h>

struct trap_frame {
        uint32_t regs[32];      /* x0..x31 (regs[0] is unused) */
        uint32_t sepc;
        uint32_t sstatus;
        uint32_t scause;
        uint32_t stval;
};

enum {
        REG_RA = 1, REG_SP = 2, REG_GP = 3, REG_TP = 4,
        REG_T0 = 5, REG_T1 = 6, REG_T2 = 7,
        REG_S0 = 8, REG_S1 = 9,
        REG_A0 = 10, REG_A1, REG_A2, REG_A3, REG_A4, REG_A5, REG_A6, REG_A7,
        REG_S2 = 18, REG_S11 = 27,
        REG_T3 = 28, REG_T6 = 31,
};

typedef void (*trap_handler_t)(struct trap_frame *tf);

/* Install trap_entry in stvec (direct mode) and route every trap to handler
 * (NULL: the default handler, which prints the trap and shuts down failing). */
void trap_init(trap_handler_t handler);
void trap_set_handler(trap_handler_t handler);

/* Print a trap frame (cause name, sepc, stval, registers). */
void trap_dump(const struct trap_frame *tf);
const char *trap_cause_name(uint32_t scause);

static inline int trap_is_interrupt(const struct trap_frame *tf)
{
        return (tf->scause & 0x80000000u) != 0;
}

static inline uint32_t trap_code(const struct trap_frame *tf)
{
        return tf->scause & 0x7fffffffu;
}

/* The assembly entry point (4-byte aligned, for stvec). */
void trap_entry(void);

#endif
