/* http_floor.c - the floor for invite.core's transport: bare libcurl on a keep-alive
 * connection, and a minimal loopback server so the numbers are not the server's.
 *
 *   gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -o build/bench/http_floor bench/http_floor.c -lcurl
 *   (bench/run.sh builds it like that, with -Wall -Wextra -Werror, and runs it against nginx)
 *   build/bench/http_floor serve                 # prints its port, answers 200 {} to anything
 *   build/bench/http_floor get  URL [N]          # N keep-alive GETs, prints us per request
 *   build/bench/http_floor post URL [N] [BODY]   # N keep-alive POSTs of BODY
 *   options after the positional arguments:
 *     -r ROUNDS        time ROUNDS rounds of N requests and also print
 *                      "floor http min=<us> median=<us> max=<us> rounds=<n> iterations=<n>"
 *     -H 'Name: value' send this header (repeatable); given any -H, the default Host and
 *                      Content-Type headers are replaced, so bench/run.sh sends exactly the headers
 *                      of a signed invite request (Host, Content-Type, X-Amz-Date, Authorization,
 *                      User-Agent) of the same sizes
 *     -s STATUS        the status every response must have (default 200)
 *
 * The client sets what invite.core sets (HTTP/1.1, no Expect/Accept/form Content-Type, path as
 * is, write callbacks into a buffer) and nothing else, so the difference between this loop and
 * h:request{} in Lua is the cost of the binding.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* ---- server: one forked child per connection, keep-alive, fixed answer ---- */

static const char floor_reply[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

static char *floor_find_blank_line(char *p, size_t n)
{
    size_t i;
    for (i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0)
            return p + i;
    return NULL;
}

static void floor_serve_conn(int fd)
{
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *end;
        size_t head, body = 0, need;
        ssize_t n;
        while ((end = floor_find_blank_line(buf, have)) == NULL) {
            if (have == sizeof buf)
                return;
            n = read(fd, buf + have, sizeof buf - have);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        head = (size_t)(end - buf) + 4;
        {
            const char *p = buf;
            while (p < buf + head) {
                const char *eol = memchr(p, '\n', (size_t)(buf + head - p));
                if (eol == NULL)
                    break;
                if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
                    body = strtoul(p + 15, NULL, 10);
                p = eol + 1;
            }
        }
        if (body > sizeof buf - head)
            return;
        need = head + body;
        while (have < need) {
            n = read(fd, buf + have, sizeof buf - have);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        if (write(fd, floor_reply, sizeof floor_reply - 1) != (ssize_t)(sizeof floor_reply - 1))
            return;
        memmove(buf, buf + need, have - need);
        have -= need;
    }
}

static int floor_serve(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 128) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        perror("serve");
        return 1;
    }
    signal(SIGCHLD, SIG_IGN);
    printf("%d\n%d\n", ntohs(a.sin_port), (int)getpid());
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fork() == 0) {
            close(s);
            floor_serve_conn(c);
            _exit(0);
        }
        close(c);
    }
}

/* ---- client ---- */

typedef struct {
    char *data;
    size_t len, cap;
} floor_buf;

static size_t floor_write(char *p, size_t size, size_t n, void *ud)
{
    floor_buf *b = ud;
    size_t len = size * n;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *q;
        while (cap < b->len + len)
            cap *= 2;
        q = realloc(b->data, cap);
        if (q == NULL)
            return 0;
        b->data = q;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    return len;
}

static size_t floor_header(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static double floor_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int floor_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* one timed run of n requests on the handle; returns seconds, or -1 on a failed request */
static double floor_run(CURL *e, floor_buf *b, long n, long want_status)
{
    long i;
    double t0 = floor_now();
    for (i = 0; i < n; i++) {
        CURLcode rc;
        long status = 0;
        b->len = 0;
        rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != want_status) {
            fprintf(stderr, "request %ld: %s, status %ld\n", i, curl_easy_strerror(rc), status);
            return -1;
        }
    }
    return floor_now() - t0;
}

int main(int argc, char **argv)
{
    const char *url, *body = NULL;
    long n = 10000, rounds = 0, want_status = 200, r, connects = 0;
    int a, npos = 0, post, custom_headers = 0, rc = 0;
    CURL *e;
    struct curl_slist *h = NULL;
    floor_buf b = { NULL, 0, 0 };
    double t, *us = NULL;

    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return floor_serve();
    if (argc < 3 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "post") != 0)) {
        fprintf(stderr, "usage: %s serve | get URL [N] [options] | post URL [N] [BODY] [options]\n"
                        "options: -r ROUNDS, -H 'Name: value' (repeatable), -s STATUS\n", argv[0]);
        return 2;
    }
    post = strcmp(argv[1], "post") == 0;
    url = argv[2];
    if (post)
        body = "{\"accountIds\":[\"111122223333\"]}";
    for (a = 3; a < argc; a++) {
        if (strcmp(argv[a], "-r") == 0 || strcmp(argv[a], "-H") == 0 || strcmp(argv[a], "-s") == 0) {
            if (a + 1 >= argc) {
                fprintf(stderr, "http_floor: %s needs a value\n", argv[a]);
                curl_slist_free_all(h);
                return 2;
            }
            if (argv[a][1] == 'r')
                rounds = atol(argv[a + 1]);
            else if (argv[a][1] == 's')
                want_status = atol(argv[a + 1]);
            else {
                struct curl_slist *nh = curl_slist_append(h, argv[a + 1]);
                if (nh == NULL) {
                    curl_slist_free_all(h);
                    return 1;
                }
                h = nh;
                custom_headers = 1;
            }
            a++;
        } else if (npos == 0) {
            n = atol(argv[a]);
            npos++;
        } else if (npos == 1 && post) {
            body = argv[a];
            npos++;
        } else {
            fprintf(stderr, "http_floor: unexpected argument '%s'\n", argv[a]);
            curl_slist_free_all(h);
            return 2;
        }
    }
    if (n < 1 || rounds < 0) {
        fprintf(stderr, "http_floor: N must be >= 1 and ROUNDS >= 0\n");
        curl_slist_free_all(h);
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = curl_easy_init();
    if (!custom_headers) {
        h = curl_slist_append(h, "Host: guardduty.us-east-1.amazonaws.com");
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    h = curl_slist_append(h, "Expect:");
    h = curl_slist_append(h, "Accept:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, floor_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, floor_header);
    if (post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
    if (floor_run(e, &b, 100, want_status) < 0) { /* warm-up, opens the connection */
        rc = 1;
        goto done;
    }
    t = floor_run(e, &b, n, want_status);
    if (t < 0) {
        rc = 1;
        goto done;
    }
    printf("%s %ld requests: %.1f us/request\n", post ? "POST" : "GET", n, t * 1e6 / (double)n);
    if (rounds > 0) {
        us = malloc(sizeof *us * (size_t)rounds);
        if (us == NULL) {
            rc = 1;
            goto done;
        }
        for (r = 0; r < rounds; r++) {
            t = floor_run(e, &b, n, want_status);
            if (t < 0) {
                rc = 1;
                goto done;
            }
            us[r] = t * 1e6 / (double)n;
        }
        qsort(us, (size_t)rounds, sizeof *us, floor_cmp);
        curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
        printf("floor http min=%.1f median=%.1f max=%.1f rounds=%ld iterations=%ld new_connections_last=%ld\n",
               us[0], us[rounds / 2], us[rounds - 1], rounds, n, connects);
    }
done:
    free(us);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    free(b.data);
    return rc;
}
