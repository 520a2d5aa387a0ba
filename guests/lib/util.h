/* util.h - the few C library functions the guests need (there is no libc). */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* gcc may emit calls to these four for struct copies and array initialisers. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* 64-by-32-bit division with 32-bit instructions only (RV32 has no 64-bit
 * divide, and we do not link libgcc): returns n / d, stores n % d in *rem. */
uint64_t udiv64_32(uint64_t n, uint32_t d, uint32_t *rem);

/* "123", "0x7b", "16M", "64K", "1G" -> value; returns 0 on a syntax error. */
int parse_uint(const char *s, uint64_t *out);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB (1024u)
#define MiB (1024u * 1024u)

#endif
