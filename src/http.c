/* http.c - the libcurl transport of invite.core.
 *
 *   local h = core.http_new{ verify = true, ca_bundle = nil, connect_timeout_ms = 3000,
 *                            timeout_ms = 30000, max_connections = 64, max_body = 1 MiB }
 *   local res, err = h:request{ method =, url =, headers = {{n, v}, ...}, body =, timeout_ms =,
 *                               max_body = }
 *   local id, err  = h:start(req)      -- same request table
 *   local done     = h:wait(timeout_ms) -- { {id =, res =} | {id =, err =}, ... }
 *   h:pending(); h:close()
 *
 * res = { status =, headers = { {lower-cased name, value}, ... }, body = }
 * err = { kind = "timeout"|"connect"|"tls"|"reset"|"dns"|"other", curl_code =, message = }
 *
 * max_body bounds each response body (HTTP_DEFAULT_MAX_BODY below): a Content-Length over it is
 * refused when the header block ends, before any body byte is read or buffered; a chunked or
 * close-delimited body is counted as it arrives and refused at the first byte past the limit.
 * The error is kind "other", curl_code 23 (CURLE_WRITE_ERROR, not retried by invite.errors),
 * message "response body exceeds the limit of N bytes (...)".
 *
 * Design:
 * - One curl multi handle per client carries every transfer, the blocking request() included, so
 *   all of them share one connection cache (keep-alive across request() and start()/wait()).
 *   request() adds its easy handle to the multi and drives it to completion; transfers started
 *   with start() make progress meanwhile and are handed out by the next wait().
 * - Easy handles are pooled in the client (http_xfer) and reset before each use.
 * - Each Lua entry point works in three phases: read and validate every Lua argument (may raise,
 *   holds no C memory), run the transfer (no Lua calls at all), push the results (Lua allocates,
 *   but all C memory involved is owned by the client userdata, whose __gc frees it).
 * - The libcurl callbacks only append to C buffers with checked lengths; they never touch Lua.
 * - The request is sent as given: curl's own Accept, Expect and form Content-Type headers are
 *   suppressed, the path is not normalised (PATH_AS_IS, signatures cover the path as sent), the
 *   protocol is pinned to HTTP/1.1 and only http/https URLs are accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <lua.h>
#include <lauxlib.h>

#include "compat.h"
#include "http.h"

#define HTTP_CLIENT_MT "invite.http.client"
#define HTTP_ERROR_MT "invite.http.error"

#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_MAX_CONNECTIONS 64L
/* Default cap of one response body. The AWS APIs this transport serves answer in kilobytes (a
 * page of 50 invitations is about 10 KB), and every transfer in flight may buffer up to the cap:
 * 1 MiB keeps a sweep at concurrency 64 within 64 MiB of bodies. Clients set it with the option
 * max_body_bytes (invite.client), passed here as max_body. */
#define HTTP_DEFAULT_MAX_BODY ((size_t)1024 * 1024)
#define HTTP_MAX_MS 2147483647.0            /* timeouts are passed to curl as long */
#define HTTP_MAX_CONNECTIONS_LIMIT 100000L
#define HTTP_MAX_HEADER_BYTES ((size_t)1024 * 1024) /* all response header records together */
#define HTTP_KEEP_CAPACITY ((size_t)256 * 1024)     /* larger buffers are freed after use */
#define HTTP_POLL_SLICE_MS 1000                   /* upper bound of one curl_multi_poll wait */
#define HTTP_NO_RECORD ((size_t)-1)
#define HTTP_NO_LENGTH UINT64_MAX /* also: a Content-Length too large for 64 bits */

/* ------------------------------------------------------------------------------------------ */
/* Growable byte buffer                                                                        */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} http_buf;

static int http_buf_reserve(http_buf *b, size_t extra)
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

