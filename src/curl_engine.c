/* curl_engine.c - the libcurl transport of invite.core, in plain C (see curl_engine.h).
 *
 * Design:
 * - One curl multi handle per engine carries every transfer, the blocking curl_engine_perform
 *   included, so all of them share one connection cache (keep-alive across perform and start).
 *   perform adds its easy handle to the multi and drives it to completion; transfers started with
 *   curl_engine_start make progress meanwhile and are handed out by curl_engine_next_done.
 * - Transfers (curl_engine_xfer) are pooled in the engine, each allocated on its own so a pointer
 *   to one stays valid while the pool grows, and their easy handles are reset before each use.
 * - The libcurl callbacks only append to C buffers with checked lengths.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "curl_engine.h"

#define CURL_ENGINE_KEEP_CAPACITY ((size_t)256 * 1024) /* larger buffers are freed after use */
#define CURL_ENGINE_POLL_SLICE_MS 1000                  /* upper bound of one curl_multi_poll wait */

typedef char curl_engine_message_fits_errbuf[CURL_ENGINE_MESSAGE_SIZE >= CURL_ERROR_SIZE ? 1 : -1];

const char *const curl_engine_method_names[CURL_ENGINE_METHODS] = { "GET", "POST", "PUT", "DELETE", "HEAD" };

/* ------------------------------------------------------------------------------------------ */
/* Growable byte buffer                                                                        */

static int curl_engine_buf_reserve(curl_engine_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (extra > SIZE_MAX - b->len)
        return 0;
    need = b->len + extra;
    if (need <= b->cap)
        return 1;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return 0;
    b->data = p;
    b->cap = cap;
    return 1;
}

