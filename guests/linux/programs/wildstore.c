/* wildstore [ADDR]: a program with a wild pointer, the commonest bug of C.
 * It first hands the pointer to the kernel (write(2) from ADDR): a kernel checks every user
 * pointer it is given, so the call fails with EFAULT and the program goes on.  Then it stores
 * through the pointer itself: no page is mapped at ADDR, the MMU faults, and the kernel sends
 * the process SIGSEGV.  The process dies (a shell says "Segmentation fault", status 139); its
 * kernel, and everything else on it, runs on.  Default ADDR 0x1230: a NULL pointer plus an
 * offset, in the first 64 KiB where no program is mapped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    unsigned long addr = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x1230;
    if (argc > 2 || addr % 4) {
        fprintf(stderr, "usage: wildstore [ADDR]   (a word-aligned address, default 0x1230)\n");
        return 2;
    }
    volatile unsigned int *p = (volatile unsigned int *)addr;
    ssize_t n = write(1, (const void *)p, 4);
    if (n < 0)
        printf("wildstore: write(1, %#lx, 4): %s\n", addr, strerror(errno));
    else
        printf("\nwildstore: write(1, %#lx, 4) wrote %zd bytes\n", addr, n);
    printf("wildstore: storing to %#lx\n", addr);
    fflush(stdout);
    *p = 0xdeadbeef;
    printf("wildstore: the store went through: %#lx is mapped\n", addr);
    return 1;
}