static int http_buf_append(http_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 1;
    if (!http_buf_reserve(b, n))
        return 0;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

static void http_buf_free(http_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Empties the buffer; gives its memory back when it grew beyond what is worth keeping. */
static void http_buf_recycle(http_buf *b)
{
    if (b->cap > HTTP_KEEP_CAPACITY)
        http_buf_free(b);
    b->len = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Transfers and the client                                                                    */

enum { HTTP_X_FREE, HTTP_X_ACTIVE, HTTP_X_DONE, HTTP_X_DELIVERING };
enum { HTTP_FAIL_NONE, HTTP_FAIL_TOOBIG, HTTP_FAIL_HEADERS, HTTP_FAIL_NOMEM, HTTP_FAIL_MULTI };

typedef struct http_xfer {
    CURL *easy;                  /* NULL when idle handles were trimmed */
    struct curl_slist *hdrs;     /* request headers: nodes and lines in hdrbuf, see
                                    http_build_headers; valid until the next setup */
    http_buf hdrbuf;
    http_buf reqbody;            /* copy of the request body (start() only) */
    http_buf body;               /* response body */
    http_buf head;               /* response header records, see http_on_header */
    size_t nheaders;
    size_t last_rec;             /* offset of the last header record, or HTTP_NO_RECORD */
    size_t max_body;
    uint64_t content_length;     /* the response's Content-Length, HTTP_NO_LENGTH when absent */
    long status;                 /* status code of the response whose headers are arriving */
    int nobody;                  /* HEAD: the response has no body whatever its headers say */
    int body_started;            /* the write callback has run for this transfer */
    int state;
    int blocking;                /* owned by a running request(), never handed out by wait() */
    int fail;                    /* HTTP_FAIL_*: a failure found by us rather than by curl */
    CURLcode result;
    lua_Integer id;
    /* what the easy handle's options were last set up for (see http_xfer_setup) */
    int cfg_valid;
    int cfg_method;
    int cfg_has_body;
    long cfg_timeout_ms;
    struct http_xfer *done_next; /* queue of finished start() transfers */
    char errbuf[CURL_ERROR_SIZE];
} http_xfer;

typedef struct {
    CURLM *multi;
    http_xfer **xfers;           /* every transfer ever created; each one allocated on its own */
    size_t nxfers, capxfers;
    http_xfer *done_head, *done_tail;
    struct http_hdr_ref *refs;   /* scratch for http_parse_request, see there */
    size_t caprefs;
    char *ca_bundle;
    long connect_timeout_ms;
    long timeout_ms;
    long max_connections;
    size_t max_body;
    int verify;
    int closed;                  /* no further use; resources may still await __gc */
    int released;                /* resources freed */
    int pushing;                 /* results are being pushed; see http_m_close */
    lua_Integer next_id;
} http_client;

/* A validated request, pointing into Lua strings that the request table keeps alive. */
typedef struct http_hdr_ref {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} http_hdr_ref;

enum { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD };

typedef struct {
    int method;
    const char *url;
    int scheme_ok;
    http_hdr_ref *hdrs;
    size_t nhdrs;
    int has_content_type, has_expect, has_accept;
    const char *body;            /* NULL: no body */
    size_t body_len;
    long timeout_ms;
    size_t max_body;
} http_req;

static int http_global_state; /* 0: not tried, 1: curl_global_init succeeded, -1: it failed */

static long http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + (long)(ts.tv_nsec / 1000000L);
}

static void http_xfer_destroy(http_client *c, http_xfer *x)
{
    if (x->easy != NULL) {
        if (x->state == HTTP_X_ACTIVE && c->multi != NULL)
            curl_multi_remove_handle(c->multi, x->easy);
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    x->hdrs = NULL;
    http_buf_free(&x->hdrbuf);
    http_buf_free(&x->reqbody);
    http_buf_free(&x->body);
    http_buf_free(&x->head);
    free(x);
}

/* Frees every C resource of the client. Idempotent. */
static void http_client_release(http_client *c)
{
    size_t i;
    if (c->released)
        return;
    c->released = 1;
    c->closed = 1;
    for (i = 0; i < c->nxfers; i++)
        http_xfer_destroy(c, c->xfers[i]);
    free(c->xfers);
    c->xfers = NULL;
    c->nxfers = c->capxfers = 0;
    c->done_head = c->done_tail = NULL;
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    free(c->ca_bundle);
    c->ca_bundle = NULL;
    free(c->refs);
    c->refs = NULL;
    c->caprefs = 0;
}

/* Hands out an idle transfer with an easy handle, creating one if needed; NULL when out of
 * memory. */
static http_xfer *http_xfer_acquire(http_client *c)
{
    size_t i;
    http_xfer *x = NULL;
    for (i = 0; i < c->nxfers; i++) {
        if (c->xfers[i]->state == HTTP_X_FREE) {
            x = c->xfers[i];
            if (x->easy != NULL)
                return x;
        }
    }
    if (x == NULL) {
        if (c->nxfers == c->capxfers) {
            size_t cap = c->capxfers ? c->capxfers * 2 : 8;
            http_xfer **p;
            if (cap > SIZE_MAX / sizeof *p)
                return NULL;
            p = realloc(c->xfers, cap * sizeof *p);
            if (p == NULL)
                return NULL;
            c->xfers = p;
            c->capxfers = cap;
        }
        x = calloc(1, sizeof *x);
        if (x == NULL)
            return NULL;
        x->state = HTTP_X_FREE;
        x->last_rec = HTTP_NO_RECORD;
        c->xfers[c->nxfers++] = x;
    }
    x->easy = curl_easy_init();
    x->cfg_valid = 0;
    return x->easy != NULL ? x : NULL;
}

/* Returns a delivered transfer to the pool. Idle easy handles beyond max_connections are
 * closed so a burst of start() calls does not pin memory forever. */
static void http_xfer_recycle(http_client *c, http_xfer *x)
{
    size_t i, idle = 0;
    x->state = HTTP_X_FREE;
    x->blocking = 0;
    x->done_next = NULL;
    x->hdrs = NULL;
    http_buf_recycle(&x->hdrbuf);
    http_buf_recycle(&x->reqbody);
    http_buf_recycle(&x->body);
    http_buf_recycle(&x->head);
    for (i = 0; i < c->nxfers; i++)
        if (c->xfers[i]->state == HTTP_X_FREE && c->xfers[i]->easy != NULL)
            idle++;
    if (idle > (size_t)c->max_connections && x->easy != NULL) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        http_buf_free(&x->hdrbuf);
        http_buf_free(&x->reqbody);
        http_buf_free(&x->body);
        http_buf_free(&x->head);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* libcurl callbacks: C buffers only, never Lua                                                */

static int http_is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

static char http_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static int http_ieq(const char *a, size_t alen, const char *b)
{
    size_t i, blen = strlen(b);
    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++)
        if (http_lower(a[i]) != http_lower(b[i]))
            return 0;
    return 1;
}

/* Header records in x->head: [size_t name_len][size_t value_len][name][value], names
 * lower-cased, values trimmed. The value of the last record ends the buffer, so an obsolete
 * folded continuation line can be appended to it in place. */
static size_t http_on_header(char *p, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t total, len, name_len, value_len, i, rec;
    const char *colon, *value;

    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    total = size * n;
    len = total;
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after 1xx or a proxy's answer): keep only the final one's headers. */
        const char *sp = memchr(p, ' ', len);
        x->head.len = 0;
        x->nheaders = 0;
        x->last_rec = HTTP_NO_RECORD;
        x->content_length = HTTP_NO_LENGTH;
        x->status = 0;
        if (sp != NULL && (size_t)(sp - p) + 4 <= len) {
            for (i = 1; i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
                x->status = x->status * 10 + (sp[i] - '0');
            if (i <= 3)
                x->status = 0;
        }
        return total;
    }
    if (len == 0) {
        /* End of a header block: refuse a declared body over the limit before reading it. */
        if (x->status >= 200 && x->status != 204 && x->status != 304 && !x->nobody
            && x->content_length != HTTP_NO_LENGTH && x->content_length > (uint64_t)x->max_body) {
            x->fail = HTTP_FAIL_TOOBIG;
            return 0;
        }
        return total;
    }

    if (http_is_ws(p[0])) { /* obs-fold: continues the previous header's value */
        size_t start = 0, vlen;
        if (x->last_rec == HTTP_NO_RECORD)
            return total;
        while (start < len && http_is_ws(p[start]))
            start++;
        while (len > start && http_is_ws(p[len - 1]))
            len--;
        if (start == len)
            return total;
        if (len - start + 1 > HTTP_MAX_HEADER_BYTES - x->head.len) {
            x->fail = HTTP_FAIL_HEADERS;
            return 0;
        }
        if (!http_buf_append(&x->head, " ", 1) || !http_buf_append(&x->head, p + start, len - start)) {
            x->fail = HTTP_FAIL_NOMEM;
            return 0;
        }
        memcpy(&vlen, x->head.data + x->last_rec + sizeof(size_t), sizeof vlen);
        vlen += len - start + 1;
        memcpy(x->head.data + x->last_rec + sizeof(size_t), &vlen, sizeof vlen);
        return total;
    }

    colon = memchr(p, ':', len);
    if (colon == NULL)
        return total; /* not a header line; curl has its own view of malformed responses */
    name_len = (size_t)(colon - p);
    while (name_len > 0 && http_is_ws(p[name_len - 1]))
        name_len--;
    value = colon + 1;
    value_len = len - (size_t)(value - p);
    while (value_len > 0 && http_is_ws(value[0])) {
        value++;
        value_len--;
    }
    while (value_len > 0 && http_is_ws(value[value_len - 1]))
        value_len--;
    if (http_ieq(p, name_len, "content-length") && value_len > 0) {
        uint64_t v = 0;
        for (i = 0; i < value_len && value[i] >= '0' && value[i] <= '9'; i++)
            v = v > (UINT64_MAX - 1 - 9) / 10 ? UINT64_MAX - 1 : v * 10 + (uint64_t)(value[i] - '0');
        /* digits only; a malformed value is left to curl, which fails the transfer itself */
        if (i == value_len && (x->content_length == HTTP_NO_LENGTH || v > x->content_length))
            x->content_length = v;
    }

    if (name_len + value_len + 2 * sizeof(size_t) > HTTP_MAX_HEADER_BYTES - x->head.len) {
        x->fail = HTTP_FAIL_HEADERS;
        return 0;
    }
    if (!http_buf_reserve(&x->head, name_len + value_len + 2 * sizeof(size_t))) {
        x->fail = HTTP_FAIL_NOMEM;
        return 0;
    }
    rec = x->head.len;
    http_buf_append(&x->head, &name_len, sizeof name_len);
    http_buf_append(&x->head, &value_len, sizeof value_len);
    for (i = 0; i < name_len; i++)
        x->head.data[x->head.len + i] = http_lower(p[i]);
    x->head.len += name_len;
    http_buf_append(&x->head, value, value_len);
    x->last_rec = rec;
    x->nheaders++;
    return total;
}

static size_t http_on_body(char *p, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t len;
    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    len = size * n;
    if (!x->body_started) {
        x->body_started = 1;
        /* First chunk: size the buffer from Content-Length, or fail early if it cannot fit. */
        curl_off_t cl = -1;
        if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0) {
            if ((uint64_t)cl > (uint64_t)x->max_body) {
                x->fail = HTTP_FAIL_TOOBIG;
                return 0;
            }
            if (!http_buf_reserve(&x->body, (size_t)cl)) {
                x->fail = HTTP_FAIL_NOMEM;
                return 0;
            }
        }
    }
    if (len > x->max_body - x->body.len) {
        x->fail = HTTP_FAIL_TOOBIG;
        return 0;
    }
    if (!http_buf_append(&x->body, p, len)) {
        x->fail = HTTP_FAIL_NOMEM;
        return 0;
    }
    return len;
}

/* ------------------------------------------------------------------------------------------ */
/* Error objects                                                                               */

static const char *http_kind(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "dns";
    case CURLE_COULDNT_CONNECT:
#if LIBCURL_VERSION_NUM >= 0x074900
    case CURLE_PROXY:
#endif
        return "connect";
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
        return "tls";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return "reset";
    default:
        return "other";
    }
}

/* Pushes { kind =, curl_code =, message = } with the error metatable. */
static void http_push_error(lua_State *L, const char *kind, long code, const char *message)
{
    size_t len = strlen(message);
    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r'))
        len--;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)code);
    lua_setfield(L, -2, "curl_code");
    lua_pushlstring(L, message, len);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, HTTP_ERROR_MT);
    lua_setmetatable(L, -2);
}