static int curl_engine_buf_append(curl_engine_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 1;
    if (!curl_engine_buf_reserve(b, n))
        return 0;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

static void curl_engine_buf_free(curl_engine_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Empties the buffer; gives its memory back when it grew beyond what is worth keeping. */
static void curl_engine_buf_recycle(curl_engine_buf *b)
{
    if (b->cap > CURL_ENGINE_KEEP_CAPACITY)
        curl_engine_buf_free(b);
    b->len = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Characters                                                                                  */

static int curl_engine_is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

static char curl_engine_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* a[0..alen) equals the NUL-terminated b, ignoring ASCII case */
static int curl_engine_ieq(const char *a, size_t alen, const char *b)
{
    size_t i, blen = strlen(b);
    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++)
        if (curl_engine_lower(a[i]) != curl_engine_lower(b[i]))
            return 0;
    return 1;
}

/* the NUL-terminated s starts with the NUL-terminated prefix, ignoring ASCII case */
static int curl_engine_iprefix(const char *s, const char *prefix)
{
    size_t i;
    for (i = 0; prefix[i] != '\0'; i++)
        if (s[i] == '\0' || curl_engine_lower(s[i]) != curl_engine_lower(prefix[i]))
            return 0;
    return 1;
}

int curl_engine_is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

int curl_engine_check_header(const curl_engine_header *h)
{
    size_t k;
    if (h->name_len == 0)
        return CURL_ENGINE_HEADER_EMPTY_NAME;
    for (k = 0; k < h->name_len; k++)
        if (!curl_engine_is_tchar((unsigned char)h->name[k]))
            return CURL_ENGINE_HEADER_BAD_NAME;
    for (k = 0; k < h->value_len; k++) {
        char ch = h->value[k];
        if (ch == '\r' || ch == '\n' || ch == '\0')
            return CURL_ENGINE_HEADER_BAD_VALUE;
    }
    if (h->name_len > SIZE_MAX / 4 || h->value_len > SIZE_MAX / 4)
        return CURL_ENGINE_HEADER_TOO_LONG;
    return CURL_ENGINE_HEADER_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The response-header parser                                                                  */

void curl_engine_head_reset(curl_engine_head *h, size_t max_body, int nobody)
{
    h->recs.len = 0;
    h->nheaders = 0;
    h->last_rec = CURL_ENGINE_NO_RECORD;
    h->content_length = CURL_ENGINE_NO_LENGTH;
    h->max_body = max_body;
    h->status = 0;
    h->nobody = nobody;
    h->fail = CURL_ENGINE_FAIL_NONE;
}

void curl_engine_head_free(curl_engine_head *h)
{
    curl_engine_buf_free(&h->recs);
}

/* The value of the last record ends the buffer, so an obsolete folded continuation line can be
 * appended to it in place. */
int curl_engine_head_line(curl_engine_head *h, const char *p, size_t len)
{
    size_t name_len, value_len, i, rec;
    const char *colon, *value;

    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after 1xx or a proxy's answer): keep only the final one's headers. */
        const char *sp = memchr(p, ' ', len);
        h->recs.len = 0;
        h->nheaders = 0;
        h->last_rec = CURL_ENGINE_NO_RECORD;
        h->content_length = CURL_ENGINE_NO_LENGTH;
        h->status = 0;
        if (sp != NULL && (size_t)(sp - p) + 4 <= len) {
            for (i = 1; i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
                h->status = h->status * 10 + (sp[i] - '0');
            if (i <= 3)
                h->status = 0;
        }
        return 1;
    }
    if (len == 0) {
        /* End of a header block: refuse a declared body over the limit before reading it. */
        if (h->status >= 200 && h->status != 204 && h->status != 304 && !h->nobody
            && h->content_length != CURL_ENGINE_NO_LENGTH && h->content_length > (uint64_t)h->max_body) {
            h->fail = CURL_ENGINE_FAIL_TOOBIG;
            return 0;
        }
        return 1;
    }

    if (curl_engine_is_ws(p[0])) { /* obs-fold: continues the previous header's value */
        size_t start = 0, vlen;
        if (h->last_rec == CURL_ENGINE_NO_RECORD)
            return 1;
        while (start < len && curl_engine_is_ws(p[start]))
            start++;
        while (len > start && curl_engine_is_ws(p[len - 1]))
            len--;
        if (start == len)
            return 1;
        if (len - start + 1 > CURL_ENGINE_MAX_HEADER_BYTES - h->recs.len) {
            h->fail = CURL_ENGINE_FAIL_HEADERS;
            return 0;
        }
        if (!curl_engine_buf_append(&h->recs, " ", 1)
            || !curl_engine_buf_append(&h->recs, p + start, len - start)) {
            h->fail = CURL_ENGINE_FAIL_NOMEM;
            return 0;
        }
        memcpy(&vlen, h->recs.data + h->last_rec + sizeof(size_t), sizeof vlen);
        vlen += len - start + 1;
        memcpy(h->recs.data + h->last_rec + sizeof(size_t), &vlen, sizeof vlen);
        return 1;
    }

    colon = memchr(p, ':', len);
    if (colon == NULL)
        return 1; /* not a header line; curl has its own view of malformed responses */
    name_len = (size_t)(colon - p);
    while (name_len > 0 && curl_engine_is_ws(p[name_len - 1]))
        name_len--;
    value = colon + 1;
    value_len = len - (size_t)(value - p);
    while (value_len > 0 && curl_engine_is_ws(value[0])) {
        value++;
        value_len--;
    }
    while (value_len > 0 && curl_engine_is_ws(value[value_len - 1]))
        value_len--;
    if (curl_engine_ieq(p, name_len, "content-length") && value_len > 0) {
        uint64_t v = 0;
        for (i = 0; i < value_len && value[i] >= '0' && value[i] <= '9'; i++)
            v = v > (UINT64_MAX - 1 - 9) / 10 ? UINT64_MAX - 1 : v * 10 + (uint64_t)(value[i] - '0');
        /* digits only; a malformed value is left to curl, which fails the transfer itself */
        if (i == value_len && (h->content_length == CURL_ENGINE_NO_LENGTH || v > h->content_length))
            h->content_length = v;
    }

    if (name_len + value_len + 2 * sizeof(size_t) > CURL_ENGINE_MAX_HEADER_BYTES - h->recs.len) {
        h->fail = CURL_ENGINE_FAIL_HEADERS;
        return 0;
    }
    if (!curl_engine_buf_reserve(&h->recs, name_len + value_len + 2 * sizeof(size_t))) {
        h->fail = CURL_ENGINE_FAIL_NOMEM;
        return 0;
    }
    rec = h->recs.len;
    curl_engine_buf_append(&h->recs, &name_len, sizeof name_len);
    curl_engine_buf_append(&h->recs, &value_len, sizeof value_len);
    for (i = 0; i < name_len; i++)
        h->recs.data[h->recs.len + i] = curl_engine_lower(p[i]);
    h->recs.len += name_len;
    curl_engine_buf_append(&h->recs, value, value_len);
    h->last_rec = rec;
    h->nheaders++;
    return 1;
}

int curl_engine_head_next(const curl_engine_head *h, size_t *off, curl_engine_header *out)
{
    size_t at = *off, left, nlen, vlen;
    if (at > h->recs.len)
        return 0;
    left = h->recs.len - at;
    if (left < 2 * sizeof(size_t))
        return 0;
    memcpy(&nlen, h->recs.data + at, sizeof nlen);
    memcpy(&vlen, h->recs.data + at + sizeof nlen, sizeof vlen);
    at += 2 * sizeof(size_t);
    left -= 2 * sizeof(size_t);
    if (nlen > left || vlen > left - nlen)
        return 0;
    out->name = h->recs.data + at;
    out->name_len = nlen;
    out->value = h->recs.data + at + nlen;
    out->value_len = vlen;
    *off = at + nlen + vlen;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */

const char *curl_engine_kind_name(int kind)
{
    switch (kind) {
    case CURL_ENGINE_KIND_TIMEOUT:
        return "timeout";
    case CURL_ENGINE_KIND_CONNECT:
        return "connect";
    case CURL_ENGINE_KIND_TLS:
        return "tls";
    case CURL_ENGINE_KIND_RESET:
        return "reset";
    case CURL_ENGINE_KIND_DNS:
        return "dns";
    default:
        return "other";
    }
}

static int curl_engine_kind_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return CURL_ENGINE_KIND_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CURL_ENGINE_KIND_DNS;
    case CURLE_COULDNT_CONNECT:
#if LIBCURL_VERSION_NUM >= 0x074900
    case CURLE_PROXY:
#endif
        return CURL_ENGINE_KIND_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
#if LIBCURL_VERSION_NUM >= 0x074d00
    case CURLE_SSL_CLIENTCERT:
#endif
        return CURL_ENGINE_KIND_TLS;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return CURL_ENGINE_KIND_RESET;
    default:
        return CURL_ENGINE_KIND_OTHER;
    }
}

/* Fills err: the message truncated to fit, without trailing CR/LF. Returns 0 (for failing
 * functions to return). */
static int curl_engine_set_error(curl_engine_error *err, int kind, int fail, long code, const char *msg)
{
    size_t n = strnlen(msg, sizeof err->message - 1);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    memcpy(err->message, msg, n);
    err->message[n] = '\0';
    err->kind = kind;
    err->fail = fail;
    err->code = code;
    err->limit = 0;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Transfers and the engine                                                                    */

enum { CURL_ENGINE_X_FREE, CURL_ENGINE_X_ACTIVE, CURL_ENGINE_X_DONE, CURL_ENGINE_X_DELIVERING };

struct curl_engine_xfer {
    CURL *easy;                  /* NULL when idle handles were trimmed */
    struct curl_slist *hdrs;     /* request headers: nodes and lines in hdrbuf, see
                                    curl_engine_build_headers; valid until the next setup */
    curl_engine_buf hdrbuf;
    curl_engine_buf reqbody;     /* copy of the request body (start only) */
    curl_engine_buf body;        /* response body */
    curl_engine_buf hdrv;        /* the curl_engine_header array of curl_engine_result */
    curl_engine_head head;       /* response headers */
    int body_started;            /* the write callback has run for this transfer */
    int state;
    int blocking;                /* owned by a running perform, never handed out by next_done */
    int fail;                    /* CURL_ENGINE_FAIL_*: a failure found by us rather than by curl */
    CURLcode result;
    long long id;
    /* what the easy handle's options were last set up for (see curl_engine_xfer_setup) */
    int cfg_valid;
    int cfg_method;
    int cfg_has_body;
    long cfg_timeout_ms;
    struct curl_engine_xfer *done_next; /* queue of finished started transfers */
    char errbuf[CURL_ERROR_SIZE];
};

struct curl_engine {
    CURLM *multi;
    curl_engine_xfer **xfers;    /* every transfer ever created; each one allocated on its own */
    size_t nxfers, capxfers;
    curl_engine_xfer *done_head, *done_tail;
    char *ca_bundle;
    long connect_timeout_ms;
    long timeout_ms;
    long max_connections;
    size_t max_body;
    int verify;
    long long next_id;
};

static int curl_engine_global_state; /* 0: not tried, 1: curl_global_init succeeded, -1: it failed */

int curl_engine_global_init(void)
{
    if (curl_engine_global_state == 0)
        curl_engine_global_state = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : -1;
    return curl_engine_global_state == 1;
}

static long curl_engine_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + (long)(ts.tv_nsec / 1000000L);
}

static void curl_engine_xfer_destroy(curl_engine *e, curl_engine_xfer *x)
{
    if (x->easy != NULL) {
        if (x->state == CURL_ENGINE_X_ACTIVE && e->multi != NULL)
            curl_multi_remove_handle(e->multi, x->easy);
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    x->hdrs = NULL;
    curl_engine_buf_free(&x->hdrbuf);
    curl_engine_buf_free(&x->reqbody);
    curl_engine_buf_free(&x->body);
    curl_engine_buf_free(&x->hdrv);
    curl_engine_head_free(&x->head);
    free(x);
}

void curl_engine_free(curl_engine *e)
{
    size_t i;
    if (e == NULL)
        return;
    for (i = 0; i < e->nxfers; i++)
        curl_engine_xfer_destroy(e, e->xfers[i]);
    free(e->xfers);
    if (e->multi != NULL)
        curl_multi_cleanup(e->multi);
    free(e->ca_bundle);
    free(e);
}

curl_engine *curl_engine_new(const curl_engine_options *o, curl_engine_error *err)
{
    curl_engine *e;
    if (curl_engine_global_state != 1) {
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)CURLE_FAILED_INIT,
                              "curl_global_init failed");
        return NULL;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL)
        goto oom;
    e->verify = o->verify;
    e->connect_timeout_ms = o->connect_timeout_ms;
    e->timeout_ms = o->timeout_ms;
    e->max_connections = o->max_connections;
    e->max_body = o->max_body;
    if (o->ca_bundle != NULL) {
        size_t n = strlen(o->ca_bundle);
        e->ca_bundle = malloc(n + 1);
        if (e->ca_bundle == NULL)
            goto oom;
        memcpy(e->ca_bundle, o->ca_bundle, n + 1);
    }
    e->multi = curl_multi_init();
    if (e->multi == NULL)
        goto oom;
    if (curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, e->max_connections) != CURLM_OK
        || curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->max_connections) != CURLM_OK
        || curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK) {
        curl_engine_free(e);
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)CURLE_FAILED_INIT,
                              "cannot configure the curl multi handle");
        return NULL;
    }
    return e;

