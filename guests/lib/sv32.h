/* sv32.h - building Sv32 page tables.
 *
 * Sv32 translates 32-bit virtual addresses to 34-bit physical addresses
 * through two levels of 1024 4-byte entries:
 *
 *   VA  = VPN[1] (10 bits) | VPN[0] (10 bits) | offset (12 bits)
 *   PTE = PPN[1] (12 bits) | PPN[0] (10 bits) | RSW (2) | D A G U X W R V
 *
 * A leaf in the root table maps a 4 MiB megapage (its PPN[0] must be 0); a
 * non-leaf (R = W = X = 0) points to a second-level table of 4 KiB pages.
 * satp = MODE (bit 31) | ASID | PPN of the root table.
 *
 * Tables come from a small static pool (SV32_POOL_TABLES pages).
 */
#ifndef GUEST_SV32_H
#define GUEST_SV32_H

#include <stdint.h>

#define PTE_V   (1u << 0)
#define PTE_R   (1u << 1)
#define PTE_W   (1u << 2)
#define PTE_X   (1u << 3)
#define PTE_U   (1u << 4)
#define PTE_G   (1u << 5)
#define PTE_A   (1u << 6)
#define PTE_D   (1u << 7)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)

#define SV32_PAGE       4096u
#define SV32_MEGAPAGE   (4u * 1024u * 1024u)
#define SV32_POOL_TABLES 8

typedef uint32_t pte_t;

/* A zeroed 4 KiB table from the pool, or 0 when the pool is empty. */
pte_t *sv32_alloc_table(void);

/* The PTE value for a (34-bit) physical address and flags. */
static inline pte_t sv32_pte(uint64_t pa, uint32_t flags)
{
        return (pte_t)((pa >> 12) << 10) | flags;
}

/* Map one 4 MiB megapage: va and pa must be 4 MiB aligned.  0 on success. */
int sv32_map_mega(pte_t *root, uint32_t va, uint64_t pa, uint32_t flags);

/* Map one 4 KiB page, adding a second-level table if needed.  0 on success. */
int sv32_map_page(pte_t *root, uint32_t va, uint64_t pa, uint32_t flags);

/* Identity-map [start, end) with megapages (rounded out to 4 MiB). */
int sv32_identity_mega(pte_t *root, uint32_t start, uint32_t end, uint32_t flags);

/* satp = Sv32 | root, then sfence.vma.  sv32_disable: satp = 0 (bare). */
void sv32_enable(pte_t *root);
void sv32_disable(void);

#endif