static int http_error_tostring(lua_State *L)
{
    const char *kind, *message;
    lua_Integer code;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "kind");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "curl_code");
    kind = lua_tostring(L, -3);
    message = lua_tostring(L, -2);
    code = lua_tointeger(L, -1);
    lua_pushfstring(L, "http %s error: %s (curl %d)", kind ? kind : "other",
                    message ? message : "unknown", (int)code);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Phase 1: read and validate Lua arguments (may raise; holds no C memory)                     */

static int http_is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Reads an optional non-negative integral number field of the table at idx. */
static double http_opt_number(lua_State *L, int idx, const char *field, double def, double min,
                              double max)
{
    double v;
    lua_getfield(L, idx, field);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s must be a number", field);
    v = (double)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= min && v <= max) || v != (double)(long long)v)
        luaL_error(L, "%s must be a whole number, at least %d and not too large", field, (int)min);
    return v;
}

/* Validates the request table at idx into r. The strings r points to stay referenced by the
 * table (or by the stack) for the rest of the call. */
static void http_parse_request(lua_State *L, int idx, http_client *c, http_req *r)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "HEAD", NULL };
    const char *s;
    size_t len, i, n;
    int t;

    memset(r, 0, sizeof *r);
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    luaL_checkstack(L, 12, "request");

    /* Values fetched with lua_getfield stay on the stack until the call returns. */
    lua_getfield(L, idx, "method");
    if (lua_isnil(L, -1)) {
        r->method = HTTP_GET;
    } else {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "method must be a string");
        s = lua_tolstring(L, -1, &len);
        /* Every byte, not up to the first NUL: "GET\0X" is not GET. The method is not quoted
         * back unless it is a token, so the message carries no control bytes. */
        if (len == 0)
            luaL_error(L, "method must not be empty");
        for (i = 0; i < len; i++)
            if (!http_is_tchar((unsigned char)s[i]))
                luaL_error(L, "method has a byte that is not a token character (RFC 9110 tchar) "
                           "at position %d", (int)(i + 1));
        for (i = 0; methods[i] != NULL; i++)
            if (len == strlen(methods[i]) && memcmp(s, methods[i], len) == 0)
                break;
        if (methods[i] == NULL)
            luaL_error(L, "unsupported method '%s' (GET, POST, PUT, DELETE, HEAD)", s);
        r->method = (int)i;
    }

    lua_getfield(L, idx, "url");
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "url must be a string");
    s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len)
        luaL_error(L, "url must not contain NUL bytes");
    r->url = s;
    r->scheme_ok = (len >= 7 && http_ieq(s, 7, "http://")) || (len >= 8 && http_ieq(s, 8, "https://"));

    lua_getfield(L, idx, "body");
    t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
        r->body = lua_tolstring(L, -1, &r->body_len);
        if (r->method == HTTP_HEAD && r->body_len > 0)
            luaL_error(L, "a HEAD request cannot have a body");
    } else if (t != LUA_TNIL) {
        luaL_error(L, "body must be a string");
    }

    r->timeout_ms = (long)http_opt_number(L, idx, "timeout_ms", (double)c->timeout_ms, 0, HTTP_MAX_MS);
    r->max_body = (size_t)http_opt_number(L, idx, "max_body", (double)c->max_body, 0,
                                          (double)(SIZE_MAX / 2 < 0x1p52 ? SIZE_MAX / 2 : 0x1p52));

    lua_getfield(L, idx, "headers");
    t = lua_type(L, -1);
    if (t == LUA_TNIL)
        return;
    if (t != LUA_TTABLE)
        luaL_error(L, "headers must be a list of {name, value} pairs");
    n = (size_t)lua_rawlen(L, -1);
    if (n > (size_t)INT32_MAX / sizeof(http_hdr_ref))
        luaL_error(L, "too many headers");
    /* Scratch space for the references, owned by the client (freed with it) and reused by every
     * request: nothing between reading the headers below and using them (in http_begin, before
     * the transfer runs) calls Lua or allocates from it, so neither a finalizer nor a metamethod
     * can re-enter this client while the references are in use. Every field read above may have
     * run a metamethod, and one may have closed the client: its resources are then released
     * for good, and scratch allocated now would have no owner left to free it. So: check here,
     * after the last Lua call that can run code and before the allocation. */
    if (c->closed)
        luaL_error(L, "http client is closed");
    if (n > c->caprefs) {
        size_t cap = n < 16 ? 16 : n;
        http_hdr_ref *p = realloc(c->refs, cap * sizeof *p);
        if (p == NULL)
            luaL_error(L, "out of memory");
        c->refs = p;
        c->caprefs = cap;
    }
    r->hdrs = c->refs;
    r->nhdrs = n;
    for (i = 0; i < n; i++) {
        http_hdr_ref *h = &r->hdrs[i];
        size_t k;
        lua_rawgeti(L, -1, (int)(i + 1)); /* the list is on the top of the stack */
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_error(L, "header #%d must be a {name, value} pair", (int)(i + 1));
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "header #%d: name and value must be strings", (int)(i + 1));
        h->name = lua_tolstring(L, -2, &h->name_len);
        h->value = lua_tolstring(L, -1, &h->value_len);
        lua_pop(L, 3); /* the strings stay referenced by the pair, the pair by the list */
        if (h->name_len == 0)
            luaL_error(L, "header #%d: empty name", (int)(i + 1));
        for (k = 0; k < h->name_len; k++)
            if (!http_is_tchar((unsigned char)h->name[k]))
                luaL_error(L, "header #%d: invalid character in name", (int)(i + 1));
        for (k = 0; k < h->value_len; k++) {
            char ch = h->value[k];
            if (ch == '\r' || ch == '\n' || ch == '\0')
                luaL_error(L, "header #%d: CR, LF or NUL in value", (int)(i + 1));
        }
        if (h->name_len > SIZE_MAX / 4 || h->value_len > SIZE_MAX / 4)
            luaL_error(L, "header #%d too long", (int)(i + 1));
        if (http_ieq(h->name, h->name_len, "content-type"))
            r->has_content_type = 1;
        else if (http_ieq(h->name, h->name_len, "expect"))
            r->has_expect = 1;
        else if (http_ieq(h->name, h->name_len, "accept"))
            r->has_accept = 1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Phase 2: configure and run transfers (no Lua calls)                                         */

