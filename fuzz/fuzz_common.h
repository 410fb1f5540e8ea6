/* fuzz_common.h - shared checks of the sigv4 fuzz harnesses.
 *
 * fz_check() signs one request with src/sigv4.c three times and with the
 * reference model of fuzz_ref.h once, and aborts (libFuzzer then saves the
 * input as a crash) when any of these fails:
 *   - status, err_field and err_index equal the model's; a failed call leaves
 *     every other result field empty;
 *   - every output equals the model's byte for byte (canonical request,
 *     string to sign, signature, Authorization, presigned query, the headers
 *     to send with their src/added/value_changed marks); result strings are
 *     NUL-terminated; the signature is 64 lowercase hex digits;
 *   - signing again into a second buffer gives the same bytes (deterministic,
 *     key cache hit or miss alike);
 *   - signing into an exactly sized heap buffer of a fuzzed capacity either
 *     gives the same bytes or SIGV4_E_BUFFER (ASan catches any write past it),
 *     and a failed call leaves no copy of the session token in that buffer;
 *   - signing with another secret of the same length into another zeroed
 *     buffer changes no byte of it but the signature's and the pointers in
 *     the headers-to-send array (no trace of the secret anywhere in the
 *     buffer, used or scratch);
 *   - verifying the signed request (verification mode: the headers it sends,
 *     its SignedHeaders list, its X-Amz-Date, or its presigned query) gives
 *     the same canonical request and signature.
 */
#ifndef INVITE_FUZZ_COMMON_H
#define INVITE_FUZZ_COMMON_H

#define _GNU_SOURCE 1 /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ref.h"
#include "sigv4.h"

#define FZ_BIG (1u << 20)
#define FZ_SEP 0xff /* field separator in the harnesses' input formats */

static char fz_big[FZ_BIG], fz_big2[FZ_BIG];
static sigv4_ctx *fz_ctx;
static unsigned long fz_roundtrips;

static void fz_die(const char *what, const sigv4_request *r)
{
    fprintf(stderr, "fuzz invariant failed: %s (method %.*s, path len %zu, query len %zu, %zu headers, flags %u)\n",
            what, (int)(r->method.len > 32 ? 32 : r->method.len), r->method.ptr ? r->method.ptr : "",
            r->path.len, r->query.len, r->nheaders, r->flags);
    abort();
}

#define FZ_ASSERT(cond, what, r)                                                                        \
    do {                                                                                             \
        if (!(cond))                                                                                 \
            fz_die(what, r);                                                                         \
    } while (0)

static sigv4_ctx *fz_context(void)
{
    if (fz_ctx == NULL) {
        fz_ctx = sigv4_ctx_new();
        if (fz_ctx == NULL)
            abort();
    }
    return fz_ctx;
}

/* Splits data at FZ_SEP into at most max fields; returns the count. */
static size_t fz_split(const uint8_t *data, size_t size, sigv4_str *out, size_t max)
{
    size_t n = 0, s = 0, i;
    if (max == 0)
        return 0;
    for (i = 0; i <= size && n < max; i++) {
        if (i == size || data[i] == FZ_SEP) {
            if (n == max - 1) {
                i = size; /* the last field takes the rest */
            }
            out[n].ptr = (const char *)data + s;
            out[n].len = i - s;
            n++;
            s = i + 1;
        }
    }
    return n;
}

/* "name:value" (first ':') into a header; no ':' gives an empty value. */
static void fz_header(sigv4_str f, sigv4_header *h)
{
    const char *c = f.len ? memchr(f.ptr, ':', f.len) : NULL;
    h->name = f.ptr;
    if (c == NULL) {
        h->name_len = f.len;
        h->value = "";
        h->value_len = 0;
    } else {
        h->name_len = (size_t)(c - f.ptr);
        h->value = c + 1;
        h->value_len = f.len - h->name_len - 1;
    }
}

static int fz_str_eq(sigv4_str s, const ref_buf *b)
{
    if (s.len != b->n)
        return 0;
    if (s.len == 0)
        return 1;
    return s.ptr != NULL && memcmp(s.ptr, b->p, s.len) == 0 && s.ptr[s.len] == '\0';
}