oom:
    curl_engine_free(e);
    curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NOMEM, (long)CURLE_OUT_OF_MEMORY,
                          "out of memory");
    return NULL;
}

/* Hands out an idle transfer with an easy handle, creating one if needed; NULL when out of
 * memory. */
static curl_engine_xfer *curl_engine_xfer_acquire(curl_engine *e)
{
    size_t i;
    curl_engine_xfer *x = NULL;
    for (i = 0; i < e->nxfers; i++) {
        if (e->xfers[i]->state == CURL_ENGINE_X_FREE) {
            x = e->xfers[i];
            if (x->easy != NULL)
                return x;
        }
    }
    if (x == NULL) {
        if (e->nxfers == e->capxfers) {
            size_t cap = e->capxfers ? e->capxfers * 2 : 8;
            curl_engine_xfer **p;
            if (cap > SIZE_MAX / sizeof *p)
                return NULL;
            p = realloc(e->xfers, cap * sizeof *p);
            if (p == NULL)
                return NULL;
            e->xfers = p;
            e->capxfers = cap;
        }
        x = calloc(1, sizeof *x);
        if (x == NULL)
            return NULL;
        x->state = CURL_ENGINE_X_FREE;
        x->head.last_rec = CURL_ENGINE_NO_RECORD;
        e->xfers[e->nxfers++] = x;
    }
    x->easy = curl_easy_init();
    x->cfg_valid = 0;
    return x->easy != NULL ? x : NULL;
}

