/* fuzz_ref.h - a deliberately plain second model of SigV4 signing, for the
 * fuzz harnesses to compare src/sigv4.c against (differential fuzzing).
 *
 * It follows the rules documented in src/sigv4.h and src/sigv4.c (and AWS's
 * SigV4 documentation) but shares no code with the signer: no arena, no
 * word-at-a-time scanning, no key cache, no precomputed HMAC states. Strings
 * live in malloc'd growable buffers, sorting is a stable insertion sort,
 * dates come from gmtime_r and HMAC from OpenSSL's one-shot HMAC().
 *
 * Included by each harness (everything here is static).
 */
#ifndef INVITE_FUZZ_REF_H
#define INVITE_FUZZ_REF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

/* ---- growable string ---------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} ref_buf;

static void ref_put(ref_buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void ref_puts(ref_buf *b, const char *s)
{
    ref_put(b, s, strlen(s));
}

static void ref_putc(ref_buf *b, char c)
{
    ref_put(b, &c, 1);
}

static void ref_free(ref_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- character rules, spelled out -------------------------------------- */

static int ref_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int ref_unreserved(unsigned char c)
{
    return ref_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int ref_tchar(unsigned char c)
{
    return ref_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int ref_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int ref_visible(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

static int ref_scope_char(unsigned char c)
{
    return ref_alnum(c) || c == '-' || c == '_';
}

static int ref_hws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int ref_hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int ref_str_eq(const char *a, size_t an, const char *lit)
{
    return an == strlen(lit) && memcmp(a, lit, an) == 0;
}

/* bytewise order, a proper prefix first */
static int ref_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;
    for (i = 0; i < an && i < bn; i++)
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* %XX-encode every byte but unreserved ones (and '/' when keep_slash);
 * with decode, valid %XX escapes in s are decoded first. */
static void ref_encode(ref_buf *o, const char *s, size_t n, int keep_slash, int decode)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[4];
        if (decode && c == '%' && n - i >= 3 && ref_hexdigit((unsigned char)s[i + 1]) >= 0
            && ref_hexdigit((unsigned char)s[i + 2]) >= 0) {
            c = (unsigned char)(ref_hexdigit((unsigned char)s[i + 1]) * 16 + ref_hexdigit((unsigned char)s[i + 2]));
            i += 2;
        }
        if (ref_unreserved(c) || (keep_slash && c == '/')) {
            ref_putc(o, (char)c);
        } else {
            snprintf(esc, sizeof esc, "%%%02X", c);
            ref_put(o, esc, 3);
        }
    }
}

static void ref_hex(ref_buf *o, const unsigned char *p, size_t n)
{
    size_t i;
    char two[3];
    for (i = 0; i < n; i++) {
        snprintf(two, sizeof two, "%02x", p[i]);
        ref_put(o, two, 2);
    }
}

/* ---- the model's output ------------------------------------------------- */

typedef struct {
    const char *name;
    size_t name_len;
    ref_buf value;
    size_t src;
    int value_changed;
    int added;
} ref_header;

typedef struct {
    int rc;
    const char *err_field;
    size_t err_index;
    ref_buf amz_date, scope, payload, signed_headers, creq, sts, signature, authorization, query;
    ref_buf canon_query; /* the canonical query alone */
    ref_buf canon_uri;   /* the canonical URI alone */
    ref_header *headers;
    size_t nheaders;
} ref_out;

static void ref_out_free(ref_out *o)
{
    size_t i;
    ref_free(&o->amz_date);
    ref_free(&o->scope);
    ref_free(&o->payload);
    ref_free(&o->signed_headers);
    ref_free(&o->creq);
    ref_free(&o->sts);
    ref_free(&o->signature);
    ref_free(&o->authorization);
    ref_free(&o->query);
    ref_free(&o->canon_query);
    ref_free(&o->canon_uri);
    for (i = 0; i < o->nheaders; i++)
        ref_free(&o->headers[i].value);
    free(o->headers);
    memset(o, 0, sizeof *o);
}

static int ref_fail(ref_out *o, int rc, const char *field, size_t index)
{
    o->rc = rc;
    o->err_field = field;
    o->err_index = index;
    return rc;
}

/* ---- pieces ------------------------------------------------------------- */

/* botocore's path normalisation, written as a segment stack */
static void ref_normalize(ref_buf *o, const char *p, size_t n)
{
    size_t *starts = malloc((n + 1) * sizeof *starts), *lens = malloc((n + 1) * sizeof *lens);
    size_t depth = 0, i = 0, k;
    if (starts == NULL || lens == NULL)
        abort();
    while (i < n) {
        size_t s;
        if (p[i] == '/') {
            i++;
            continue;
        }
        s = i;
        while (i < n && p[i] != '/')
            i++;
        if (i - s == 1 && p[s] == '.')
            continue;
        if (i - s == 2 && p[s] == '.' && p[s + 1] == '.') {
            if (depth > 0)
                depth--;
            continue;
        }
        starts[depth] = s;
        lens[depth] = i - s;
        depth++;
    }
    for (k = 0; k < depth; k++) {
        ref_putc(o, '/');
        ref_put(o, p + starts[k], lens[k]);
    }
    if (depth == 0)
        ref_putc(o, '/');
    else if (p[n - 1] == '/')
        ref_putc(o, '/');
    free(starts);
    free(lens);
}

/* header value check; *folded when it has a fold */
static int ref_value_ok(const char *v, size_t n, int *folded)
{
    size_t i;
    *folded = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r') {
            if (!(i + 1 < n && v[i + 1] == '\n'))
                return 0;
            continue; /* the '\n' is checked next */
        }
        if (c == '\n') {
            if (!(i + 1 < n && (v[i + 1] == ' ' || v[i + 1] == '\t')))
                return 0;
            *folded = 1;
            continue;
        }
        if (c == '\t')
            continue;
        if (ref_ctl(c))
            return 0;
    }
    return 1;
}

