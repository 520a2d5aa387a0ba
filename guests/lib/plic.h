/* plic.h - the platform-level interrupt controller (QEMU virt layout).
 *
 * A device raises its source line; the PLIC forwards the highest-priority
 * enabled source above a context's threshold as an external interrupt to
 * that context.  Context 1 is hart 0 in S-mode (scause 0x80000009).
 *
 *   base + 4*irq                    priority of source irq (0 = never)
 *   base + 0x2000 + 0x80*ctx        enable bits, one per source
 *   base + 0x200000 + 0x1000*ctx    priority threshold
 *   base + 0x200004 + 0x1000*ctx    claim (read) / complete (write)
 */
#ifndef GUEST_PLIC_H
#define GUEST_PLIC_H

#include <stdint.h>

#define PLIC_CTX_S_HART0        1

void plic_set_priority(uint32_t irq, uint32_t priority);
void plic_enable(uint32_t ctx, uint32_t irq, int on);
void plic_set_threshold(uint32_t ctx, uint32_t threshold);
uint32_t plic_claim(uint32_t ctx);                  /* 0: nothing pending */
void plic_complete(uint32_t ctx, uint32_t irq);

#endif