/* Returns a transfer to the pool. Idle easy handles beyond max_connections are closed so a
 * burst of started transfers does not pin memory forever. */
void curl_engine_recycle(curl_engine *e, curl_engine_xfer *x)
{
    size_t i, idle = 0;
    x->state = CURL_ENGINE_X_FREE;
    x->blocking = 0;
    x->done_next = NULL;
    x->hdrs = NULL;
    curl_engine_buf_recycle(&x->hdrbuf);
    curl_engine_buf_recycle(&x->reqbody);
    curl_engine_buf_recycle(&x->body);
    curl_engine_buf_recycle(&x->hdrv);
    curl_engine_buf_recycle(&x->head.recs);
    for (i = 0; i < e->nxfers; i++)
        if (e->xfers[i]->state == CURL_ENGINE_X_FREE && e->xfers[i]->easy != NULL)
            idle++;
    if (idle > (size_t)e->max_connections && x->easy != NULL) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        curl_engine_buf_free(&x->hdrbuf);
        curl_engine_buf_free(&x->reqbody);
        curl_engine_buf_free(&x->body);
        curl_engine_buf_free(&x->hdrv);
        curl_engine_head_free(&x->head);
    }
}

long long curl_engine_xfer_id(const curl_engine_xfer *x)
{
    return x->id;
}

