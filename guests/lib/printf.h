/* printf.h - a small printf for the guests.
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%, with flags '-' and '0', a field
 * width, a precision for %s, and the length modifiers l (32-bit on RV32),
 * ll (64-bit) and z.  %p prints 0x%08x.  No floating point.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);        /* adds a newline, like the C library's */

/* The engine behind them: every output character goes to out(c, arg). */
int vformat(void (*out)(char c, void *arg), void *arg, const char *fmt, va_list ap);

#endif
