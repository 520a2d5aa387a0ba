/* console.h - where printf's output goes.
 *
 * Output is collected in a line buffer and flushed at each '\n' (or when the
 * buffer is full) through one of three paths:
 *
 *   CONSOLE_SBI_DBCN    SBI debug console write: one ecall per line (default
 *                       when the SBI implementation has DBCN)
 *   CONSOLE_SBI_LEGACY  SBI legacy console_putchar: one ecall per character
 *                       (the fallback when DBCN is missing)
 *   CONSOLE_UART        straight to the UART's THR: one MMIO exit per
 *                       character, plus one per LSR poll
 *
 * CONSOLE_AUTO (the initial setting) picks DBCN or legacy on the first flush
 * by asking the SBI (probe_extension).
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

enum console_backend {
        CONSOLE_AUTO,
        CONSOLE_SBI_DBCN,
        CONSOLE_SBI_LEGACY,
        CONSOLE_UART,
};

void console_set_backend(enum console_backend b);   /* flushes first */
enum console_backend console_get_backend(void);     /* resolves AUTO */
const char *console_backend_name(enum console_backend b);

void console_putc(char c);
void console_write(const char *s, size_t n);
void console_puts(const char *s);                   /* no newline added */
void console_flush(void);

/* Input through the SBI legacy getchar: -1 when nothing is waiting. */
int console_getc(void);

#endif