size_t curl_engine_pending(const curl_engine *e)
{
    size_t i, n = 0;
    for (i = 0; i < e->nxfers; i++) {
        const curl_engine_xfer *x = e->xfers[i];
        if (!x->blocking && x->state != CURL_ENGINE_X_FREE)
            n++;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* libcurl callbacks: C buffers only                                                           */

static size_t curl_engine_on_header(char *p, size_t size, size_t n, void *ud)
{
    curl_engine_xfer *x = ud;
    size_t total;
    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    total = size * n;
    if (!curl_engine_head_line(&x->head, p, total)) {
        x->fail = x->head.fail;
        return 0;
    }
    return total;
}

static size_t curl_engine_on_body(char *p, size_t size, size_t n, void *ud)
{
    curl_engine_xfer *x = ud;
    size_t len, max_body = x->head.max_body;
    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    len = size * n;
    if (!x->body_started) {
        x->body_started = 1;
        /* First chunk: size the buffer from Content-Length, or fail early if it cannot fit. */
        curl_off_t cl = -1;
        if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0) {
            if ((uint64_t)cl > (uint64_t)max_body) {
                x->fail = CURL_ENGINE_FAIL_TOOBIG;
                return 0;
            }
            if (!curl_engine_buf_reserve(&x->body, (size_t)cl)) {
                x->fail = CURL_ENGINE_FAIL_NOMEM;
                return 0;
            }
        }
    }
    if (len > max_body - x->body.len) {
        x->fail = CURL_ENGINE_FAIL_TOOBIG;
        return 0;
    }
    if (!curl_engine_buf_append(&x->body, p, len)) {
        x->fail = CURL_ENGINE_FAIL_NOMEM;
        return 0;
    }
    return len;
}

/* ------------------------------------------------------------------------------------------ */
/* Setting up a transfer                                                                       */

/* Builds the header list: the caller's headers as given, then blanks that stop curl from adding
 * its own Accept, Expect and form Content-Type. The list is made of curl's public struct
 * curl_slist, nodes and lines together in x->hdrbuf (one buffer, reused by every request of this
 * transfer) instead of two allocations per header with curl_slist_append: libcurl only reads the
 * list during the transfer, and x->hdrs is set again before every transfer. */
static int curl_engine_build_headers(curl_engine_xfer *x, const curl_engine_request *r)
{
    static const char *const blanks[3] = { "Expect:", "Accept:", "Content-Type:" };
    int want[3] = { 1, 1, 1 };
    size_t i, k, nodes = r->nheaders, text = 0, off;
    struct curl_slist *list;
    char *line;

    for (i = 0; i < r->nheaders; i++) { /* each length is at most SIZE_MAX / 4 (check_header) */
        const curl_engine_header *h = &r->headers[i];
        size_t len = h->name_len + h->value_len + 3;
        if (len > SIZE_MAX - text)
            return 0;
        text += len;
        if (curl_engine_ieq(h->name, h->name_len, "content-type"))
            want[2] = 0;
        else if (curl_engine_ieq(h->name, h->name_len, "expect"))
            want[0] = 0;
        else if (curl_engine_ieq(h->name, h->name_len, "accept"))
            want[1] = 0;
    }
    for (k = 0; k < 3; k++)
        if (want[k]) {
            size_t len = strlen(blanks[k]) + 1;
            if (len > SIZE_MAX - text)
                return 0;
            nodes++;
            text += len;
        }
    if (nodes == 0)
        return 1;
    if (nodes > (SIZE_MAX - text) / sizeof(struct curl_slist))
        return 0;
    x->hdrbuf.len = 0;
    if (!curl_engine_buf_reserve(&x->hdrbuf, nodes * sizeof(struct curl_slist) + text))
        return 0;
    list = (struct curl_slist *)(void *)x->hdrbuf.data;
    off = nodes * sizeof(struct curl_slist);
    for (i = 0, k = 0; i < nodes; i++) {
        line = x->hdrbuf.data + off;
        if (i < r->nheaders) {
            const curl_engine_header *h = &r->headers[i];
            size_t pos = h->name_len;
            memcpy(line, h->name, h->name_len);
            if (h->value_len == 0) {
                line[pos++] = ';'; /* curl's spelling of "send this header with an empty value" */
            } else {
                line[pos++] = ':';
                line[pos++] = ' ';
                memcpy(line + pos, h->value, h->value_len);
                pos += h->value_len;
            }
            line[pos] = '\0';
            off += pos + 1;
        } else {
            size_t n;
            while (!want[k])
                k++;
            n = strlen(blanks[k]);
            memcpy(line, blanks[k], n + 1);
            off += n + 1;
            k++;
        }
        list[i].data = line;
        list[i].next = i + 1 < nodes ? &list[i + 1] : NULL;
    }
    x->hdrbuf.len = off;
    x->hdrs = list;
    return 1;
}

#define CURL_ENGINE_SETOPT(opt, val)                                                           \
    do {                                                                                       \
        CURLcode rc_ = curl_easy_setopt(x->easy, opt, val);                                    \
        if (rc_ != CURLE_OK)                                                                   \
            return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE,   \
                                         (long)rc_, curl_easy_strerror(rc_));                  \
    } while (0)

/* Configures x for r, whose timeout_ms and max_body are resolved. copy_body: keep a private copy
 * of the body (start); otherwise the body is used in place, valid while perform runs. Returns 1,
 * or 0 with err filled in. */