static int fz_same_str(sigv4_str a, sigv4_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int fz_contains(const char *hay, size_t n, const char *needle, size_t m)
{
    return m > 0 && n >= m && hay != NULL && memmem(hay, n, needle, m) != NULL;
}

/* Whether s occurs in any text input of r (then it may legitimately be in the output). */
static int fz_in_inputs(const sigv4_request *r, const char *s, size_t m, int with_token)
{
    size_t i;
    if (fz_contains(r->method.ptr, r->method.len, s, m) || fz_contains(r->path.ptr, r->path.len, s, m)
        || fz_contains(r->query.ptr, r->query.len, s, m) || fz_contains(r->access_key.ptr, r->access_key.len, s, m)
        || fz_contains(r->region.ptr, r->region.len, s, m) || fz_contains(r->service.ptr, r->service.len, s, m)
        || fz_contains(r->payload_hash.ptr, r->payload_hash.len, s, m)
        || fz_contains(r->amz_date.ptr, r->amz_date.len, s, m)
        || fz_contains(r->signed_headers.ptr, r->signed_headers.len, s, m)
        || (with_token && fz_contains(r->session_token.ptr, r->session_token.len, s, m)))
        return 1;
    for (i = 0; i < r->nheaders; i++)
        if (fz_contains(r->headers[i].name, r->headers[i].name_len, s, m)
            || fz_contains(r->headers[i].value, r->headers[i].value_len, s, m))
            return 1;
    return 0;
}

/* not one byte repeated (such a string can match a zeroed or padded buffer by chance) */
static int fz_varied(sigv4_str s)
{
    size_t i;
    for (i = 1; i < s.len; i++)
        if (s.ptr[i] != s.ptr[0])
            return 1;
    return 0;
}

static int fz_same_result(const sigv4_result *a, const sigv4_result *b)
{
    size_t i;
    if (!fz_same_str(a->amz_date, b->amz_date) || !fz_same_str(a->credential_scope, b->credential_scope)
        || !fz_same_str(a->signed_headers, b->signed_headers) || !fz_same_str(a->payload_hash, b->payload_hash)
        || !fz_same_str(a->canonical_request, b->canonical_request)
        || !fz_same_str(a->string_to_sign, b->string_to_sign) || !fz_same_str(a->signature, b->signature)
        || !fz_same_str(a->authorization, b->authorization) || !fz_same_str(a->query, b->query)
        || a->nheaders != b->nheaders || a->buf_used != b->buf_used)
        return 0;
    for (i = 0; i < a->nheaders; i++) {
        const sigv4_out_header *x = &a->headers[i], *y = &b->headers[i];
        if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) != 0
            || x->value_len != y->value_len || (x->value_len && memcmp(x->value, y->value, x->value_len) != 0)
            || x->src != y->src || x->added != y->added || x->value_changed != y->value_changed)
            return 0;
    }
    return 1;
}

static int fz_is_empty_result(const sigv4_result *res)
{
    return res->amz_date.len == 0 && res->credential_scope.len == 0 && res->signed_headers.len == 0
           && res->payload_hash.len == 0 && res->canonical_request.len == 0 && res->string_to_sign.len == 0
           && res->signature.len == 0 && res->authorization.len == 0 && res->query.len == 0
           && res->headers == NULL && res->nheaders == 0 && res->buf_used == 0;
}

/* Whether the canonical query (third line of the canonical request) has an
 * X-Amz-Signature parameter. */
static int fz_has_signature_param(sigv4_str creq)
{
    const char *c = creq.ptr, *end = creq.ptr + creq.len, *q, *e;
    q = memchr(c, '\n', creq.len);
    if (q == NULL || (q = memchr(q + 1, '\n', (size_t)(end - q - 1))) == NULL)
        return 0;
    q++;
    e = memchr(q, '\n', (size_t)(end - q));
    if (e == NULL)
        return 0;
    while (q < e) {
        const char *amp = memchr(q, '&', (size_t)(e - q));
        const char *stop = amp ? amp : e;
        if ((size_t)(stop - q) >= 16 && memcmp(q, "X-Amz-Signature=", 16) == 0)
            return 1;
        q = stop + 1;
    }
    return 0;
}