typedef struct {
    long code;         /* CURLcode or CURLMcode */
    char message[160];
} http_setup_err;

static int http_setup_fail(http_setup_err *e, long code, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= sizeof e->message)
        n = sizeof e->message - 1;
    memcpy(e->message, msg, n);
    e->message[n] = '\0';
    e->code = code;
    return 0;
}

/* Builds the header list: the caller's headers as given, then blanks that stop curl from adding
 * its own Accept, Expect and form Content-Type. The list is made of curl's public struct
 * curl_slist, nodes and lines together in x->hdrbuf (one buffer, reused by every request of this
 * transfer) instead of two allocations per header with curl_slist_append: libcurl only reads the
 * list during the transfer, and x->hdrs is set again before every transfer. */
static int http_build_headers(http_xfer *x, const http_req *r)
{
    static const char *const blanks[3] = { "Expect:", "Accept:", "Content-Type:" };
    const int want[3] = { !r->has_expect, !r->has_accept, !r->has_content_type };
    size_t i, k, nodes = r->nhdrs, text = 0, off;
    struct curl_slist *list;
    char *line;

    for (k = 0; k < 3; k++)
        if (want[k]) {
            nodes++;
            text += strlen(blanks[k]) + 1;
        }
    for (i = 0; i < r->nhdrs; i++) { /* each length is at most SIZE_MAX / 4 (phase 1) */
        size_t len = r->hdrs[i].name_len + r->hdrs[i].value_len + 3;
        if (len > SIZE_MAX - text)
            return 0;
        text += len;
    }
    if (nodes == 0)
        return 1;
    if (nodes > (SIZE_MAX - text) / sizeof(struct curl_slist))
        return 0;
    x->hdrbuf.len = 0;
    if (!http_buf_reserve(&x->hdrbuf, nodes * sizeof(struct curl_slist) + text))
        return 0;
    list = (struct curl_slist *)(void *)x->hdrbuf.data;
    off = nodes * sizeof(struct curl_slist);
    for (i = 0, k = 0; i < nodes; i++) {
        line = x->hdrbuf.data + off;
        if (i < r->nhdrs) {
            const http_hdr_ref *h = &r->hdrs[i];
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

#define HTTP_SETOPT(opt, val)                                                                  \
    do {                                                                                       \
        CURLcode rc_ = curl_easy_setopt(x->easy, opt, val);                                    \
        if (rc_ != CURLE_OK)                                                                   \
            return http_setup_fail(e, rc_, curl_easy_strerror(rc_));                          \
    } while (0)

/* Configures x for r. copy_body: keep a private copy of the body (start()); otherwise the body
 * is used in place, valid while request() runs. Returns 1, or 0 with e filled in. */
static int http_xfer_setup(http_client *c, http_xfer *x, const http_req *r, int copy_body,
                           http_setup_err *e)
{
    const char *body = r->body;
    CURLcode rc;

    x->hdrs = NULL;
    x->body.len = 0;
    x->head.len = 0;
    x->reqbody.len = 0;
    x->nheaders = 0;
    x->last_rec = HTTP_NO_RECORD;
    x->max_body = r->max_body;
    x->content_length = HTTP_NO_LENGTH;
    x->status = 0;
    x->nobody = r->method == HTTP_HEAD;
    x->body_started = 0;
    x->fail = HTTP_FAIL_NONE;
    x->result = CURLE_OK;
    x->errbuf[0] = '\0';
    x->done_next = NULL;

    if (!http_build_headers(x, r))
        return http_setup_fail(e, CURLE_OUT_OF_MEMORY, "out of memory");
    if (body != NULL && copy_body) {
        if (!http_buf_reserve(&x->reqbody, r->body_len ? r->body_len : 1))
            return http_setup_fail(e, CURLE_OUT_OF_MEMORY, "out of memory");
        http_buf_append(&x->reqbody, r->body, r->body_len);
        body = x->reqbody.data;
    }

    /* Fast path: the handle was last set up for the same method, body or no body, and
     * timeout (the client's settings never change), so every other option still holds; only
     * the URL, the header list and the body are new. curl_easy_reset and the twenty-odd
     * options after it cost a keep-alive loopback request about 2 us. */
    if (x->cfg_valid && x->cfg_method == r->method && x->cfg_has_body == (body != NULL)
        && x->cfg_timeout_ms == r->timeout_ms) {
        x->cfg_valid = 0; /* until this setup succeeds */
        HTTP_SETOPT(CURLOPT_URL, r->url);
        HTTP_SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
        if (body != NULL || (r->method != HTTP_HEAD && r->method != HTTP_GET && r->method != HTTP_DELETE)) {
            HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? r->body_len : 0));
            HTTP_SETOPT(CURLOPT_POSTFIELDS, body != NULL ? body : "");
        }
        x->cfg_valid = 1;
        return 1;
    }
    x->cfg_valid = 0;
    curl_easy_reset(x->easy);

    HTTP_SETOPT(CURLOPT_URL, r->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    rc = curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK && rc != CURLE_UNKNOWN_OPTION) /* older runtime: the scheme check holds */
        return http_setup_fail(e, rc, curl_easy_strerror(rc));
    rc = curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK && rc != CURLE_UNKNOWN_OPTION)
        return http_setup_fail(e, rc, curl_easy_strerror(rc));
#else
    HTTP_SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    HTTP_SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    (void)rc;
#endif
    HTTP_SETOPT(CURLOPT_PRIVATE, (void *)x);
    HTTP_SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
    HTTP_SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    HTTP_SETOPT(CURLOPT_PATH_AS_IS, 1L);
    HTTP_SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    HTTP_SETOPT(CURLOPT_HEADERFUNCTION, http_on_header);
    HTTP_SETOPT(CURLOPT_HEADERDATA, (void *)x);
    HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_on_body);
    HTTP_SETOPT(CURLOPT_WRITEDATA, (void *)x);
    HTTP_SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
    HTTP_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    HTTP_SETOPT(CURLOPT_TIMEOUT_MS, r->timeout_ms);
    HTTP_SETOPT(CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
    HTTP_SETOPT(CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
    if (c->ca_bundle != NULL)
        HTTP_SETOPT(CURLOPT_CAINFO, c->ca_bundle);

    if (r->method == HTTP_HEAD) {
        HTTP_SETOPT(CURLOPT_NOBODY, 1L);
    } else if (body == NULL && (r->method == HTTP_GET || r->method == HTTP_DELETE)) {
        HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
        if (r->method == HTTP_DELETE)
            HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        /* POST and PUT (with an empty body if none was given), or GET/DELETE with a body: sent
         * like a POST under the requested method. Size first: without it curl would take
         * strlen() of the body. */
        HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? r->body_len : 0));
        HTTP_SETOPT(CURLOPT_POSTFIELDS, body != NULL ? body : "");
        if (r->method != HTTP_POST)
            HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, r->method == HTTP_PUT ? "PUT"
                                               : r->method == HTTP_GET ? "GET" : "DELETE");
    }
    x->cfg_valid = 1;
    x->cfg_method = r->method;
    x->cfg_has_body = body != NULL;
    x->cfg_timeout_ms = r->timeout_ms;
    return 1;
}

