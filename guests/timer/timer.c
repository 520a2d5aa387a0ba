/* timer - timer interrupts through the SBI.
 *
 * Arms the timer with SBI TIME set_timer (an absolute deadline on the `time`
 * counter), enables the supervisor timer interrupt (sie.STIE) and interrupts
 * in general (sstatus.SIE), then sleeps in wfi.  Each interrupt re-arms the
 * timer one period later; the main loop prints each tick.  After N ticks it
 * disarms the timer and shuts down with success.
 *
 * bootargs: ticks=N (default 10), hz=F (default 100)
 */
#include "guest.h"

static volatile uint32_t ticks;
static uint32_t want = 10;
static uint64_t next, period;

static void on_trap(struct trap_frame *tf)
{
        if (tf->scause == (SCAUSE_INTERRUPT | IRQ_S_TIMER)) {
                ticks++;
                if (ticks < want) {
                        next += period;                 /* no drift: absolute deadlines */
                        sbi_set_timer(next);            /* also clears the pending STIP */
                } else {
                        sbi_set_timer(UINT64_MAX);      /* disarm */
                }
                return;
        }
        printf("timer: unexpected trap\n");
        trap_dump(tf);
        console_flush();
        sbi_shutdown(1);
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
        uint32_t hz, seen = 0, wakeups = 0;
        uint64_t start, now, last;

        guest_init(hartid, dtb);
        want = bootarg_u32("ticks", 10);
        hz = bootarg_u32("hz", 100);
        if (hz > boot.timebase_hz)
                hz = boot.timebase_hz;
        period = boot.timebase_hz / hz;
        printf("timer: timebase %lu Hz; %lu ticks at %lu Hz = one every %llu timebase ticks\n",
               (unsigned long)boot.timebase_hz, (unsigned long)want, (unsigned long)hz,
               (unsigned long long)period);
        if (!sbi_probe_extension(SBI_EXT_TIME)) {
                printf("timer: this SBI has no TIME extension\n");
                return 1;
        }

        trap_init(on_trap);
        start = last = rdtime64();
        next = start + period;
        sbi_set_timer(next);
        csr_set(sie, SIE_STIE);
        csr_set(sstatus, SSTATUS_SIE);
        printf("timer: armed for time %llu; sie.STIE and sstatus.SIE on, sleeping in wfi\n",
               (unsigned long long)next);

        while (seen < want) {
                wfi();                  /* returns once an interrupt is pending */
                wakeups++;
                while (seen < ticks) {
                        seen++;
                        now = rdtime64();
                        printf("timer: tick %lu at time %llu (+%llu), after %lu wfi wakeups\n",
                               (unsigned long)seen, (unsigned long long)now,
                               (unsigned long long)(now - last), (unsigned long)wakeups);
                        last = now;
                }
        }

        csr_clear(sstatus, SSTATUS_SIE);
        csr_clear(sie, SIE_STIE);
        now = rdtime64();
        printf("timer: %lu ticks in %llu timebase ticks (at least %llu expected): %s\n",
               (unsigned long)want, (unsigned long long)(now - start),
               (unsigned long long)(want * period),
               now - start >= want * period ? "ok" : "TOO FAST");
        return now - start >= want * period ? 0 : 1;
}
