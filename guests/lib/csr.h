/* csr.h - control and status register access for S-mode guests.
 *
 * Every CSR instruction executed by a guest in (virtual) S-mode is trapped and
 * emulated by the hypervisor: each csr_read()/csr_write() below costs one exit.
 */
#ifndef GUEST_CSR_H
#define GUEST_CSR_H

#include <stdint.h>

#define csr_read(csr) ({                                                   \
        unsigned long __v;                                                 \
        __asm__ __volatile__("csrr %0, " #csr : "=r"(__v) : : "memory");   \
        __v; })

#define csr_write(csr, val) ({                                             \
        unsigned long __v = (unsigned long)(val);                          \
        __asm__ __volatile__("csrw " #csr ", %0" : : "rK"(__v) : "memory"); })

#define csr_swap(csr, val) ({                                              \
        unsigned long __v = (unsigned long)(val);                          \
        __asm__ __volatile__("csrrw %0, " #csr ", %1"                      \
                             : "=r"(__v) : "rK"(__v) : "memory");          \
        __v; })

#define csr_set(csr, bits) ({                                              \
        unsigned long __v = (unsigned long)(bits);                         \
        __asm__ __volatile__("csrs " #csr ", %0" : : "rK"(__v) : "memory"); })

#define csr_clear(csr, bits) ({                                            \
        unsigned long __v = (unsigned long)(bits);                         \
        __asm__ __volatile__("csrc " #csr ", %0" : : "rK"(__v) : "memory"); })

/* sstatus */
#define SSTATUS_SIE     (1u << 1)   /* S-mode interrupts enabled */
#define SSTATUS_SPIE    (1u << 5)   /* SIE before the last trap */
#define SSTATUS_SPP     (1u << 8)   /* privilege before the last trap: 1 = S, 0 = U */
#define SSTATUS_SUM     (1u << 18)  /* S may access U pages */
#define SSTATUS_MXR     (1u << 19)  /* loads from execute-only pages allowed */

/* sie / sip */
#define SIE_SSIE        (1u << 1)   /* software interrupt */
#define SIE_STIE        (1u << 5)   /* timer interrupt */
#define SIE_SEIE        (1u << 9)   /* external interrupt (PLIC) */

/* scause */
#define SCAUSE_INTERRUPT        0x80000000u
#define IRQ_S_SOFT              1
#define IRQ_S_TIMER             5
#define IRQ_S_EXT               9

#define EXC_INST_MISALIGNED     0
#define EXC_INST_ACCESS         1
#define EXC_ILLEGAL_INST        2
#define EXC_BREAKPOINT          3
#define EXC_LOAD_MISALIGNED     4
#define EXC_LOAD_ACCESS         5
#define EXC_STORE_MISALIGNED    6
#define EXC_STORE_ACCESS        7
#define EXC_ECALL_U             8
#define EXC_ECALL_S             9
#define EXC_INST_PAGE_FAULT     12
#define EXC_LOAD_PAGE_FAULT     13
#define EXC_STORE_PAGE_FAULT    15

/* satp (Sv32) */
#define SATP_MODE_SV32          0x80000000u

static inline void wfi(void) { __asm__ __volatile__("wfi" : : : "memory"); }
static inline void sfence_vma(void) { __asm__ __volatile__("sfence.vma" : : : "memory"); }
static inline void fence_i(void) { __asm__ __volatile__("fence.i" : : : "memory"); }

/* The 64-bit counters, read as two halves on RV32 (hi, lo, hi again). */
#define DEFINE_COUNTER64(name, lo, hi)                                      \
static inline uint64_t name(void)                                          \
{                                                                          \
        uint32_t h, l, h2;                                                 \
        do {                                                               \
                h = csr_read(hi);                                          \
                l = csr_read(lo);                                          \
                h2 = csr_read(hi);                                         \
        } while (h != h2);                                                 \
        return ((uint64_t)h << 32) | l;                                    \
}
DEFINE_COUNTER64(rdtime64, time, timeh)
DEFINE_COUNTER64(rdcycle64, cycle, cycleh)
DEFINE_COUNTER64(rdinstret64, instret, instreth)

#endif