#undef HTTP_SETOPT

/* Marks x finished with an error found outside curl's transfer result. */
static void http_xfer_fail(http_client *c, http_xfer *x, int fail, long code, const char *msg)
{
    size_t n = strlen(msg);
    if (x->state == HTTP_X_ACTIVE)
        curl_multi_remove_handle(c->multi, x->easy);
    if (n >= sizeof x->errbuf)
        n = sizeof x->errbuf - 1;
    memcpy(x->errbuf, msg, n);
    x->errbuf[n] = '\0';
    x->fail = fail;
    x->result = (CURLcode)code;
    x->state = HTTP_X_DONE;
}

static void http_enqueue_done(http_client *c, http_xfer *x)
{
    x->done_next = NULL;
    if (c->done_tail != NULL)
        c->done_tail->done_next = x;
    else
        c->done_head = x;
    c->done_tail = x;
}

/* Moves finished transfers out of the multi handle. */
static void http_collect(http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        CURL *easy = m->easy_handle;
        CURLcode result = m->data.result; /* m dies with curl_multi_remove_handle */
        char *priv = NULL;
        http_xfer *x;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        curl_multi_remove_handle(c->multi, easy);
        x = (http_xfer *)(void *)priv;
        if (x == NULL || x->state != HTTP_X_ACTIVE)
            continue;
        x->result = result;
        x->state = HTTP_X_DONE;
        if (!x->blocking)
            http_enqueue_done(c, x);
    }
}