static int curl_engine_xfer_setup(curl_engine *e, curl_engine_xfer *x, const curl_engine_request *r,
                                  int copy_body, curl_engine_error *err)
{
    const char *body = r->body;
    CURLcode rc;

    x->hdrs = NULL;
    x->body.len = 0;
    x->reqbody.len = 0;
    curl_engine_head_reset(&x->head, r->max_body, r->method == CURL_ENGINE_HEAD);
    x->body_started = 0;
    x->fail = CURL_ENGINE_FAIL_NONE;
    x->result = CURLE_OK;
    x->errbuf[0] = '\0';
    x->done_next = NULL;

    if (!curl_engine_build_headers(x, r))
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NOMEM,
                                     (long)CURLE_OUT_OF_MEMORY, "out of memory");
    if (body != NULL && copy_body) {
        if (!curl_engine_buf_reserve(&x->reqbody, r->body_len ? r->body_len : 1))
            return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NOMEM,
                                         (long)CURLE_OUT_OF_MEMORY, "out of memory");
        curl_engine_buf_append(&x->reqbody, r->body, r->body_len);
        body = x->reqbody.data;
    }

    /* Fast path: the handle was last set up for the same method, body or no body, and
     * timeout (the engine's settings never change), so every other option still holds; only
     * the URL, the header list and the body are new. curl_easy_reset and the twenty-odd
     * options after it cost a keep-alive loopback request about 2 us. */
    if (x->cfg_valid && x->cfg_method == r->method && x->cfg_has_body == (body != NULL)
        && x->cfg_timeout_ms == r->timeout_ms) {
        x->cfg_valid = 0; /* until this setup succeeds */
        CURL_ENGINE_SETOPT(CURLOPT_URL, r->url);
        CURL_ENGINE_SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
        if (body != NULL
            || (r->method != CURL_ENGINE_HEAD && r->method != CURL_ENGINE_GET && r->method != CURL_ENGINE_DELETE)) {
            CURL_ENGINE_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? r->body_len : 0));
            CURL_ENGINE_SETOPT(CURLOPT_POSTFIELDS, body != NULL ? body : "");
        }
        x->cfg_valid = 1;
        return 1;
    }
    x->cfg_valid = 0;
    curl_easy_reset(x->easy);

    CURL_ENGINE_SETOPT(CURLOPT_URL, r->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    rc = curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK && rc != CURLE_UNKNOWN_OPTION) /* older runtime: the scheme check holds */
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)rc,
                                     curl_easy_strerror(rc));
    rc = curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK && rc != CURLE_UNKNOWN_OPTION)
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)rc,
                                     curl_easy_strerror(rc));
#else
    CURL_ENGINE_SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    CURL_ENGINE_SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    (void)rc;
#endif
    CURL_ENGINE_SETOPT(CURLOPT_PRIVATE, (void *)x);
    CURL_ENGINE_SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    CURL_ENGINE_SETOPT(CURLOPT_NOSIGNAL, 1L);
    CURL_ENGINE_SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    CURL_ENGINE_SETOPT(CURLOPT_PATH_AS_IS, 1L);
    CURL_ENGINE_SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    CURL_ENGINE_SETOPT(CURLOPT_HEADERFUNCTION, curl_engine_on_header);
    CURL_ENGINE_SETOPT(CURLOPT_HEADERDATA, (void *)x);
    CURL_ENGINE_SETOPT(CURLOPT_WRITEFUNCTION, curl_engine_on_body);
    CURL_ENGINE_SETOPT(CURLOPT_WRITEDATA, (void *)x);
    CURL_ENGINE_SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
    CURL_ENGINE_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
    CURL_ENGINE_SETOPT(CURLOPT_TIMEOUT_MS, r->timeout_ms);
    CURL_ENGINE_SETOPT(CURLOPT_SSL_VERIFYPEER, e->verify ? 1L : 0L);
    CURL_ENGINE_SETOPT(CURLOPT_SSL_VERIFYHOST, e->verify ? 2L : 0L);
    if (e->ca_bundle != NULL)
        CURL_ENGINE_SETOPT(CURLOPT_CAINFO, e->ca_bundle);

    if (r->method == CURL_ENGINE_HEAD) {
        CURL_ENGINE_SETOPT(CURLOPT_NOBODY, 1L);
    } else if (body == NULL && (r->method == CURL_ENGINE_GET || r->method == CURL_ENGINE_DELETE)) {
        CURL_ENGINE_SETOPT(CURLOPT_HTTPGET, 1L);
        if (r->method == CURL_ENGINE_DELETE)
            CURL_ENGINE_SETOPT(CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        /* POST and PUT (with an empty body if none was given), or GET/DELETE with a body: sent
         * like a POST under the requested method. Size first: without it curl would take
         * strlen() of the body. */
        CURL_ENGINE_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? r->body_len : 0));
        CURL_ENGINE_SETOPT(CURLOPT_POSTFIELDS, body != NULL ? body : "");
        if (r->method != CURL_ENGINE_POST)
            CURL_ENGINE_SETOPT(CURLOPT_CUSTOMREQUEST, r->method == CURL_ENGINE_PUT ? "PUT"
                                                      : r->method == CURL_ENGINE_GET ? "GET" : "DELETE");
    }
    x->cfg_valid = 1;
    x->cfg_method = r->method;
    x->cfg_has_body = body != NULL;
    x->cfg_timeout_ms = r->timeout_ms;
    return 1;
}

