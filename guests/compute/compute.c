/* compute - the benchmark kernel: sieve, CRC32, integer matmul, heapsort.
 *
 * One source, several builds (see the Makefile):
 *
 *   compute.elf      -DCOMPUTE_REPORT  an SBI guest: a progress line per phase,
 *                                      SRST reason 0 on success, 1 on a mismatch
 *   bench.elf        -DCOMPUTE_BENCH   no SBI, no output: writes 0x5555 to the
 *                                      test finisher on success, 0x3333 | 1 << 16
 *                                      on a mismatch (2 << 16 on a trap); runs in
 *                                      S-mode under hvlab and in M-mode on
 *                                      qemu -bios none
 *   bench-small.elf  + COMPUTE_SMALL   the same, about 60x less work
 *   bench-sv32.elf   + COMPUTE_SV32    builds identity-mapped Sv32 page tables
 *                                      (4 MiB megapages) and turns paging on first
 *
 * Every phase's result is checked against a constant computed on the host by
 * compute/expected.py (expected.h), which uses independent implementations.
 */
#include "guest.h"
#include "expected.h"

#if defined(COMPUTE_REPORT) == defined(COMPUTE_BENCH)
#error "build with exactly one of COMPUTE_REPORT and COMPUTE_BENCH"
#endif

/* ---- the input generator shared with expected.py ------------------------------------------- */

static uint32_t lcg_state;

static inline uint32_t lcg(void)
{
        lcg_state = lcg_state * 1664525u + 1013904223u;
        return lcg_state;
}

static inline uint32_t fold(uint32_t h, uint32_t v)
{
        return h * 31u + v;
}

/* ---- phase 1: sieve of Eratosthenes ------------------------------------------------------- */

static uint8_t flags[SIEVE_N];

static uint32_t sieve(uint32_t *sum_out)
{
        uint32_t i, j, count = 0, sum = 0;

        memset(flags, 1, SIEVE_N);
        flags[0] = flags[1] = 0;
        for (i = 2; i * i < SIEVE_N; i++)
                if (flags[i])
                        for (j = i * i; j < SIEVE_N; j += i)
                                flags[j] = 0;
        for (i = 0; i < SIEVE_N; i++)
                if (flags[i]) {
                        count++;
                        sum += i;
                }
        *sum_out = sum;
        return count;
}

static uint32_t phase_sieve(uint32_t *count)
{
        uint32_t h = 0, sum, r;

        for (r = 0; r < SIEVE_REPS; r++) {
                *count = sieve(&sum);
                h = fold(fold(h, *count), sum);
        }
        return h;
}

/* ---- phase 2: CRC32 (IEEE 802.3, reflected, as zlib) --------------------------------------- */

static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_LEN];

static uint32_t phase_crc(void)
{
        uint32_t i, k, c, p;

        for (i = 0; i < 256; i++) {
                c = i;
                for (k = 0; k < 8; k++)
                        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                crc_table[i] = c;
        }
        lcg_state = CRC_SEED;
        for (i = 0; i < CRC_LEN; i++)
                crc_buf[i] = (uint8_t)(lcg() >> 24);
        c = 0xFFFFFFFFu;
        for (p = 0; p < CRC_PASSES; p++)
                for (i = 0; i < CRC_LEN; i++)
                        c = crc_table[(c ^ crc_buf[i]) & 0xFF] ^ (c >> 8);
        return ~c;
}

/* ---- phase 3: integer matrix multiply (wrapping 32-bit arithmetic) ------------------------- */

static uint32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint32_t phase_matmul(void)
{
        uint32_t h = 0, r, i, j, k;

        for (r = 0; r < MAT_REPS; r++) {
                uint32_t sum = 0;

                lcg_state = MAT_SEED + r;
                for (i = 0; i < MAT_N; i++)
                        for (j = 0; j < MAT_N; j++)
                                mat_a[i][j] = (lcg() >> 16) - 32768u;
                for (i = 0; i < MAT_N; i++)
                        for (j = 0; j < MAT_N; j++)
                                mat_b[i][j] = (lcg() >> 16) - 32768u;
                for (i = 0; i < MAT_N; i++)
                        for (j = 0; j < MAT_N; j++) {
                                uint32_t acc = 0;
                                for (k = 0; k < MAT_N; k++)
                                        acc += mat_a[i][k] * mat_b[k][j];
                                mat_c[i][j] = acc;
                        }
                for (i = 0; i < MAT_N; i++)
                        for (j = 0; j < MAT_N; j++)
                                sum += mat_c[i][j] * (i * MAT_N + j + 1);
                h = fold(h, sum);
        }
        return h;
}

/* ---- phase 4: heapsort --------------------------------------------------------------------- */