/* Fails every transfer still in the multi handle after the multi handle itself failed. */
static void http_fail_active(http_client *c, CURLMcode mc)
{
    size_t i;
    for (i = 0; i < c->nxfers; i++) {
        http_xfer *x = c->xfers[i];
        if (x->state != HTTP_X_ACTIVE)
            continue;
        http_xfer_fail(c, x, HTTP_FAIL_MULTI, (long)mc, curl_multi_strerror(mc));
        if (!x->blocking)
            http_enqueue_done(c, x);
    }
}

static int http_any_active(const http_client *c)
{
    size_t i;
    for (i = 0; i < c->nxfers; i++)
        if (c->xfers[i]->state == HTTP_X_ACTIVE)
            return 1;
    return 0;
}

/* Drives the multi handle. With a target: until the target is done. Without: until a start()
 * transfer is done, nothing is running, or timeout_ms (< 0: no limit) has passed. */
static void http_drive(http_client *c, http_xfer *target, long timeout_ms)
{
    long deadline = timeout_ms >= 0 ? http_now_ms() + timeout_ms : 0;
    for (;;) {
        int running = 0;
        long wait_ms = HTTP_POLL_SLICE_MS;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK) {
            http_fail_active(c, mc);
            return;
        }
        http_collect(c);
        if (target != NULL) {
            if (target->state != HTTP_X_ACTIVE)
                return;
        } else {
            if (c->done_head != NULL || !http_any_active(c))
                return;
        }
        if (timeout_ms >= 0) {
            long left = deadline - http_now_ms();
            if (left <= 0)
                return;
            if (left < wait_ms)
                wait_ms = left;
        }
        mc = curl_multi_poll(c->multi, NULL, 0, (int)wait_ms, NULL);
        if (mc != CURLM_OK) {
            http_fail_active(c, mc);
            return;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Phase 3: push results                                                                       */

/* Pushes the result of a finished transfer: a res table (returns 1) or an error (returns 0). */
static int http_push_result(lua_State *L, http_xfer *x)
{
    size_t i, off;
    long status = 0;

    if (x->fail == HTTP_FAIL_TOOBIG) {
        char msg[160];
        snprintf(msg, sizeof msg, "response body exceeds the limit of %llu bytes (client option "
                 "max_body_bytes, invite.core option max_body)", (unsigned long long)x->max_body);
        http_push_error(L, "other", (long)x->result, msg);
        return 0;
    }
    if (x->fail == HTTP_FAIL_HEADERS) {
        http_push_error(L, "other", (long)x->result, "response headers exceed 1 MiB");
        return 0;
    }
    if (x->fail == HTTP_FAIL_NOMEM) {
        http_push_error(L, "other", (long)CURLE_OUT_OF_MEMORY, "out of memory while receiving");
        return 0;
    }
    if (x->fail == HTTP_FAIL_MULTI) {
        http_push_error(L, "other", (long)x->result, x->errbuf);
        return 0;
    }
    if (x->result != CURLE_OK) {
        http_push_error(L, http_kind(x->result), (long)x->result,
                        x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
        return 0;
    }

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, x->nheaders > INT32_MAX ? 0 : (int)x->nheaders, 0);
    for (i = 0, off = 0; i < x->nheaders; i++) {
        size_t nlen, vlen;
        memcpy(&nlen, x->head.data + off, sizeof nlen);
        memcpy(&vlen, x->head.data + off + sizeof nlen, sizeof vlen);
        off += 2 * sizeof(size_t);
        lua_createtable(L, 2, 0);
        lua_pushlstring(L, x->head.data + off, nlen);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, x->head.data + off + nlen, vlen);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)(i + 1));
        off += nlen + vlen;
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, x->body.data != NULL ? x->body.data : "", x->body.len);
    lua_setfield(L, -2, "body");
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Lua methods                                                                                 */