#undef CURL_ENGINE_SETOPT

/* Shared by perform and start: up to the point the transfer is in the multi handle. Returns the
 * transfer, or NULL with err filled in. */
static curl_engine_xfer *curl_engine_begin(curl_engine *e, const curl_engine_request *req, int blocking,
                                           curl_engine_error *err)
{
    curl_engine_request r = *req;
    curl_engine_xfer *x;
    CURLMcode mc;

    if (r.url == NULL || !(curl_engine_iprefix(r.url, "http://") || curl_engine_iprefix(r.url, "https://"))) {
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)CURLE_UNSUPPORTED_PROTOCOL,
                              "unsupported URL scheme (only http:// and https:// are allowed)");
        return NULL;
    }
    if (r.method < 0 || r.method >= CURL_ENGINE_METHODS || (r.nheaders > 0 && r.headers == NULL)
        || r.timeout_ms < -1 || r.timeout_ms > CURL_ENGINE_MAX_MS) {
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NONE, (long)CURLE_BAD_FUNCTION_ARGUMENT,
                              "invalid request");
        return NULL;
    }
    if (r.timeout_ms < 0)
        r.timeout_ms = e->timeout_ms;
    if (r.max_body == CURL_ENGINE_INHERIT)
        r.max_body = e->max_body;
    if (r.body == NULL)
        r.body_len = 0;
    x = curl_engine_xfer_acquire(e);
    if (x == NULL) {
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NOMEM, (long)CURLE_OUT_OF_MEMORY,
                              "out of memory");
        return NULL;
    }
    if (!curl_engine_xfer_setup(e, x, &r, !blocking, err)) {
        curl_engine_recycle(e, x);
        return NULL;
    }
    mc = curl_multi_add_handle(e->multi, x->easy);
    if (mc != CURLM_OK) {
        curl_engine_recycle(e, x);
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_MULTI, (long)mc, curl_multi_strerror(mc));
        return NULL;
    }
    x->state = CURL_ENGINE_X_ACTIVE;
    x->blocking = blocking;
    x->id = ++e->next_id;
    return x;
}

/* ------------------------------------------------------------------------------------------ */
/* Running transfers                                                                           */

/* Marks x finished with an error found outside curl's transfer result. */
static void curl_engine_xfer_fail(curl_engine *e, curl_engine_xfer *x, int fail, long code, const char *msg)
{
    size_t n = strlen(msg);
    if (x->state == CURL_ENGINE_X_ACTIVE)
        curl_multi_remove_handle(e->multi, x->easy);
    if (n >= sizeof x->errbuf)
        n = sizeof x->errbuf - 1;
    memcpy(x->errbuf, msg, n);
    x->errbuf[n] = '\0';
    x->fail = fail;
    x->result = (CURLcode)code;
    x->state = CURL_ENGINE_X_DONE;
}

static void curl_engine_enqueue_done(curl_engine *e, curl_engine_xfer *x)
{
    x->done_next = NULL;
    if (e->done_tail != NULL)
        e->done_tail->done_next = x;
    else
        e->done_head = x;
    e->done_tail = x;
}

/* Moves finished transfers out of the multi handle. */
static void curl_engine_collect(curl_engine *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        CURL *easy = m->easy_handle;
        CURLcode result = m->data.result; /* m dies with curl_multi_remove_handle */
        char *priv = NULL;
        curl_engine_xfer *x;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        curl_multi_remove_handle(e->multi, easy);
        x = (curl_engine_xfer *)(void *)priv;
        if (x == NULL || x->state != CURL_ENGINE_X_ACTIVE)
            continue;
        x->result = result;
        x->state = CURL_ENGINE_X_DONE;
        if (!x->blocking)
            curl_engine_enqueue_done(e, x);
    }
}

/* Fails every transfer still in the multi handle after the multi handle itself failed. */
static void curl_engine_fail_active(curl_engine *e, CURLMcode mc)
{
    size_t i;
    for (i = 0; i < e->nxfers; i++) {
        curl_engine_xfer *x = e->xfers[i];
        if (x->state != CURL_ENGINE_X_ACTIVE)
            continue;
        curl_engine_xfer_fail(e, x, CURL_ENGINE_FAIL_MULTI, (long)mc, curl_multi_strerror(mc));
        if (!x->blocking)
            curl_engine_enqueue_done(e, x);
    }
}

