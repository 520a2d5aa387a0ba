/* trapstorm - exits as fast as possible.
 *
 * Every CSR instruction and every ecall a guest executes in S-mode is an exit
 * to the hypervisor.  This guest takes a fixed number of each kind in tight
 * loops and prints what the guest itself can see of their cost: cycles,
 * instructions and timebase ticks per exit.  Under hvlab's default virtual
 * time (counters advance with the guest's own instructions) an exit looks
 * cheap from inside: the real cost is visible from the host (hv run --stats).
 *
 * bootargs: csr=N (default 100000), sbi=N (default 20000)
 */
#include "guest.h"

struct mark {
        uint64_t cycle, instret, time;
};

static void now(struct mark *m)
{
        m->cycle = rdcycle64();
        m->instret = rdinstret64();
        m->time = rdtime64();
}

/* x.y of a / b */
static void ratio(uint64_t a, uint32_t b, char *buf, int size)
{
        uint32_t rem;
        uint64_t q = udiv64_32(a * 10, b ? b : 1, &rem);
        uint32_t frac;

        q = udiv64_32(q, 10, &frac);
        snprintf(buf, (size_t)size, "%llu.%lu", (unsigned long long)q, (unsigned long)frac);
}

static void report(const char *what, uint32_t n, const struct mark *a, const struct mark *b)
{
        char cpe[24], ipe[24];
        uint32_t rem;
        uint64_t us = udiv64_32((b->time - a->time) * 1000000u, boot.timebase_hz, &rem);

        ratio(b->cycle - a->cycle, n, cpe, sizeof(cpe));
        ratio(b->instret - a->instret, n, ipe, sizeof(ipe));
        printf("trapstorm: %7lu x %-28s %10llu cycles = %6s cycles/exit, %6s insns/exit, "
               "%llu us\n", (unsigned long)n, what,
               (unsigned long long)(b->cycle - a->cycle), cpe, ipe, (unsigned long long)us);
}

static uint32_t bootarg_u32(const char *key, uint32_t dflt)
{
        char buf[24];
        uint64_t v;

        if (bootarg(boot.bootargs, key, buf, sizeof(buf)) && parse_uint(buf, &v) &&
            v < 100000000u)
                return (uint32_t)v;
        return dflt;
}

int main(unsigned long hartid, const void *dtb)
{
        struct mark a, b;
        uint32_t n_csr, n_sbi, i;
        long errors = 0;

        guest_init(hartid, dtb);
        n_csr = bootarg_u32("csr", 100000);
        n_sbi = bootarg_u32("sbi", 20000);
        printf("trapstorm: %lu CSR reads, %lu CSR writes, %lu SBI calls, each one an exit\n",
               (unsigned long)n_csr, (unsigned long)n_csr, (unsigned long)n_sbi);
        console_flush();

        now(&a);
        for (i = 0; i < n_csr; i++)
                __asm__ __volatile__("csrr t0, sscratch" : : : "t0");
        now(&b);
        report("csrr sscratch", n_csr, &a, &b);

        now(&a);
        for (i = 0; i < n_csr; i++)
                __asm__ __volatile__("csrw sscratch, %0" : : "r"(i));
        now(&b);
        csr_write(sscratch, 0);
        report("csrw sscratch", n_csr, &a, &b);

        now(&a);
        for (i = 0; i < n_sbi; i++)
                errors += sbi_ecall(SBI_EXT_BASE, 3, SBI_EXT_TIME, 0, 0, 0, 0, 0).error != 0;
        now(&b);
        report("SBI probe_extension(TIME)", n_sbi, &a, &b);

        if (errors) {
                printf("trapstorm: %ld SBI calls returned an error\n", errors);
                return 1;
        }
        printf("trapstorm: done, %lu exits\n", (unsigned long)(2 * n_csr + n_sbi));
        return 0;
}
