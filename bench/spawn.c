/* spawn.c - wall time of whole processes, for bench/run.sh (CLI one-shots, interpreter startup).
 *
 *   build/bench/spawn [-n RUNS] [-w WARMUP] [-e EXIT] [-k KEY] -- COMMAND [ARG...]
 *
 * Runs COMMAND (execvp, no shell in between) WARMUP times untimed (default 1), then RUNS times
 * (default 10), each with stdin and stdout on /dev/null and stderr kept, and prints
 *   result KEY min=<ms> median=<ms> max=<ms> rounds=<RUNS> iterations=1
 * measured from fork to the end of waitpid on CLOCK_MONOTONIC. Every run must exit with status
 * EXIT (default 0); otherwise spawn says which run and how it ended and exits 1, so a benchmark
 * never reports the time of a failing command. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double spawn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int spawn_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* one run; returns its wall time in ms, or -1 when it did not exit with `want` */
static double spawn_once(char **cmd, int want, int run)
{
    double t0 = spawn_now_ms(), t;
    int status = 0;
    pid_t pid = fork();
    if (pid < 0) {
        perror("spawn: fork");
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (null > 2)
                close(null);
        }
        execvp(cmd[0], cmd);
        perror("spawn: exec");
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid) {
        perror("spawn: waitpid");
        return -1;
    }
    t = spawn_now_ms() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
        if (WIFEXITED(status))
            fprintf(stderr, "spawn: run %d of %s exited with %d, expected %d\n", run, cmd[0], WEXITSTATUS(status),
                    want);
        else
            fprintf(stderr, "spawn: run %d of %s ended by signal %d\n", run, cmd[0],
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return -1;
    }
    return t;
}

int main(int argc, char **argv)
{
    int runs = 10, warm = 1, want = 0, a, i;
    const char *key = "spawn";
    double *ms;
    for (a = 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
        if (a + 1 >= argc) {
            fprintf(stderr, "spawn: %s needs a value\n", argv[a]);
            return 2;
        }
        if (strcmp(argv[a], "-n") == 0)
            runs = atoi(argv[++a]);
        else if (strcmp(argv[a], "-w") == 0)
            warm = atoi(argv[++a]);
        else if (strcmp(argv[a], "-e") == 0)
            want = atoi(argv[++a]);
        else if (strcmp(argv[a], "-k") == 0)
            key = argv[++a];
        else {
            fprintf(stderr, "usage: spawn [-n RUNS] [-w WARMUP] [-e EXIT] [-k KEY] -- COMMAND [ARG...]\n");
            return 2;
        }
    }
    if (a + 1 >= argc || runs < 1 || warm < 0) {
        fprintf(stderr, "usage: spawn [-n RUNS] [-w WARMUP] [-e EXIT] [-k KEY] -- COMMAND [ARG...]\n");
        return 2;
    }
    ms = malloc(sizeof *ms * (size_t)runs);
    if (ms == NULL)
        return 1;
    for (i = 0; i < warm; i++)
        if (spawn_once(argv + a + 1, want, -1 - i) < 0) {
            free(ms);
            return 1;
        }
    for (i = 0; i < runs; i++) {
        ms[i] = spawn_once(argv + a + 1, want, i + 1);
        if (ms[i] < 0) {
            free(ms);
            return 1;
        }
    }
    qsort(ms, (size_t)runs, sizeof *ms, spawn_cmp);
    printf("result %s min=%.2f median=%.2f max=%.2f rounds=%d iterations=1\n", key, ms[0], ms[runs / 2],
           ms[runs - 1], runs);
    free(ms);
    return 0;
}
