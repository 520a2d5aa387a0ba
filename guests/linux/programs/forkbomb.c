/* forkbomb [MAX [HOLD_MS]]: a fork bomb that ends by itself.
 * A leader process (in a process group of its own) forks children until fork fails (EAGAIN:
 * the kernel's threads-max, a pids cgroup, a container's --pids-limit; ENOMEM: its memory) or
 * MAX (default 100000) are made; each child waits in pause().  The first process prints
 * "forkbomb: N processes, then fork: ERROR" (N counts the leader and its children) on stdout
 * as soon as the bomb is full, while the leader holds the children for HOLD_MS (default
 * 2000 ms of the guest's clock) and then kills its whole process group, itself included; the
 * first process waits for that and exits.  So whatever tries to start a process while the
 * bomb holds finds the process table (or the cgroup, or the container) full:
 *     forkbomb 100000 300 | { read line; echo "$line"; primes 5000; }                     */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long max = argc > 1 ? strtol(argv[1], NULL, 0) : 100000;
    long hold = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
    if (argc > 3 || max < 1 || hold < 0) {
        fprintf(stderr, "usage: forkbomb [MAX [HOLD_MS]]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        perror("forkbomb: pipe");
        return 1;
    }
    pid_t leader = fork();
    if (leader < 0) {
        perror("forkbomb: fork");
        return 1;
    }
    if (leader == 0) {
        close(fds[0]);
        setpgid(0, 0);
        long made = 0;
        int err = 0;
        while (made < max) {
            pid_t c = fork();
            if (c < 0) {
                err = errno;
                break;
            }
            if (c == 0) {
                close(fds[1]);
                for (;;)
                    pause();
            }
            made++;
        }
        long msg[2] = {made, err};
        if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(1);
        close(fds[1]);
        struct timespec ts = {hold / 1000, (hold % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(0, SIGKILL);
        _exit(0);
    }
    close(fds[1]);
    long msg[2];
    if (read(fds[0], msg, sizeof msg) != (ssize_t)sizeof msg) {
        fprintf(stderr, "forkbomb: the leader died before it reported\n");
        return 1;
    }
    printf("forkbomb: %ld processes, then %s%s\n", msg[0] + 1, msg[1] ? "fork: " : "",
           msg[1] ? strerror((int)msg[1]) : "the maximum");
    fflush(stdout);
    int status;
    while (waitpid(leader, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}
