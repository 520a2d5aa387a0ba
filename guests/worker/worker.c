/* worker - periodic bursts of work and sleeps in wfi: a VM that is idle most of the time.
 *
 * Each period (2000 ms of guest time by default) starts with a burst of work for
 * busy_ms (500 ms): CRC32 rounds over a 4 KiB buffer until `time` says the burst is
 * over.  Then it arms the timer for the start of the next period (SBI set_timer) and
 * sleeps in wfi.  It never stops by itself: `k` in hv top, --max-insns or --timeout.
 *
 * It sleeps with interrupts masked (sstatus.SIE off) and sie.STIE on: wfi still wakes
 * when an enabled interrupt is pending (privileged spec, "Wait for Interrupt"), and
 * the guest sees the timer in sip.STIP without taking a trap.  set_timer clears it.
 *
 * In hv top (guest time follows the host clock) it uses about busy/period of a core
 * and shows "idle" between bursts.  Under virtual time (hv run) wfi skips ahead to
 * the deadline, so it runs the bursts back to back.
 *
 * One line per burst, with the CRC32 of every round so far: the CRC of the buffer
 * repeated that many times (tests/test_tui_guests.py checks it with zlib).
 *
 * bootargs: period_ms=N busy_ms=N
 */
#include "guest.h"

#define SIP_STIP (1u << 5)
#define BUF_SIZE 4096

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static void crc_init(void)
{
        uint32_t i, c, k;

        for (i = 0; i < 256; i++) {
                c = i;
                for (k = 0; k < 8; k++)
                        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[i] = c;
        }
        for (i = 0; i < BUF_SIZE; i++)
                buf[i] = (uint8_t)(i * 7 + 3);
}

/* zlib's crc32(crc, buf, len): chaining calls gives the CRC of the concatenation */
static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t len)
{
        crc = ~crc;
        while (len--)
                crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
        return ~crc;
}

static uint32_t bootarg_u32(const char *key, uint32_t dflt)
{
        char buf_[24];
        uint64_t v;

        if (bootarg(boot.bootargs, key, buf_, sizeof(buf_)) && parse_uint(buf_, &v) &&
            v > 0 && v < 1000000)
                return (uint32_t)v;
        return dflt;
}

int main(unsigned long hartid, const void *dtb)
{
        uint32_t period_ms, busy_ms, crc = 0, rounds = 0, bursts = 0, burst_rounds;
        uint64_t ms, start, busy_end, insns, now;

        guest_init(hartid, dtb);
        period_ms = bootarg_u32("period_ms", 2000);
        busy_ms = bootarg_u32("busy_ms", 500);
        if (busy_ms > period_ms)
                busy_ms = period_ms;
        ms = boot.timebase_hz / 1000;
        crc_init();
        printf("worker: a %lu ms burst of CRC32 every %lu ms, sleeping in wfi in between\n",
               (unsigned long)busy_ms, (unsigned long)period_ms);
        csr_clear(sstatus, SSTATUS_SIE);        /* no traps: wfi wakes on sip & sie */
        csr_set(sie, SIE_STIE);
        start = rdtime64();
        for (;;) {
                busy_end = start + busy_ms * ms;
                insns = rdinstret64();
                burst_rounds = 0;
                do {
                        crc = crc32(crc, buf, BUF_SIZE);
                        burst_rounds++;
                } while (rdtime64() < busy_end);
                rounds += burst_rounds;
                bursts++;
                printf("worker: burst %lu: %lu rounds, %llu instructions; crc32 of all %lu "
                       "rounds 0x%08lx; sleeping\n", (unsigned long)bursts,
                       (unsigned long)burst_rounds,
                       (unsigned long long)(rdinstret64() - insns), (unsigned long)rounds,
                       (unsigned long)crc);
                start += period_ms * ms;
                now = rdtime64();
                if (start < now)                /* paused for a while: skip the periods missed */
                        start = now;
                sbi_set_timer(start);
                do
                        wfi();
                while (!(csr_read(sip) & SIP_STIP));
                sbi_set_timer(UINT64_MAX);      /* clears sip.STIP until the next arm */
        }
}
