/* sign_floor.c - the C-only floor for bench/sign.lua: sigv4_sign() in a loop
 * on the same GuardDuty DeclineInvitations request, no Lua involved.
 *
 *   sign_floor [rounds] [iterations]
 *
 * Prints one line per variant:
 *   floor <variant> min=<ns> median=<ns> max=<ns> rounds=<n> iterations=<n>
 * (ns per signature over `rounds` rounds of `iterations` signatures). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

#define S(lit) ((sigv4_str){(lit), sizeof(lit) - 1})

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char buf[8192];

static int run(sigv4_ctx *ctx, const char *name, const sigv4_request *req, int rounds, int iters)
{
    double *ns = malloc(sizeof *ns * (size_t)rounds);
    sigv4_result res;
    int r, i;
    if (ns == NULL)
        return 1;
    for (i = 0; i < 1000; i++) /* warm up: key cache, OpenSSL contexts */
        if (sigv4_sign(ctx, req, &res, buf, sizeof buf) != SIGV4_OK) {
            free(ns);
            return 1;
        }
    for (r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (i = 0; i < iters; i++)
            if (sigv4_sign(ctx, req, &res, buf, sizeof buf) != SIGV4_OK) {
                free(ns);
                return 1;
            }
        ns[r] = (now_ns() - t0) / iters;
    }
    qsort(ns, (size_t)rounds, sizeof *ns, cmp_double);
    printf("floor %s min=%.0f median=%.0f max=%.0f rounds=%d iterations=%d\n", name, ns[0], ns[rounds / 2],
           ns[rounds - 1], rounds, iters);
    free(ns);
    return 0;
}

int main(int argc, char **argv)
{
    static const sigv4_header headers[] = {
        {"Host", 4, "guardduty.us-east-1.amazonaws.com", 33},
        {"Content-Type", 12, "application/json", 16},
    };
    int rounds = argc > 1 ? atoi(argv[1]) : 9, iters = argc > 2 ? atoi(argv[2]) : 20000, rc = 0;
    sigv4_ctx *ctx = sigv4_ctx_new();
    sigv4_request req;
    if (ctx == NULL || rounds < 1 || iters < 1) {
        fprintf(stderr, "sign_floor: cannot start\n");
        return 1;
    }
    memset(&req, 0, sizeof req);
    req.method = S("POST");
    req.path = S("/invitation/decline");
    req.headers = headers;
    req.nheaders = 2;
    req.body = S("{\"accountIds\":[\"111122223333\"]}");
    req.access_key = S("AKIDEXAMPLE");
    req.secret_key = S("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    req.region = S("us-east-1");
    req.service = S("guardduty");
    req.time = 1440938160;
    req.flags = SIGV4_NORMALIZE_PATH;
    rc |= run(ctx, "no-token", &req, rounds, iters);
    req.session_token = S("FwoGZXIvYXdzEBYaDExampleSessionTokenValue0123456789abcdefghijklmnopqrstuvwxyz+/"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNOP==");
    rc |= run(ctx, "token", &req, rounds, iters);
    sigv4_ctx_free(ctx);
    return rc;
}
