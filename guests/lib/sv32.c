/* sv32.c - page-table construction for Sv32. */
#include "sv32.h"
#include "util.h"

static pte_t pool[SV32_POOL_TABLES][1024] __attribute__((aligned(4096)));
static unsigned pool_used;

pte_t *sv32_alloc_table(void)
{
        pte_t *t;

        if (pool_used >= SV32_POOL_TABLES)
                return 0;
        t = pool[pool_used++];
        memset(t, 0, SV32_PAGE);
        return t;
}

int sv32_map_mega(pte_t *root, uint32_t va, uint64_t pa, uint32_t flags)
{
        if ((va | (uint32_t)pa) & (SV32_MEGAPAGE - 1))
                return -1;
        root[va >> 22] = sv32_pte(pa, flags | PTE_V);
        return 0;
}

int sv32_map_page(pte_t *root, uint32_t va, uint64_t pa, uint32_t flags)
{
        pte_t *l0, e = root[va >> 22];

        if ((va | (uint32_t)pa) & (SV32_PAGE - 1))
                return -1;
        if (!(e & PTE_V)) {
                l0 = sv32_alloc_table();
                if (!l0)
                        return -1;
                root[va >> 22] = sv32_pte((uintptr_t)l0, PTE_V);
        } else if (e & PTE_RWX) {
                return -1;                      /* already a megapage */
        } else {
                /* the guests' tables live in RAM below 4 GiB, identity mapped */
                l0 = (pte_t *)(uintptr_t)((e >> 10) << 12);
        }
        l0[(va >> 12) & 1023] = sv32_pte(pa, flags | PTE_V);
        return 0;
}

int sv32_identity_mega(pte_t *root, uint32_t start, uint32_t end, uint32_t flags)
{
        uint64_t a = start & ~(SV32_MEGAPAGE - 1);

        for (; a < end; a += SV32_MEGAPAGE)
                if (sv32_map_mega(root, (uint32_t)a, a, flags))
                        return -1;
        return 0;
}

void sv32_enable(pte_t *root)
{
        uint32_t satp = 0x80000000u | ((uintptr_t)root >> 12);

        __asm__ __volatile__("sfence.vma\n\tcsrw satp, %0\n\tsfence.vma"
                             : : "r"(satp) : "memory");
}

void sv32_disable(void)
{
        __asm__ __volatile__("csrw satp, zero\n\tsfence.vma" : : : "memory");
}