/* Verification of what was just signed must reproduce its signature. */
static void fz_roundtrip(const sigv4_request *r, const sigv4_result *res)
{
    sigv4_request v = *r;
    sigv4_result vr;
    sigv4_header *hs = NULL;
    size_t i;
    int rc;
    if (r->signed_headers.ptr != NULL)
        return; /* already a verification */
    if ((r->flags & SIGV4_PRESIGN) && r->session_token.len > 0 && (r->flags & SIGV4_OMIT_SESSION_TOKEN))
        return; /* the unsigned token in the query is not part of what was signed */
    if (!(r->flags & SIGV4_PRESIGN) && fz_has_signature_param(res->canonical_request))
        return; /* verification always drops X-Amz-Signature from the query (it cannot tell a
                   presigned URL from a header-signed request that has such a parameter) */
    hs = calloc(res->nheaders + 1, sizeof *hs);
    if (hs == NULL)
        abort();
    for (i = 0; i < res->nheaders; i++) {
        hs[i].name = res->headers[i].name;
        hs[i].name_len = res->headers[i].name_len;
        hs[i].value = res->headers[i].value;
        hs[i].value_len = res->headers[i].value_len;
    }
    v.headers = hs;
    v.nheaders = res->nheaders;
    v.signed_headers = res->signed_headers;
    v.amz_date = res->amz_date;
    v.flags &= ~SIGV4_PRESIGN;
    if (r->flags & SIGV4_PRESIGN)
        v.query = res->query;
    rc = sigv4_sign(fz_context(), &v, &vr, fz_big2, FZ_BIG);
    if (rc == SIGV4_E_TOO_LARGE) {
        /* allowed only when the signed request itself is past a limit: the
         * signer adds up to 4 headers and 6 query parameters to its input */
        size_t pieces = 0, bytes = 0, k = 0;
        for (i = 0; i < v.query.len; i = k + 1) {
            for (k = i; k < v.query.len && v.query.ptr[k] != '&'; k++)
                ;
            if (k > i)
                pieces++;
        }
        for (i = 0; i < v.nheaders; i++)
            bytes += hs[i].name_len + hs[i].value_len;
        FZ_ASSERT(v.nheaders > SIGV4_MAX_HEADERS || bytes > SIGV4_MAX_HEADER_BYTES || v.query.len > SIGV4_MAX_QUERY
                      || pieces > SIGV4_MAX_QUERY_PARAMS,
                  "verification of a signed request within the limits is refused as too large", r);
        free(hs);
        return;
    }
    if (rc != SIGV4_OK)
        fprintf(stderr, "verification: %s (%s #%zu)\n", sigv4_errname(rc), vr.err_field ? vr.err_field : "-",
                vr.err_index);
    FZ_ASSERT(rc == SIGV4_OK, "verification of a signed request fails", r);
    FZ_ASSERT(fz_same_str(vr.canonical_request, res->canonical_request),
              "verification gives another canonical request", r);
    FZ_ASSERT(sigv4_equal(vr.signature.ptr, vr.signature.len, res->signature.ptr, res->signature.len),
              "verification gives another signature", r);
    fz_roundtrips++;
    free(hs);
}