/* trimmed, inner whitespace runs (SP HT CR LF) collapsed to one space */
static void ref_canon_value(ref_buf *o, const char *v, size_t n)
{
    size_t s = 0, e = n, i;
    int in_ws = 0;
    while (s < e && ref_hws((unsigned char)v[s]))
        s++;
    while (e > s && ref_hws((unsigned char)v[e - 1]))
        e--;
    for (i = s; i < e; i++) {
        if (ref_hws((unsigned char)v[i])) {
            if (!in_ws)
                ref_putc(o, ' ');
            in_ws = 1;
        } else {
            ref_putc(o, v[i]);
            in_ws = 0;
        }
    }
}

/* the value as sent: each CR or LF, with the LF/SP/HT bytes after it, becomes one space */
static void ref_unfold(ref_buf *o, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (v[i] == '\r' || v[i] == '\n') {
            i++;
            while (i < n && (v[i] == '\n' || v[i] == ' ' || v[i] == '\t'))
                i++;
            ref_putc(o, ' ');
        } else {
            ref_putc(o, v[i++]);
        }
    }
}

typedef struct {
    char *name; /* lowercase copy */
    size_t name_len;
    const char *value;
    size_t value_len;
    size_t order;
} ref_hent;

typedef struct {
    ref_buf key, val;
} ref_qp;

static void ref_sort_hent(ref_hent *a, size_t n)
{
    size_t i, k;
    for (i = 1; i < n; i++) {
        ref_hent t = a[i];
        for (k = i; k > 0; k--) {
            int c = ref_cmp(a[k - 1].name, a[k - 1].name_len, t.name, t.name_len);
            if (c < 0 || (c == 0 && a[k - 1].order < t.order))
                break;
            a[k] = a[k - 1];
        }
        a[k] = t;
    }
}

static int ref_qp_cmp(const ref_qp *a, const ref_qp *b)
{
    int c = ref_cmp(a->key.p, a->key.n, b->key.p, b->key.n);
    return c != 0 ? c : ref_cmp(a->val.p, a->val.n, b->val.p, b->val.n);
}

static void ref_sort_qp(ref_qp *a, size_t n)
{
    size_t i, k;
    for (i = 1; i < n; i++) {
        ref_qp t = a[i];
        for (k = i; k > 0 && ref_qp_cmp(&a[k - 1], &t) > 0; k--)
            a[k] = a[k - 1];
        a[k] = t;
    }
}

static void ref_hmac(const unsigned char *key, size_t klen, const void *d, size_t n, unsigned char out[32])
{
    unsigned int outl = 0;
    if (HMAC(EVP_sha256(), key, (int)klen, d, n, out, &outl) == NULL || outl != 32)
        abort();
}

/* ---- the model ---------------------------------------------------------- */