static uint32_t sort_data[SORT_N];

static void sift_down(uint32_t *a, uint32_t root, uint32_t n)
{
        uint32_t v = a[root], child;

        while ((child = 2 * root + 1) < n) {
                if (child + 1 < n && a[child + 1] > a[child])
                        child++;
                if (a[child] <= v)
                        break;
                a[root] = a[child];
                root = child;
        }
        a[root] = v;
}

static void heapsort(uint32_t *a, uint32_t n)
{
        uint32_t i, t;

        for (i = n / 2; i-- > 0;)
                sift_down(a, i, n);
        for (i = n; i-- > 1;) {
                t = a[0];
                a[0] = a[i];
                a[i] = t;
                sift_down(a, 0, i);
        }
}

static uint32_t phase_sort(int *unsorted)
{
        uint32_t h = 0, r, i;

        *unsorted = 0;
        for (r = 0; r < SORT_REPS; r++) {
                uint32_t sum = 0;

                lcg_state = SORT_SEED + r;
                for (i = 0; i < SORT_N; i++)
                        sort_data[i] = lcg();
                heapsort(sort_data, SORT_N);
                for (i = 0; i < SORT_N; i++) {
                        if (i && sort_data[i - 1] > sort_data[i])
                                *unsorted = 1;
                        sum += sort_data[i] * (i + 1);
                }
                h = fold(h, sum);
        }
        return h;
}

/* ---- compute.elf: report each phase through the SBI console ------------------------------- */
#ifdef COMPUTE_REPORT

static uint64_t mark;

static void begin(int n, const char *what)
{
        printf("compute: phase %d/4: %s ...\n", n, what);
        mark = rdinstret64();
}

static int verdict(uint32_t got, uint32_t want)
{
        uint64_t insns = rdinstret64() - mark;

        printf("compute:   result 0x%08lx, expected 0x%08lx: %s (%llu instructions)\n",
               (unsigned long)got, (unsigned long)want, got == want ? "ok" : "MISMATCH",
               (unsigned long long)insns);
        return got != want;
}

int main(unsigned long hartid, const void *dtb)
{
        uint32_t count = 0, h;
        int bad = 0, unsorted;
        uint64_t start;

        guest_init(hartid, dtb);
        printf("compute: self-checking benchmark kernel, 4 phases\n");
        start = rdinstret64();

        begin(1, "sieve of Eratosthenes");
        h = phase_sieve(&count);
        printf("compute:   %lu primes below %lu (expected %lu), %u passes\n",
               (unsigned long)count, (unsigned long)SIEVE_N, (unsigned long)EXP_SIEVE_COUNT,
               (unsigned)SIEVE_REPS);
        bad |= verdict(h, EXP_SIEVE_HASH) | (count != EXP_SIEVE_COUNT);

        begin(2, "CRC32 of a pseudo-random buffer");
        printf("compute:   %u KiB x %u passes\n", (unsigned)(CRC_LEN / 1024),
               (unsigned)CRC_PASSES);
        bad |= verdict(phase_crc(), EXP_CRC);

        begin(3, "integer matrix multiply");
        printf("compute:   %ux%u int32, %u products\n", (unsigned)MAT_N, (unsigned)MAT_N,
               (unsigned)MAT_REPS);
        bad |= verdict(phase_matmul(), EXP_MAT_HASH);

        begin(4, "heapsort");
        printf("compute:   %u words, %u sorts\n", (unsigned)SORT_N, (unsigned)SORT_REPS);
        h = phase_sort(&unsorted);
        if (unsorted)
                printf("compute:   output is NOT in order\n");
        bad |= verdict(h, EXP_SORT_HASH) | unsorted;

        printf("compute: %s (%llu instructions in all)\n",
               bad ? "FAILED: a result did not match" : "all 4 phases passed",
               (unsigned long long)(rdinstret64() - start));
        return bad;             /* _exit: SRST reason 0 or 1 */
}

#endif /* COMPUTE_REPORT */

/* ---- bench*.elf: silent, finisher only ----------------------------------------------------- */
#ifdef COMPUTE_BENCH

/* Any trap fails the run with exit code 2.  To catch traps in both S-mode
 * (hvlab) and M-mode (qemu -bios none) we set stvec, then try mtvec: in M-mode
 * that works, in S-mode it traps to bench_skip, which steps over it.  This is
 * the only trap a correct run takes. */
void bench_skip(void);
void bench_fail(void);
__asm__(".section .text.bench_trap, \"ax\"\n"
        ".balign 4\n"
        "bench_skip:\n"
        "        csrr    t0, sepc\n"
        "        addi    t0, t0, 4\n"
        "        csrw    sepc, t0\n"
        "        sret\n"
        ".balign 4\n"
        "bench_fail:\n"
        "        li      t0, 0x100000\n"
        "        li      t1, 0x23333\n"
        "        sw      t1, 0(t0)\n"
        "1:      j       1b\n"
        ".previous\n");

