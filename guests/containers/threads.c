/* threads [N [ROUNDS]]: N pthreads (default 4) wait on a condition variable for a start
 * signal, then each adds 1 to a shared counter ROUNDS times (default 10000) under a mutex, and
 * posts a semaphore; the main thread joins them and prints what each returned (its
 * thread-local value, and whether getpid() and gettid() say what Linux says) and the total.
 * Same output on every run.  Other modes, one thread doing what ends or replaces the process:
 *   threads segv       a thread writes through a null pointer (SIGSEGV ends every thread)
 *   threads exit       a thread calls exit(3): exit_group(2), the process ends with 3
 *   threads mainexit   the main thread pthread_exit()s; the other prints later, the process
 *                      ends when it does (status 0)
 *   threads exec       a thread execve()s argv[0] "2 10" (the other threads are destroyed) */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int started, ready;
static long counter, rounds = 10000;
static __thread int mine;
static sem_t done;

static void *worker(void *arg)
{
    long id = (long)arg;
    mine = (int)id * 100;
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_broadcast(&go);
    while (!started)
        pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 1000 == 0)
            sched_yield();
    }
    int same_pid = getpid() == (pid_t)(long)syscall(SYS_getpid);
    int own_tid = syscall(SYS_gettid) != getpid();
    sem_post(&done);
    return (void *)(long)(mine + same_pid + 2 * own_tid);
}

static void *crash(void *arg)
{
    (void)arg;
    *(volatile int *)0 = 1;
    return 0;
}

static void *leave(void *arg)
{
    (void)arg;
    exit(3);
}

static void *later(void *arg)
{
    (void)arg;
    nanosleep(&(struct timespec){0, 50000000}, 0);
    printf("the other thread ran on after main's pthread_exit\n");
    fflush(stdout);
    return 0;
}

static char *self;

static void *replace(void *arg)
{
    (void)arg;
    execv(self, (char *[]){self, "2", "10", 0});
    perror("execv");
    return 0;
}

static int mode(const char *m)
{
    void *(*fn)(void *) = !strcmp(m, "segv") ? crash : !strcmp(m, "exit") ? leave
        : !strcmp(m, "mainexit") ? later : !strcmp(m, "exec") ? replace : 0;
    if (!fn)
        return -1;
    pthread_t t;
    printf("mode %s\n", m);
    fflush(stdout);
    if (pthread_create(&t, 0, fn, 0))
        return 1;
    if (!strcmp(m, "mainexit"))
        pthread_exit(0);
    pthread_join(t, 0);
    printf("not reached\n");
    return 1;
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc > 1 && (argv[1][0] < '0' || argv[1][0] > '9'))
        return mode(argv[1]) < 0 ? 2 : 1;
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (argc > 2)
        rounds = atol(argv[2]);
    if (n < 1 || n > 64) {
        fprintf(stderr, "usage: threads [1..64 [ROUNDS]]\n");
        return 2;
    }
    pthread_t t[64];
    sem_init(&done, 0, 0);
    for (long i = 0; i < n; i++)
        if ((errno = pthread_create(&t[i], 0, worker, (void *)(i + 1)))) {
            perror("pthread_create");
            return 1;
        }
    pthread_mutex_lock(&lock);
    while (ready < n)
        pthread_cond_wait(&go, &lock);
    started = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++)
        sem_wait(&done);
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("thread %d returned %ld\n", i + 1, (long)r);
    }
    printf("counter %ld (expected %ld), main tls %d\n", counter, n * rounds, mine);
    return counter == n * rounds ? 0 : 1;
}
