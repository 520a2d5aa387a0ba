/* forkwait [N]: fork N children (default 3); child i sums 1..100000*i and exits with status
 * i; the parent waits for each in turn (waitpid: musl makes it wait4, which rv32 Linux does
 * not have: musl calls waitid) and prints what it reaped.  Only the parent prints, in order,
 * so the output is the same on every run. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (argc > 2 || n < 1 || n > 64) {
        fprintf(stderr, "usage: forkwait [N]   (1..64 children, default 3)\n");
        return 2;
    }
    pid_t pids[64];
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkwait: fork");
            return 1;
        }
        if (pid == 0) {
            volatile unsigned long sum = 0;     /* some work, so the children overlap */
            for (unsigned long k = 1; k <= 100000UL * (i + 1); k++)
                sum += k;
            _exit(i + 1);
        }
        pids[i] = pid;
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) != pids[i]) {
            perror("forkwait: waitpid");
            return 1;
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        printf("reaped child %d: exit status %d\n", i + 1, code);
        ok += code == i + 1;
    }
    printf("forkwait: %d of %d children reaped with the right status\n", ok, n);
    return ok == n ? 0 : 1;
}
