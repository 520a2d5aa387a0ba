/* plic.c - PLIC register access (see plic.h for the layout). */
#include "plic.h"
#include "mmio.h"

#define PLIC_PRIORITY(irq)      (PLIC_BASE + 4u * (irq))
#define PLIC_ENABLE(ctx)        (PLIC_BASE + 0x2000u + 0x80u * (ctx))
#define PLIC_THRESHOLD(ctx)     (PLIC_BASE + 0x200000u + 0x1000u * (ctx))
#define PLIC_CLAIM(ctx)         (PLIC_BASE + 0x200004u + 0x1000u * (ctx))

void plic_set_priority(uint32_t irq, uint32_t priority)
{
        mmio_write32(PLIC_PRIORITY(irq), priority);
}

void plic_enable(uint32_t ctx, uint32_t irq, int on)
{
        uintptr_t word = PLIC_ENABLE(ctx) + 4u * (irq / 32);
        uint32_t bits = mmio_read32(word);

        if (on)
                bits |= 1u << (irq % 32);
        else
                bits &= ~(1u << (irq % 32));
        mmio_write32(word, bits);
}

void plic_set_threshold(uint32_t ctx, uint32_t threshold)
{
        mmio_write32(PLIC_THRESHOLD(ctx), threshold);
}

uint32_t plic_claim(uint32_t ctx)
{
        return mmio_read32(PLIC_CLAIM(ctx));
}

void plic_complete(uint32_t ctx, uint32_t irq)
{
        mmio_write32(PLIC_CLAIM(ctx), irq);
}
