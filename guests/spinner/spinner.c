/* spinner - endless compute: a VM that uses a whole core and never stops by itself.
 *
 * Looks for primes by trial division, one odd number after another, and prints a
 * progress line each second of guest time (the `time` CSR, which hvlab emulates):
 * how many primes so far, the latest one, and the instructions retired (instret).
 * It runs until it is stopped: `k` in hv top, --max-insns, --timeout or Ctrl-C.
 * In hv top it is the VM to pause, single-step, cap and reweight.
 *
 * Every line can be checked on the host: the count is pi(latest), the number of
 * primes up to the latest one (tests/test_tui_guests.py checks it with a sieve).
 *
 * bootargs: every_ms=N   one line every N ms of guest time (default 1000)
 */
#include "guest.h"

/* Time is read every CHECK_EVERY candidates: each read is a CSR exit (two or three
 * reads of time/timeh), cheap but not free. */
#define CHECK_EVERY 64

static int is_prime(uint32_t n)
{
        uint32_t d;

        if (n < 2)
                return 0;
        if (n % 2 == 0)
                return n == 2;
        for (d = 3; d <= n / d; d += 2)
                if (n % d == 0)
                        return 0;
        return 1;
}

static uint32_t bootarg_u32(const char *key, uint32_t dflt)
{
        char buf[24];
        uint64_t v;

        if (bootarg(boot.bootargs, key, buf, sizeof(buf)) && parse_uint(buf, &v) && v > 0 &&
            v < 1000000)
                return (uint32_t)v;
        return dflt;
}

int main(unsigned long hartid, const void *dtb)
{
        uint32_t every_ms, n = 2, found = 0, latest = 0, lines = 0, i;
        uint64_t every, next;

        guest_init(hartid, dtb);
        every_ms = bootarg_u32("every_ms", 1000);
        every = (uint64_t)(boot.timebase_hz / 1000) * every_ms;
        if (every == 0)
                every = 1;
        printf("spinner: looking for primes forever, one line every %lu ms of guest time\n",
               (unsigned long)every_ms);
        next = rdtime64() + every;
        for (;;) {
                for (i = 0; i < CHECK_EVERY; i++, n += (n == 2) ? 1 : 2) {
                        if (is_prime(n)) {
                                found++;
                                latest = n;
                        }
                }
                if (rdtime64() >= next) {
                        lines++;
                        printf("spinner: %lu: %lu primes up to %lu, %llu instructions\n",
                               (unsigned long)lines, (unsigned long)found,
                               (unsigned long)latest, (unsigned long long)rdinstret64());
                        next += every;
                }
        }
}
