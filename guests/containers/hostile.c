/* hostile.c - raw system calls with hostile arguments, for tests/test_hostile_kernel.py.
 *
 *   hostile CALL...     each CALL is "NR,A0,A1,A2,A3,A4,A5" (numbers in C syntax, fewer
 *                       arguments are 0); an argument may be a token instead of a number:
 *     BIG      a 100 KiB path of 'a's (NUL-terminated), past PATH_MAX (4096)
 *     BUF      a 64 KiB zeroed, writable buffer      IOV   1024 iovecs of 16 bytes into BUF
 *     S:TEXT   the string TEXT                       FD0/FD1   the ints BUF[0], BUF[1] (the
 *                                                              fds a pipe2(BUF) gave)
 *   prints "NR=RESULT" per call (RESULT is the raw return: -errno on failure), then "done".
 *   hostile child CALL...   the same in a forked child (not the PID namespace's init, which
 *                           ignores signals it has no handler for), then "status=S" (wait(2))
 *
 * No libc wrappers: the calls go straight to ecall, so the kernel sees exactly these values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char big[100 * 1024 + 1];
static char buf[64 * 1024];
static struct { void *base; unsigned long len; } iov[1024];

static long raw(long n, long a, long b, long c, long d, long e, long f)
{
    register long a7 __asm__("a7") = n;
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                     : "memory");
    return a0;
}

static long arg(const char *s)
{
    if (!strcmp(s, "BIG")) return (long)big;
    if (!strcmp(s, "BUF")) return (long)buf;
    if (!strcmp(s, "IOV")) return (long)iov;
    if (!strcmp(s, "FD0")) return ((int *)buf)[0];
    if (!strcmp(s, "FD1")) return ((int *)buf)[1];
    if (!strncmp(s, "S:", 2)) return (long)(s + 2);
    return (long)strtoull(s, NULL, 0);
}

int main(int argc, char **argv)
{
    memset(big, 'a', sizeof big - 1);
    for (int i = 0; i < 1024; i++) {
        iov[i].base = buf + 16 * i;
        iov[i].len = 16;
    }
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "child")) {
        pid_t pid = fork();
        if (pid > 0) {
            int status = 0;
            waitpid(pid, &status, 0);
            printf("status=%d\n", status);
            return 0;
        }
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        long v[7] = {0};
        char *copy = strdup(argv[i]), *save = NULL, *tok = strtok_r(copy, ",", &save);
        for (int k = 0; k < 7 && tok; k++, tok = strtok_r(NULL, ",", &save))
            v[k] = arg(tok);
        long r = raw(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        printf("%ld=%ld\n", v[0], r);
        fflush(stdout);
        free(copy);
    }
    printf("done\n");
    return 0;
}