static int ref_sign(const sigv4_request *r, ref_out *o)
{
    const char *auth_names[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"};
    int verify = r->signed_headers.ptr != NULL;
    int presign = (r->flags & SIGV4_PRESIGN) && !verify;
    int tok = r->session_token.len > 0 && !verify;
    int token_after = tok && (r->flags & SIGV4_OMIT_SESSION_TOKEN);
    int token_signed = tok && !token_after;
    int content = (r->flags & SIGV4_SIGN_BODY) && !presign && !verify;
    size_t i, k, total = 0, nlist = 0, nh = 0, nqp = 0;
    sigv4_str list[SIGV4_MAX_HEADERS];
    ref_hent *he = NULL;
    ref_qp *qp = NULL;
    int rc = SIGV4_OK, host = 0;
    unsigned char h[32];

    memset(o, 0, sizeof *o);

    /* 1. input checks, in the signer's documented order */
    if (r->method.len == 0)
        return ref_fail(o, SIGV4_E_METHOD, "method", 0);
    if (r->method.len > SIGV4_MAX_METHOD)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "method", 0);
    for (i = 0; i < r->method.len; i++)
        if (!ref_tchar((unsigned char)r->method.ptr[i]))
            return ref_fail(o, SIGV4_E_METHOD, "method", 0);
    if (r->path.len > SIGV4_MAX_PATH)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "path", 0);
    if (r->path.len > 0 && r->path.ptr[0] != '/')
        return ref_fail(o, SIGV4_E_PATH, "path", 0);
    for (i = 0; i < r->path.len; i++) {
        unsigned char c = (unsigned char)r->path.ptr[i];
        if (ref_ctl(c) || c == '?' || c == '#')
            return ref_fail(o, SIGV4_E_PATH, "path", 0);
    }
    if (r->query.len > SIGV4_MAX_QUERY)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "query", 0);
    for (i = 0; i < r->query.len; i++) {
        unsigned char c = (unsigned char)r->query.ptr[i];
        if (ref_ctl(c) || c == '#')
            return ref_fail(o, SIGV4_E_QUERY, "query", 0);
    }
    if (r->nheaders > SIGV4_MAX_HEADERS)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "headers", 0);
    if (r->access_key.len == 0)
        return ref_fail(o, SIGV4_E_ACCESS_KEY, "access_key", 0);
    if (r->access_key.len > SIGV4_MAX_ACCESS_KEY)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "access_key", 0);
    for (i = 0; i < r->access_key.len; i++)
        if (!ref_unreserved((unsigned char)r->access_key.ptr[i]))
            return ref_fail(o, SIGV4_E_ACCESS_KEY, "access_key", 0);
    if (r->secret_key.len == 0)
        return ref_fail(o, SIGV4_E_SECRET_KEY, "secret_key", 0);
    if (r->secret_key.len > SIGV4_MAX_SECRET)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "secret_key", 0);
    if (r->session_token.len > SIGV4_MAX_TOKEN)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "session_token", 0);
    for (i = 0; i < r->session_token.len; i++)
        if (!ref_visible((unsigned char)r->session_token.ptr[i]))
            return ref_fail(o, SIGV4_E_SESSION_TOKEN, "session_token", 0);
    if (r->region.len == 0)
        return ref_fail(o, SIGV4_E_REGION, "region", 0);
    if (r->region.len > SIGV4_MAX_SCOPE_PART)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "region", 0);
    for (i = 0; i < r->region.len; i++)
        if (!ref_scope_char((unsigned char)r->region.ptr[i]))
            return ref_fail(o, SIGV4_E_REGION, "region", 0);
    if (r->service.len == 0)
        return ref_fail(o, SIGV4_E_SERVICE, "service", 0);
    if (r->service.len > SIGV4_MAX_SCOPE_PART)
        return ref_fail(o, SIGV4_E_TOO_LARGE, "service", 0);
    for (i = 0; i < r->service.len; i++)
        if (!ref_scope_char((unsigned char)r->service.ptr[i]))
            return ref_fail(o, SIGV4_E_SERVICE, "service", 0);
    if (r->amz_date.len > 0) {
        const char *d = r->amz_date.ptr;
        int good = r->amz_date.len == 16 && d[8] == 'T' && d[15] == 'Z';
        for (i = 0; good && i < 15; i++)
            if (i != 8 && !(d[i] >= '0' && d[i] <= '9'))
                good = 0;
        if (!good)
            return ref_fail(o, SIGV4_E_AMZ_DATE, "amz_date", 0);
    } else if (r->time < 0 || r->time > SIGV4_MAX_TIME) {
        return ref_fail(o, SIGV4_E_TIME, "time", 0);
    }
    if ((r->flags & SIGV4_PRESIGN) && (r->expires < 1 || r->expires > SIGV4_MAX_EXPIRES))
        return ref_fail(o, SIGV4_E_EXPIRES, "expires", 0);
    if (r->payload_hash.ptr != NULL) {
        if (r->payload_hash.len == 0)
            return ref_fail(o, SIGV4_E_PAYLOAD_HASH, "payload_hash", 0);
        if (r->payload_hash.len > SIGV4_MAX_PAYLOAD_HASH)
            return ref_fail(o, SIGV4_E_TOO_LARGE, "payload_hash", 0);
        for (i = 0; i < r->payload_hash.len; i++)
            if (!ref_visible((unsigned char)r->payload_hash.ptr[i]))
                return ref_fail(o, SIGV4_E_PAYLOAD_HASH, "payload_hash", 0);
    }

    /* 2. date and scope */
    if (r->amz_date.len > 0) {
        ref_put(&o->amz_date, r->amz_date.ptr, 16);
    } else {
        struct tm tm;
        time_t t = (time_t)r->time;
        char d[32];
        if (gmtime_r(&t, &tm) == NULL)
            abort();
        snprintf(d, sizeof d, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        ref_puts(&o->amz_date, d);
    }
    ref_put(&o->scope, o->amz_date.p, 8);
    ref_putc(&o->scope, '/');
    ref_put(&o->scope, r->region.ptr, r->region.len);
    ref_putc(&o->scope, '/');
    ref_put(&o->scope, r->service.ptr, r->service.len);
    ref_puts(&o->scope, "/aws4_request");

    /* 3. payload */
    if (r->payload_hash.ptr != NULL) {
        ref_put(&o->payload, r->payload_hash.ptr, r->payload_hash.len);
    } else {
        SHA256((const unsigned char *)(r->body.len ? r->body.ptr : ""), r->body.len, h);
        ref_hex(&o->payload, h, 32);
    }

    /* 4. headers */
    if (verify) {
        const char *l = r->signed_headers.ptr;
        size_t n = r->signed_headers.len, s = 0;
        for (;;) {
            size_t e = s;
            while (e < n && l[e] != ';')
                e++;
            if (e == s || nlist == SIGV4_MAX_HEADERS)
                return ref_fail(o, SIGV4_E_SIGNED_HEADERS, "signed_headers", nlist + 1);
            for (k = s; k < e; k++) {
                unsigned char c = (unsigned char)l[k];
                if (!ref_tchar(c) || (c >= 'A' && c <= 'Z'))
                    return ref_fail(o, SIGV4_E_SIGNED_HEADERS, "signed_headers", nlist + 1);
            }
            if (nlist > 0 && ref_cmp(list[nlist - 1].ptr, list[nlist - 1].len, l + s, e - s) >= 0)
                return ref_fail(o, SIGV4_E_SIGNED_HEADERS, "signed_headers", nlist + 1);
            list[nlist].ptr = l + s;
            list[nlist].len = e - s;
            nlist++;
            if (e >= n)
                break;
            s = e + 1;
        }
    }
    he = calloc(r->nheaders + 3, sizeof *he);
    if (he == NULL)
        abort();
    if (!verify) {
        o->headers = calloc(r->nheaders + 4, sizeof *o->headers);
        if (o->headers == NULL)
            abort();
    }
    for (i = 0; i < r->nheaders; i++) {
        const sigv4_header *x = &r->headers[i];
        char *lc;
        int folded, drop = 0, sign = 1;
        if (x->name_len > SIGV4_MAX_HEADER_NAME || x->value_len > SIGV4_MAX_HEADER_VALUE) {
            rc = ref_fail(o, SIGV4_E_TOO_LARGE, "headers", i + 1);
            goto done;
        }
        total += x->name_len + x->value_len;
        if (total > SIGV4_MAX_HEADER_BYTES) {
            rc = ref_fail(o, SIGV4_E_TOO_LARGE, "headers", i + 1);
            goto done;
        }
        if (x->name_len == 0) {
            rc = ref_fail(o, SIGV4_E_HEADER_NAME, "headers", i + 1);
            goto done;
        }
        for (k = 0; k < x->name_len; k++)
            if (!ref_tchar((unsigned char)x->name[k])) {
                rc = ref_fail(o, SIGV4_E_HEADER_NAME, "headers", i + 1);
                goto done;
            }
        if (!ref_value_ok(x->value, x->value_len, &folded)) {
            rc = ref_fail(o, SIGV4_E_HEADER_VALUE, "headers", i + 1);
            goto done;
        }
        lc = malloc(x->name_len + 1);
        if (lc == NULL)
            abort();
        for (k = 0; k < x->name_len; k++) {
            char c = x->name[k];
            lc[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        lc[x->name_len] = '\0';
        if (verify) {
            sign = 0;
            for (k = 0; k < nlist; k++)
                if (ref_cmp(list[k].ptr, list[k].len, lc, x->name_len) == 0)
                    sign = 1;
        } else if (ref_str_eq(lc, x->name_len, "authorization") || ref_str_eq(lc, x->name_len, "x-amz-date")
                   || (tok && ref_str_eq(lc, x->name_len, "x-amz-security-token"))
                   || (content && ref_str_eq(lc, x->name_len, "x-amz-content-sha256"))) {
            drop = 1;
            sign = 0;
        } else if (ref_str_eq(lc, x->name_len, "user-agent") || ref_str_eq(lc, x->name_len, "expect")
                   || ref_str_eq(lc, x->name_len, "x-amzn-trace-id")) {
            sign = 0;
        }
        if (sign) {
            he[nh].name = lc;
            he[nh].name_len = x->name_len;
            he[nh].value = x->value;
            he[nh].value_len = x->value_len;
            he[nh].order = i;
            nh++;
        } else {
            free(lc);
        }
        if (!verify && !drop) {
            ref_header *oh = &o->headers[o->nheaders++];
            oh->name = x->name;
            oh->name_len = x->name_len;
            oh->src = i;
            oh->value_changed = folded;
            if (folded)
                ref_unfold(&oh->value, x->value, x->value_len);
            else
                ref_put(&oh->value, x->value, x->value_len);
        }
    }
    if (!verify) {
#define REF_ADD(lit, v, vn, ord)                                                                        \
    do {                                                                                             \
        he[nh].name = malloc(sizeof lit);                                                            \
        if (he[nh].name == NULL)                                                                     \
            abort();                                                                                 \
        memcpy(he[nh].name, lit, sizeof lit);                                                        \
        he[nh].name_len = sizeof lit - 1;                                                            \
        he[nh].value = (v);                                                                          \
        he[nh].value_len = (vn);                                                                     \
        he[nh].order = (ord);                                                                        \
        nh++;                                                                                        \
    } while (0)
        if (!presign)
            REF_ADD("x-amz-date", o->amz_date.p, o->amz_date.n, 100000);
        if (!presign && token_signed)
            REF_ADD("x-amz-security-token", r->session_token.ptr, r->session_token.len, 100001);
        if (content)
            REF_ADD("x-amz-content-sha256", o->payload.p, o->payload.n, 100002);
#undef REF_ADD
    }
    ref_sort_hent(he, nh);
    if (verify) {
        for (k = 0; k < nlist; k++) {
            int found = 0;
            for (i = 0; i < nh; i++)
                if (ref_cmp(he[i].name, he[i].name_len, list[k].ptr, list[k].len) == 0)
                    found = 1;
            if (!found) {
                rc = ref_fail(o, SIGV4_E_SIGNED_HEADER_MISSING, "signed_headers", k + 1);
                goto done;
            }
        }
    }
    for (i = 0; i < nh; i++)
        if (ref_str_eq(he[i].name, he[i].name_len, "host"))
            host = 1;
    if (!host) {
        rc = ref_fail(o, SIGV4_E_NO_HOST, "headers", 0);
        goto done;
    }
    for (i = 0; i < nh; i++) {
        if (i > 0 && ref_cmp(he[i].name, he[i].name_len, he[i - 1].name, he[i - 1].name_len) == 0)
            continue;
        if (o->signed_headers.n > 0)
            ref_putc(&o->signed_headers, ';');
        ref_put(&o->signed_headers, he[i].name, he[i].name_len);
    }
    ref_puts(&o->signed_headers, ""); /* allocate even when empty */

    /* 5. canonical URI */
    if (r->path.len == 0)
        ref_putc(&o->canon_uri, '/');
    else {
        ref_buf norm = {0};
        if (r->flags & SIGV4_NORMALIZE_PATH)
            ref_normalize(&norm, r->path.ptr, r->path.len);
        else
            ref_put(&norm, r->path.ptr, r->path.len);
        if (r->flags & SIGV4_RAW_PATH)
            ref_put(&o->canon_uri, norm.p, norm.n);
        else
            ref_encode(&o->canon_uri, norm.p, norm.n, 1, 0);
        ref_free(&norm);
    }

    /* 6. canonical query */
    qp = calloc(r->query.len / 2 + 2 + 6, sizeof *qp);
    if (qp == NULL)
        abort();
    {
        const char *q = r->query.ptr;
        size_t n = r->query.len, s = 0;
        while (s < n) {
            size_t e = s, eq;
            int skip = 0;
            while (e < n && q[e] != '&')
                e++;
            if (e == s) {
                s = e + 1;
                continue;
            }
            if (nqp == SIGV4_MAX_QUERY_PARAMS) {
                rc = ref_fail(o, SIGV4_E_TOO_LARGE, "query", 0);
                goto done;
            }
            for (eq = s; eq < e && q[eq] != '='; eq++)
                ;
            ref_encode(&qp[nqp].key, q + s, eq - s, 0, 1);
            if (eq < e)
                ref_encode(&qp[nqp].val, q + eq + 1, e - eq - 1, 0, 1);
            ref_puts(&qp[nqp].key, "");
            ref_puts(&qp[nqp].val, "");
            if (verify && ref_str_eq(qp[nqp].key.p, qp[nqp].key.n, "X-Amz-Signature"))
                skip = 1;
            if (presign) {
                for (k = 0; k < 6; k++)
                    if (ref_str_eq(qp[nqp].key.p, qp[nqp].key.n, auth_names[k]))
                        skip = 1;
                if (tok && ref_str_eq(qp[nqp].key.p, qp[nqp].key.n, "X-Amz-Security-Token"))
                    skip = 1;
            }
            if (skip) {
                ref_free(&qp[nqp].key);
                ref_free(&qp[nqp].val);
            } else {
                nqp++;
            }
            s = e + 1;
        }
    }
    if (presign) {
        ref_buf cred = {0};
        char ex[32];
        ref_put(&cred, r->access_key.ptr, r->access_key.len);
        ref_putc(&cred, '/');
        ref_put(&cred, o->scope.p, o->scope.n);
        snprintf(ex, sizeof ex, "%ld", r->expires);
        ref_puts(&qp[nqp].key, "X-Amz-Algorithm");
        ref_puts(&qp[nqp++].val, "AWS4-HMAC-SHA256");
        ref_puts(&qp[nqp].key, "X-Amz-Credential");
        ref_encode(&qp[nqp++].val, cred.p, cred.n, 0, 0);
        ref_puts(&qp[nqp].key, "X-Amz-Date");
        ref_put(&qp[nqp++].val, o->amz_date.p, o->amz_date.n);
        ref_puts(&qp[nqp].key, "X-Amz-Expires");
        ref_puts(&qp[nqp++].val, ex);
        ref_puts(&qp[nqp].key, "X-Amz-SignedHeaders");
        ref_encode(&qp[nqp].val, o->signed_headers.p, o->signed_headers.n, 0, 0);
        ref_puts(&qp[nqp++].val, "");
        if (token_signed) {
            ref_puts(&qp[nqp].key, "X-Amz-Security-Token");
            ref_encode(&qp[nqp].val, r->session_token.ptr, r->session_token.len, 0, 0);
            ref_puts(&qp[nqp++].val, "");
        }
        ref_free(&cred);
    }
    ref_sort_qp(qp, nqp);
    ref_puts(&o->canon_query, "");
    for (i = 0; i < nqp; i++) {
        if (i > 0)
            ref_putc(&o->canon_query, '&');
        ref_put(&o->canon_query, qp[i].key.p, qp[i].key.n);
        ref_putc(&o->canon_query, '=');
        ref_put(&o->canon_query, qp[i].val.p, qp[i].val.n);
    }

    /* 7. canonical request, string to sign, signature */
    ref_put(&o->creq, r->method.ptr, r->method.len);
    ref_putc(&o->creq, '\n');
    ref_put(&o->creq, o->canon_uri.p, o->canon_uri.n);
    ref_putc(&o->creq, '\n');
    ref_put(&o->creq, o->canon_query.p, o->canon_query.n);
    ref_putc(&o->creq, '\n');
    for (i = 0; i < nh; i++) {
        if (i > 0 && ref_cmp(he[i].name, he[i].name_len, he[i - 1].name, he[i - 1].name_len) == 0) {
            ref_putc(&o->creq, ',');
        } else {
            if (i > 0)
                ref_putc(&o->creq, '\n');
            ref_put(&o->creq, he[i].name, he[i].name_len);
            ref_putc(&o->creq, ':');
        }
        ref_canon_value(&o->creq, he[i].value, he[i].value_len);
    }
    ref_puts(&o->creq, "\n\n");
    ref_put(&o->creq, o->signed_headers.p, o->signed_headers.n);
    ref_putc(&o->creq, '\n');
    ref_put(&o->creq, o->payload.p, o->payload.n);

    SHA256((const unsigned char *)o->creq.p, o->creq.n, h);
    ref_puts(&o->sts, "AWS4-HMAC-SHA256\n");
    ref_put(&o->sts, o->amz_date.p, o->amz_date.n);
    ref_putc(&o->sts, '\n');
    ref_put(&o->sts, o->scope.p, o->scope.n);
    ref_putc(&o->sts, '\n');
    ref_hex(&o->sts, h, 32);
    {
        unsigned char k0[4 + SIGV4_MAX_SECRET], key[32];
        memcpy(k0, "AWS4", 4);
        memcpy(k0 + 4, r->secret_key.ptr, r->secret_key.len);
        ref_hmac(k0, 4 + r->secret_key.len, o->amz_date.p, 8, key);
        ref_hmac(key, 32, r->region.ptr, r->region.len, key);
        ref_hmac(key, 32, r->service.ptr, r->service.len, key);
        ref_hmac(key, 32, "aws4_request", 12, key);
        ref_hmac(key, 32, o->sts.p, o->sts.n, h);
        ref_hex(&o->signature, h, 32);
    }
    if (!presign) {
        ref_puts(&o->authorization, "AWS4-HMAC-SHA256 Credential=");
        ref_put(&o->authorization, r->access_key.ptr, r->access_key.len);
        ref_putc(&o->authorization, '/');
        ref_put(&o->authorization, o->scope.p, o->scope.n);
        ref_puts(&o->authorization, ", SignedHeaders=");
        ref_put(&o->authorization, o->signed_headers.p, o->signed_headers.n);
        ref_puts(&o->authorization, ", Signature=");
        ref_put(&o->authorization, o->signature.p, o->signature.n);
    } else {
        ref_put(&o->query, o->canon_query.p, o->canon_query.n);
        if (token_after) {
            ref_puts(&o->query, "&X-Amz-Security-Token=");
            ref_encode(&o->query, r->session_token.ptr, r->session_token.len, 0, 0);
        }
        ref_puts(&o->query, "&X-Amz-Signature=");
        ref_put(&o->query, o->signature.p, o->signature.n);
    }
    if (!verify && !presign) {
#define REF_OUT(lit, v, vn, kind)                                                                       \
    do {                                                                                             \
        ref_header *oh = &o->headers[o->nheaders++];                                                 \
        oh->name = lit;                                                                              \
        oh->name_len = sizeof lit - 1;                                                               \
        ref_put(&oh->value, (v), (vn));                                                              \
        oh->src = SIGV4_NO_SRC;                                                                      \
        oh->added = (kind);                                                                          \
    } while (0)
        REF_OUT("X-Amz-Date", o->amz_date.p, o->amz_date.n, SIGV4_ADDED_DATE);
        if (tok)
            REF_OUT("X-Amz-Security-Token", r->session_token.ptr, r->session_token.len, SIGV4_ADDED_TOKEN);
        if (content)
            REF_OUT("X-Amz-Content-Sha256", o->payload.p, o->payload.n, SIGV4_ADDED_CONTENT_SHA256);
        REF_OUT("Authorization", o->authorization.p, o->authorization.n, SIGV4_ADDED_AUTHORIZATION);
#undef REF_OUT
    }
    o->rc = SIGV4_OK;

done:
    for (i = 0; i < nh; i++)
        free(he[i].name);
    free(he);
    if (qp != NULL) {
        for (i = 0; i < nqp; i++) {
            ref_free(&qp[i].key);
            ref_free(&qp[i].val);
        }
        free(qp);
    }
    return rc;
}

#endif