static http_client *http_check_client(lua_State *L)
{
    http_client *c = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
    if (c->closed)
        luaL_error(L, "http client is closed");
    return c;
}

/* Shared by request() and start(): phases 1 and 2 up to the point the transfer is in the multi
 * handle. Returns the transfer, or NULL after pushing nil, err. */
static http_xfer *http_begin(lua_State *L, http_client *c, int blocking)
{
    http_req r;
    http_setup_err e;
    http_xfer *x;
    CURLMcode mc;

    http_parse_request(L, 2, c, &r);
    if (c->closed) /* a finalizer run by the allocations above may have closed it */
        luaL_error(L, "http client is closed");
    if (!r.scheme_ok) {
        lua_pushnil(L);
        http_push_error(L, "other", (long)CURLE_UNSUPPORTED_PROTOCOL,
                        "unsupported URL scheme (only http:// and https:// are allowed)");
        return NULL;
    }
    x = http_xfer_acquire(c);
    if (x == NULL) {
        lua_pushnil(L);
        http_push_error(L, "other", (long)CURLE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    if (!http_xfer_setup(c, x, &r, !blocking, &e)) {
        http_xfer_recycle(c, x);
        lua_pushnil(L);
        http_push_error(L, "other", e.code, e.message);
        return NULL;
    }
    mc = curl_multi_add_handle(c->multi, x->easy);
    if (mc != CURLM_OK) {
        http_xfer_recycle(c, x);
        lua_pushnil(L);
        http_push_error(L, "other", (long)mc, curl_multi_strerror(mc));
        return NULL;
    }
    x->state = HTTP_X_ACTIVE;
    x->blocking = blocking;
    x->id = ++c->next_id;
    return x;
}

/* h:request(req) -> res | nil, err */
static int http_m_request(lua_State *L)
{
    http_client *c = http_check_client(L);
    http_xfer *x = http_begin(L, c, 1);
    int ok;
    if (x == NULL)
        return 2;
    http_drive(c, x, -1);
    x->state = HTTP_X_DELIVERING;
    c->pushing++;
    ok = http_push_result(L, x);
    c->pushing--;
    http_xfer_recycle(c, x);
    if (c->closed && c->pushing == 0)
        http_client_release(c);
    if (ok)
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* h:start(req) -> id | nil, err */
static int http_m_start(lua_State *L)
{
    http_client *c = http_check_client(L);
    http_xfer *x = http_begin(L, c, 0);
    if (x == NULL)
        return 2;
    lua_pushinteger(L, x->id);
    return 1;
}

/* h:wait([timeout_ms]) -> { {id =, res =} | {id =, err =}, ... }
 * Returns as soon as at least one started transfer has finished, when none is in flight, or
 * after timeout_ms (0: poll once; nil: no limit). */
static int http_m_wait(lua_State *L)
{
    http_client *c = http_check_client(L);
    double t = luaL_optnumber(L, 2, -1);
    long timeout_ms;
    int n = 0;
    if (lua_isnoneornil(L, 2))
        timeout_ms = -1;
    else if (t >= 0 && t <= HTTP_MAX_MS)
        timeout_ms = (long)t;
    else
        return luaL_argerror(L, 2, "timeout_ms must be between 0 and 2^31-1");
    lua_settop(L, 1);

    if (c->done_head == NULL)
        http_drive(c, NULL, timeout_ms);

    lua_newtable(L);
    c->pushing++;
    /* Take one transfer off the queue at a time: if a finalizer re-enters wait() while we push,
     * it only sees the ones not yet taken. */
    while (!c->closed && c->done_head != NULL) {
        http_xfer *x = c->done_head;
        c->done_head = x->done_next;
        if (c->done_head == NULL)
            c->done_tail = NULL;
        x->state = HTTP_X_DELIVERING;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, x->id);
        lua_setfield(L, -2, "id");
        if (http_push_result(L, x))
            lua_setfield(L, -2, "res");
        else
            lua_setfield(L, -2, "err");
        lua_rawseti(L, -2, ++n);
        http_xfer_recycle(c, x);
    }
    c->pushing--;
    if (c->closed && c->pushing == 0)
        http_client_release(c);
    return 1;
}

/* h:pending() -> number of started transfers not yet returned by wait() */
static int http_m_pending(lua_State *L)
{
    http_client *c = http_check_client(L);
    size_t i;
    lua_Integer n = 0;
    for (i = 0; i < c->nxfers; i++) {
        const http_xfer *x = c->xfers[i];
        if (!x->blocking && x->state != HTTP_X_FREE)
            n++;
    }
    lua_pushinteger(L, n);
    return 1;
}

/* __gc, __close and h:close(): idempotent. Transfers in flight are abandoned. */
static int http_m_close(lua_State *L)
{
    http_client *c = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
    c->closed = 1;
    /* A finalizer can only run h:close() in the middle of this client's own result pushing
     * (an allocation there may run the GC). Then the memory being read must survive: the
     * interrupted call, or __gc, releases it. */
    if (c->pushing == 0)
        http_client_release(c);
    return 0;
}

static int http_m_gc(lua_State *L)
{
    http_client *c = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
    http_client_release(c); /* unreachable, so nothing can be using it */
    return 0;
}

static int http_m_tostring(lua_State *L)
{
    http_client *c = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
    lua_pushfstring(L, "invite.http.client (%p%s)", (void *)c, c->closed ? ", closed" : "");
    return 1;
}

/* core.http_new([opts]) -> client | nil, err */
static int http_new(lua_State *L)
{
    int verify = 1;
    const char *ca = NULL;
    size_t ca_len = 0;
    long connect_timeout_ms, timeout_ms, max_connections;
    size_t max_body;
    http_client *c;
    CURLM *m;

    /* Phase 1: every option, before anything is allocated. */
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_getfield(L, 1, "verify");
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        verify = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        return luaL_error(L, "verify must be a boolean");
    lua_getfield(L, 1, "ca_bundle"); /* stays on the stack while ca is in use */
    if (lua_type(L, -1) == LUA_TSTRING) {
        ca = lua_tolstring(L, -1, &ca_len);
        if (strlen(ca) != ca_len || ca_len == 0)
            return luaL_error(L, "ca_bundle must be a non-empty path without NUL bytes");
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "ca_bundle must be a string");
    }
    connect_timeout_ms = (long)http_opt_number(L, 1, "connect_timeout_ms",
                                               (double)HTTP_DEFAULT_CONNECT_TIMEOUT_MS, 0, HTTP_MAX_MS);
    timeout_ms = (long)http_opt_number(L, 1, "timeout_ms", (double)HTTP_DEFAULT_TIMEOUT_MS, 0,
                                       HTTP_MAX_MS);
    max_connections = (long)http_opt_number(L, 1, "max_connections",
                                            (double)HTTP_DEFAULT_MAX_CONNECTIONS, 1,
                                            (double)HTTP_MAX_CONNECTIONS_LIMIT);
    max_body = (size_t)http_opt_number(L, 1, "max_body", (double)HTTP_DEFAULT_MAX_BODY, 0,
                                       (double)(SIZE_MAX / 2 < 0x1p52 ? SIZE_MAX / 2 : 0x1p52));

    /* The handle exists, with its metatable, before any resource is acquired. */
    c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_getmetatable(L, HTTP_CLIENT_MT);
    lua_setmetatable(L, -2);
    c->verify = verify;
    c->connect_timeout_ms = connect_timeout_ms;
    c->timeout_ms = timeout_ms;
    c->max_connections = max_connections;
    c->max_body = max_body;

    if (http_global_state != 1) {
        lua_pushnil(L);
        http_push_error(L, "other", (long)CURLE_FAILED_INIT, "curl_global_init failed");
        return 2;
    }
    if (ca != NULL) {
        c->ca_bundle = malloc(ca_len + 1);
        if (c->ca_bundle == NULL)
            goto oom;
        memcpy(c->ca_bundle, ca, ca_len + 1);
    }
    m = curl_multi_init();
    if (m == NULL)
        goto oom;
    c->multi = m;
    if (curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, max_connections) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, max_connections) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK) {
        http_client_release(c);
        lua_pushnil(L);
        http_push_error(L, "other", (long)CURLE_FAILED_INIT, "cannot configure the curl multi handle");
        return 2;
    }
    return 1;

oom:
    http_client_release(c);
    lua_pushnil(L);
    http_push_error(L, "other", (long)CURLE_OUT_OF_MEMORY, "out of memory");
    return 2;
}

void http_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "request", http_m_request },
        { "start", http_m_start },
        { "wait", http_m_wait },
        { "pending", http_m_pending },
        { "close", http_m_close },
        { NULL, NULL },
    };

    /* Once per process: libcurl's global state is shared by every Lua state. */
    if (http_global_state == 0)
        http_global_state = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : -1;

    if (luaL_newmetatable(L, HTTP_CLIENT_MT)) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, http_m_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, http_m_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, http_m_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "invite.http.client");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, HTTP_ERROR_MT)) {
        lua_pushcfunction(L, http_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);

    lua_pushcfunction(L, http_new);
    lua_setfield(L, -2, "http_new");
}