#ifdef COMPUTE_TIMER
/* bench-full.elf: a 100 Hz supervisor timer interrupt, as a kernel's scheduler tick would
 * take, under the whole monitor.  The handler saves what it uses in a small area found
 * through sscratch, re-arms the timer 100,000 ticks (10 ms at 10 MHz) ahead through SBI TIME
 * set_timer, and returns; any other trap fails the run. */
#define TICK 100000
uint32_t bench_ticks;
static uint32_t tick_save[8];
void bench_tick(void);
__asm__(".section .text.bench_trap, \"ax\"\n"
        ".balign 4\n"
        "bench_tick:\n"
        "        csrrw   sp, sscratch, sp\n"
        "        sw      t0, 0(sp)\n"
        "        sw      a0, 4(sp)\n"
        "        sw      a1, 8(sp)\n"
        "        sw      a6, 12(sp)\n"
        "        sw      a7, 16(sp)\n"
        "        csrr    t0, scause\n"
        "        bgez    t0, bench_fail\n"          /* not an interrupt */
        "        la      t0, bench_ticks\n"
        "        lw      a0, 0(t0)\n"
        "        addi    a0, a0, 1\n"
        "        sw      a0, 0(t0)\n"
        "1:      rdtimeh a1\n"
        "        rdtime  a0\n"
        "        rdtimeh t0\n"
        "        bne     a1, t0, 1b\n"
        "        li      t0, 100000\n"
        "        add     t0, a0, t0\n"
        "        sltu    a6, t0, a0\n"              /* carry into the high word */
        "        add     a1, a1, a6\n"
        "        mv      a0, t0\n"
        "        li      a6, 0\n"
        "        li      a7, 0x54494D45\n"          /* SBI TIME set_timer */
        "        ecall\n"
        "        lw      t0, 0(sp)\n"
        "        lw      a0, 4(sp)\n"
        "        lw      a1, 8(sp)\n"
        "        lw      a6, 12(sp)\n"
        "        lw      a7, 16(sp)\n"
        "        csrrw   sp, sscratch, sp\n"
        "        sret\n"
        ".previous\n");

static void timer_on(void)
{
        csr_write(sscratch, (uintptr_t)tick_save);
        csr_write(stvec, (uintptr_t)bench_tick);
        sbi_set_timer(rdtime64() + TICK);
        csr_set(sie, SIE_STIE);
        csr_set(sstatus, SSTATUS_SIE);
}
#endif

#ifdef COMPUTE_SV32
static void paging_on(void)
{
        pte_t *root = sv32_alloc_table();
        uint32_t rwx = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;

        /* the image (code, data, bss with the page table pool and the stack) */
        sv32_identity_mega(root, (uintptr_t)_image_start, (uintptr_t)_end, rwx);
        /* the test finisher's megapage (0x0000_0000..0x003f_ffff) */
        sv32_map_mega(root, 0, 0, PTE_R | PTE_W | PTE_A | PTE_D);
        sv32_enable(root);
}
#endif

int main(unsigned long hartid, const void *dtb)
{
        uint32_t count, h_sieve, h_crc, h_mat, h_sort;
        int unsorted, bad;

        (void)hartid;
        (void)dtb;
        csr_write(stvec, (uintptr_t)bench_skip);
        csr_write(mtvec, (uintptr_t)bench_fail);
        csr_write(stvec, (uintptr_t)bench_fail);
#ifdef COMPUTE_SV32
        paging_on();
#endif
#ifdef COMPUTE_TIMER
        timer_on();
#endif
        h_sieve = phase_sieve(&count);
        h_crc = phase_crc();
        h_mat = phase_matmul();
        h_sort = phase_sort(&unsorted);
        bad = h_sieve != EXP_SIEVE_HASH || count != EXP_SIEVE_COUNT || h_crc != EXP_CRC ||
              h_mat != EXP_MAT_HASH || h_sort != EXP_SORT_HASH || unsorted;
#ifdef COMPUTE_COUNT
        /* test build only (make count): report instret through the UART */
        console_set_backend(CONSOLE_UART);
        printf("%s, %llu instructions retired\n", bad ? "MISMATCH" : "ok",
               (unsigned long long)rdinstret64());
        console_flush();
#endif
        finisher_exit(bad ? 1 : 0);
}

/* main never returns; start.S's tail call needs an _exit that uses no SBI. */
void _exit(int code)
{
        finisher_exit(code ? 1 : 0);
}

#endif /* COMPUTE_BENCH */