/* The checks listed at the top. cap_sel picks the heap buffer's size. */
static int fz_check(const sigv4_request *r, unsigned cap_sel, sigv4_result *out)
{
    sigv4_ctx *ctx = fz_context();
    sigv4_result res, res2, res3;
    ref_out ref;
    size_t i, cap;
    char *small;
    int rc, rc2, rc3;

    rc = sigv4_sign(ctx, r, &res, fz_big, FZ_BIG);
    ref_sign(r, &ref);
    FZ_ASSERT(rc != SIGV4_E_BUFFER && rc != SIGV4_E_CRYPTO && rc != SIGV4_E_NOMEM && rc != SIGV4_E_ARG,
              "unexpected status with a 1 MiB buffer", r);
    if (rc != ref.rc) {
        fprintf(stderr, "signer %s (%s #%zu), model %s (%s #%zu)\n", sigv4_errname(rc),
                res.err_field ? res.err_field : "-", res.err_index, sigv4_errname(ref.rc),
                ref.err_field ? ref.err_field : "-", ref.err_index);
        fz_die("status differs from the model", r);
    }
    if (rc != SIGV4_OK) {
        FZ_ASSERT(res.err_field != NULL && ref.err_field != NULL && strcmp(res.err_field, ref.err_field) == 0
                      && res.err_index == ref.err_index,
                  "err_field/err_index differ from the model", r);
        FZ_ASSERT(fz_is_empty_result(&res), "a failed call left results behind", r);
        FZ_ASSERT(strlen(sigv4_strerror(rc)) > 0 && strlen(sigv4_errname(rc)) > 0, "no error text", r);
    } else {
        FZ_ASSERT(res.err_field == NULL && res.buf_used <= FZ_BIG, "ok result with an error field", r);
        FZ_ASSERT(fz_str_eq(res.amz_date, &ref.amz_date), "amz_date differs", r);
        FZ_ASSERT(fz_str_eq(res.credential_scope, &ref.scope), "credential scope differs", r);
        FZ_ASSERT(fz_str_eq(res.payload_hash, &ref.payload), "payload hash differs", r);
        FZ_ASSERT(fz_str_eq(res.signed_headers, &ref.signed_headers), "signed headers differ", r);
        if (!fz_str_eq(res.canonical_request, &ref.creq)) {
            fprintf(stderr, "signer canonical request:\n%.*s\n--- model:\n%.*s\n---\n",
                    (int)res.canonical_request.len, res.canonical_request.ptr, (int)ref.creq.n, ref.creq.p);
            fz_die("canonical request differs from the model", r);
        }
        FZ_ASSERT(fz_str_eq(res.string_to_sign, &ref.sts), "string to sign differs", r);
        FZ_ASSERT(fz_str_eq(res.signature, &ref.signature), "signature differs", r);
        FZ_ASSERT(fz_str_eq(res.authorization, &ref.authorization), "authorization differs", r);
        FZ_ASSERT(fz_str_eq(res.query, &ref.query), "presigned query differs", r);
        FZ_ASSERT(res.signature.len == 64, "signature is not 64 digits", r);
        for (i = 0; i < 64; i++)
            FZ_ASSERT((res.signature.ptr[i] >= '0' && res.signature.ptr[i] <= '9')
                          || (res.signature.ptr[i] >= 'a' && res.signature.ptr[i] <= 'f'),
                      "signature is not lowercase hex", r);
        FZ_ASSERT(res.nheaders == ref.nheaders, "number of headers to send differs", r);
        for (i = 0; i < res.nheaders; i++) {
            const sigv4_out_header *h = &res.headers[i];
            const ref_header *e = &ref.headers[i];
            FZ_ASSERT(h->name_len == e->name_len && memcmp(h->name, e->name, e->name_len) == 0,
                      "header to send: name differs", r);
            FZ_ASSERT(h->value_len == e->value.n && (e->value.n == 0 || memcmp(h->value, e->value.p, e->value.n) == 0),
                      "header to send: value differs", r);
            FZ_ASSERT(h->src == e->src && h->added == e->added && h->value_changed == e->value_changed,
                      "header to send: src/added/value_changed differ", r);
        }
    }

    /* the same request again, into another buffer: same bytes */
    rc2 = sigv4_sign(ctx, r, &res2, fz_big2, FZ_BIG);
    FZ_ASSERT(rc2 == rc, "second signing: other status", r);
    if (rc == SIGV4_OK)
        FZ_ASSERT(fz_same_result(&res, &res2), "second signing: other output", r);

    /* an exactly sized heap buffer of a fuzzed size */
    if (rc == SIGV4_OK)
        cap = cap_sel % (res.buf_used + 64 + r->query.len * 3 + r->path.len + 1);
    else
        cap = cap_sel % 4096;
    small = calloc(cap ? cap : 1, 1);
    if (small == NULL)
        abort();
    rc3 = sigv4_sign(ctx, r, &res3, small, cap);
    FZ_ASSERT(rc3 == rc || rc3 == SIGV4_E_BUFFER, "small buffer: status other than the big one's or BUFFER", r);
    if (rc3 == SIGV4_OK) {
        FZ_ASSERT(fz_same_result(&res, &res3), "small buffer: other output", r);
    } else {
        if (rc3 == rc && rc != SIGV4_OK)
            FZ_ASSERT(strcmp(res3.err_field, res.err_field) == 0 && res3.err_index == res.err_index,
                      "small buffer: other err_field", r);
        FZ_ASSERT(fz_is_empty_result(&res3), "small buffer: a failed call left results behind", r);
        if (r->session_token.len >= 8 && fz_varied(r->session_token)
            && !fz_in_inputs(r, r->session_token.ptr, r->session_token.len, 0))
            FZ_ASSERT(!fz_contains(small, cap, r->session_token.ptr, r->session_token.len),
                      "small buffer: the session token is left in a failed call's buffer", r);
    }
    /* the same with another secret of the same length, into another zeroed
     * buffer of the same size: every byte must be the same but the signature
     * (wherever it is written), so no trace of the secret is left anywhere */
    if (r->secret_key.len > 0 && r->secret_key.len <= SIGV4_MAX_SECRET) {
        sigv4_request r2 = *r;
        sigv4_result res4;
        char other[SIGV4_MAX_SECRET], *small2 = calloc(cap ? cap : 1, 1);
        int rc4;
        if (small2 == NULL)
            abort();
        for (i = 0; i < r->secret_key.len; i++)
            other[i] = (char)(r->secret_key.ptr[i] ^ 0x5a);
        r2.secret_key.ptr = other;
        rc4 = sigv4_sign(ctx, &r2, &res4, small2, cap);
        FZ_ASSERT(rc4 == rc3, "another secret: other status", r);
        if (rc4 == SIGV4_OK) {
            /* blank the signature where it appears: the signature itself, the
             * end of the Authorization value, the end of the presigned query */
            const sigv4_str *sig[2][3] = {{&res3.signature, &res3.authorization, &res3.query},
                                          {&res4.signature, &res4.authorization, &res4.query}};
            char *bufs[2] = {small, small2};
            int b, k;
            const sigv4_result *rs[2] = {&res3, &res4};
            FZ_ASSERT(res4.buf_used == res3.buf_used && res4.nheaders == res3.nheaders, "another secret: other size", r);
            for (b = 0; b < 2; b++) {
                for (k = 0; k < 3; k++)
                    if (sig[b][k]->len >= 64)
                        memset(bufs[b] + (sig[b][k]->ptr + sig[b][k]->len - 64 - bufs[b]), 0, 64);
                /* and the array of headers to send: it holds pointers into its own buffer */
                if (rs[b]->nheaders > 0)
                    memset((char *)rs[b]->headers, 0, rs[b]->nheaders * sizeof *rs[b]->headers);
            }
        }
        FZ_ASSERT(memcmp(small, small2, cap) == 0, "the output buffer depends on the secret beyond the signature", r);
        free(small2);
    }
    free(small);

    if (rc == SIGV4_OK)
        fz_roundtrip(r, &res);
    ref_out_free(&ref);
    if (out != NULL)
        *out = res;
    return rc;
}

/* A vanilla request (the suite's get-vanilla) for harnesses that fuzz one part. */
static const sigv4_header fz_host = {"Host", 4, "example.amazonaws.com", 21};

static sigv4_request fz_base_request(void)
{
    sigv4_request r;
    memset(&r, 0, sizeof r);
    r.method.ptr = "GET";
    r.method.len = 3;
    r.path.ptr = "/";
    r.path.len = 1;
    r.headers = &fz_host;
    r.nheaders = 1;
    r.access_key.ptr = "AKIDEXAMPLE";
    r.access_key.len = 11;
    r.secret_key.ptr = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    r.secret_key.len = 40;
    r.region.ptr = "us-east-1";
    r.region.len = 9;
    r.service.ptr = "service";
    r.service.len = 7;
    r.time = 1440938160; /* 2015-08-30T12:36:00Z */
    r.expires = 3600;
    return r;
}

static const char fz_token[] = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ==";

#endif