static int curl_engine_any_active(const curl_engine *e)
{
    size_t i;
    for (i = 0; i < e->nxfers; i++)
        if (e->xfers[i]->state == CURL_ENGINE_X_ACTIVE)
            return 1;
    return 0;
}

/* Drives the multi handle. With a target: until the target is done. Without: until a started
 * transfer is done, nothing is running, or timeout_ms (< 0: no limit) has passed. */
static void curl_engine_drive(curl_engine *e, const curl_engine_xfer *target, long timeout_ms)
{
    long deadline = timeout_ms >= 0 ? curl_engine_now_ms() + timeout_ms : 0;
    for (;;) {
        int running = 0;
        long wait_ms = CURL_ENGINE_POLL_SLICE_MS;
        CURLMcode mc = curl_multi_perform(e->multi, &running);
        if (mc != CURLM_OK) {
            curl_engine_fail_active(e, mc);
            return;
        }
        curl_engine_collect(e);
        if (target != NULL) {
            if (target->state != CURL_ENGINE_X_ACTIVE)
                return;
        } else {
            if (e->done_head != NULL || !curl_engine_any_active(e))
                return;
        }
        if (timeout_ms >= 0) {
            long left = deadline - curl_engine_now_ms();
            if (left <= 0)
                return;
            if (left < wait_ms)
                wait_ms = left;
        }
        mc = curl_multi_poll(e->multi, NULL, 0, (int)wait_ms, NULL);
        if (mc != CURLM_OK) {
            curl_engine_fail_active(e, mc);
            return;
        }
    }
}

curl_engine_xfer *curl_engine_perform(curl_engine *e, const curl_engine_request *r, curl_engine_error *err)
{
    curl_engine_xfer *x = curl_engine_begin(e, r, 1, err);
    if (x == NULL)
        return NULL;
    curl_engine_drive(e, x, -1);
    x->state = CURL_ENGINE_X_DELIVERING;
    return x;
}

curl_engine_xfer *curl_engine_start(curl_engine *e, const curl_engine_request *r, curl_engine_error *err)
{
    return curl_engine_begin(e, r, 0, err);
}

void curl_engine_wait(curl_engine *e, long timeout_ms)
{
    if (e->done_head == NULL)
        curl_engine_drive(e, NULL, timeout_ms);
}

curl_engine_xfer *curl_engine_next_done(curl_engine *e)
{
    curl_engine_xfer *x = e->done_head;
    if (x == NULL)
        return NULL;
    e->done_head = x->done_next;
    if (e->done_head == NULL)
        e->done_tail = NULL;
    x->done_next = NULL;
    x->state = CURL_ENGINE_X_DELIVERING;
    return x;
}

int curl_engine_result(curl_engine_xfer *x, curl_engine_response *res, curl_engine_error *err)
{
    size_t i, off, n;
    long status = 0;
    curl_engine_header *hv;

    if (x->fail == CURL_ENGINE_FAIL_TOOBIG) {
        char msg[96];
        snprintf(msg, sizeof msg, "response body exceeds the limit of %llu bytes",
                 (unsigned long long)x->head.max_body);
        curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, x->fail, (long)x->result, msg);
        err->limit = x->head.max_body;
        return 0;
    }
    if (x->fail == CURL_ENGINE_FAIL_HEADERS)
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, x->fail, (long)x->result,
                                     "response headers exceed 1 MiB");
    if (x->fail == CURL_ENGINE_FAIL_NOMEM)
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, x->fail, (long)CURLE_OUT_OF_MEMORY,
                                     "out of memory while receiving");
    if (x->fail == CURL_ENGINE_FAIL_MULTI)
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, x->fail, (long)x->result, x->errbuf);
    if (x->result != CURLE_OK)
        return curl_engine_set_error(err, curl_engine_kind_of(x->result), CURL_ENGINE_FAIL_NONE, (long)x->result,
                                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));

    n = x->head.nheaders;
    x->hdrv.len = 0;
    if (n > SIZE_MAX / sizeof *hv || !curl_engine_buf_reserve(&x->hdrv, n * sizeof *hv))
        return curl_engine_set_error(err, CURL_ENGINE_KIND_OTHER, CURL_ENGINE_FAIL_NOMEM,
                                     (long)CURLE_OUT_OF_MEMORY, "out of memory while receiving");
    hv = (curl_engine_header *)(void *)x->hdrv.data;
    for (i = 0, off = 0; i < n && curl_engine_head_next(&x->head, &off, &hv[i]); i++)
        ;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    res->status = status;
    res->headers = hv;
    res->nheaders = i;
    res->body = x->body.data != NULL ? x->body.data : "";
    res->body_len = x->body.len;
    return 1;
}
