/* primes N: count the primes up to N by trial division (CPU-bound: no system calls until the
 * answer, a few KiB of memory).  `time primes 20000` compares a VM with a container. */
#include <stdio.h>
#include <stdlib.h>

static int is_prime(unsigned n)
{
    if (n < 2)
        return 0;
    for (unsigned d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
    if (argc > 2 || n > 0xFFFF0000UL) {
        fprintf(stderr, "usage: primes [N]   (N up to 4294901760, default 10000)\n");
        return 2;
    }
    unsigned count = 0, largest = 0;
    for (unsigned long i = 2; i <= n; i++)
        if (is_prime((unsigned)i)) {
            count++;
            largest = (unsigned)i;
        }
    printf("primes up to %lu: %u (largest %u)\n", n, count, largest);
    return 0;
}
