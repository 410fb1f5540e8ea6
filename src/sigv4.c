/* sigv4.c - AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing.
 *
 * Pure C over OpenSSL 3 libcrypto (SHA-256 only); the API and its contract are in sigv4.h.
 *
 * Sections:
 *   1. character classes and small writers (the output arena)
 *   2. the signer context: algorithms fetched once, reusable contexts, key cache
 *   3. input checks
 *   4. the canonical request, one named step per part
 *   5. string to sign, signature, Authorization, presigned query, headers to send
 *   6. sigv4_sign and the small public helpers
 *
 * The output arena is the caller's buffer used from both ends: results (and
 * the canonical request, which must be contiguous) grow from the front,
 * short-lived scratch (lowercased header names, normalised path, encoded
 * query pieces) from the back. Every write is bounds-checked; running out
 * returns SIGV4_E_BUFFER and nothing is ever truncated.
 *
 * The rules below follow AWS's SigV4 documentation and the official test
 * suite (spec/fixtures/sigv4). Where the documentation is silent, the
 * behaviour of botocore (the reference signer of the AWS CLI) is matched so
 * that a request signed here verifies against the same server rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but kept for speed:
 * see section 2. Defined before any OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "sigv4.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define SIGV4_CACHE_SLOTS 4
#define SIGV4_EXTRA_HEADERS 3 /* x-amz-date, x-amz-security-token, x-amz-content-sha256 */
#define SIGV4_AUTH_PARAMS 6   /* X-Amz-Algorithm ... X-Amz-Security-Token */
#define SIGV4_LIT(s) (s), (sizeof(s) - 1)

/* ------------------------------------------------------------------------ */
/* 1. Character classes and small writers                                    */
/* ------------------------------------------------------------------------ */

/* One table lookup per byte (the byte loops are a good part of a signature's
 * cost). Bits: */
#define SIGV4_C_UNRESERVED 1u /* RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~, never encoded */
#define SIGV4_C_TCHAR 2u      /* RFC 7230 tchar: method and header-name characters */
#define SIGV4_C_SCOPE 4u      /* region/service characters: A-Z a-z 0-9 - _ */
#define SIGV4_C_VCHAR 8u      /* visible ASCII, no space: tokens, payload hashes */
#define SIGV4_C_CTL 16u       /* control characters 0x00-0x1f and 0x7f */
#define SIGV4_C_HWS 32u       /* header whitespace: SP HT CR LF (CR/LF only inside folds) */
static const unsigned char sigv4_class[256] = {
    16, 16, 16, 16, 16, 16, 16, 16, 16, 48, 48, 16, 16, 48, 16, 16,  /* 0x00 */
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,  /* 0x10 */
    32, 10,  8, 10, 10, 10, 10, 10,  8,  8, 10, 10,  8, 15, 11,  8,  /* 0x20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  8,  8,  8,  8,  8,  8,  /* 0x30 */
     8, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  /* 0x40 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  8,  8,  8, 10, 15,  /* 0x50 */
    10, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  /* 0x60 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  8, 10,  8, 11, 16,  /* 0x70 */
    /* 0x80-0xff: none of the classes (raw UTF-8 is percent-encoded) */
};

static int sigv4_is(unsigned char c, unsigned cls)
{
    return (sigv4_class[c] & cls) != 0;
}

static int sigv4_is_unreserved(unsigned char c)
{
    return sigv4_is(c, SIGV4_C_UNRESERVED);
}

static int sigv4_is_tchar(unsigned char c)
{
    return sigv4_is(c, SIGV4_C_TCHAR);
}

static int sigv4_is_ctl(unsigned char c)
{
    return sigv4_is(c, SIGV4_C_CTL);
}

static int sigv4_is_vchar(unsigned char c)
{
    return sigv4_is(c, SIGV4_C_VCHAR);
}

static int sigv4_is_hws(unsigned char c)
{
    return sigv4_is(c, SIGV4_C_HWS);
}

static unsigned char sigv4_lower(unsigned char c)
{
    return (unsigned)(c - 'A') < 26u ? (unsigned char)(c + 32) : c;
}

static int sigv4_hexval(unsigned char c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    if ((unsigned)(c - 'a') < 6u)
        return c - 'a' + 10;
    if ((unsigned)(c - 'A') < 6u)
        return c - 'A' + 10;
    return -1;
}

static const char sigv4_hex_upper[] = "0123456789ABCDEF";
/* "000102...ff": two lowercase hex digits per byte value */
static const char sigv4_hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Word-at-a-time tests (8 bytes per step) for the long byte runs: header
 * values, the session token, the path. Both tests are exact as to whether
 * some byte matches (the classic bit hacks can only misreport bytes after a
 * real match). */
#define SIGV4_ONES ((uint64_t)0x0101010101010101ULL)
#define SIGV4_HIGHS ((uint64_t)0x8080808080808080ULL)

static uint64_t sigv4_load8(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* nonzero iff some byte of x is below n (n <= 128) */
static uint64_t sigv4_has_less(uint64_t x, unsigned n)
{
    return (x - SIGV4_ONES * n) & ~x & SIGV4_HIGHS;
}

/* nonzero iff some byte of x equals n */
static uint64_t sigv4_has_byte(uint64_t x, unsigned n)
{
    uint64_t v = x ^ (SIGV4_ONES * n);
    return (v - SIGV4_ONES) & ~v & SIGV4_HIGHS;
}

/* nonzero iff some byte of x is a control character (0x00-0x1f, 0x7f) */
static uint64_t sigv4_has_ctl(uint64_t x)
{
    return sigv4_has_less(x, 0x20) | sigv4_has_byte(x, 0x7f);
}

struct sigv4_job {
    sigv4_ctx *ctx;
    const sigv4_request *req;
    sigv4_result *res;
    char *buf;
    size_t cap;
    size_t lo; /* front: [0, lo) used */
    size_t hi; /* back: [hi, cap) used */
    int presign;       /* signature in the query string */
    int verify;        /* signed_headers given: sign exactly those */
    int token_signed;  /* a session token is signed (header or query) */
    int token_after;   /* a session token is added after signing */
    int content_header; /* x-amz-content-sha256 is added and signed */
    size_t nh;          /* entries in ctx->hent */
    size_t creq_off;    /* canonical request start in buf */
    size_t cq_off, cq_len; /* canonical query within buf */
    char amz_date[17];
    char payload_hex[65];
};

static int sigv4_fail(struct sigv4_job *j, int rc, const char *field, size_t index)
{
    j->res->err_field = field;
    j->res->err_index = index;
    return rc;
}

static int sigv4_put(struct sigv4_job *j, const void *p, size_t n)
{
    if (n > j->hi - j->lo)
        return SIGV4_E_BUFFER;
    if (n > 0)
        memcpy(j->buf + j->lo, p, n);
    j->lo += n;
    return SIGV4_OK;
}

static int sigv4_putc(struct sigv4_job *j, char c)
{
    if (j->lo == j->hi)
        return SIGV4_E_BUFFER;
    j->buf[j->lo++] = c;
    return SIGV4_OK;
}

/* Ends a front string started at `start`: NUL-terminates it and records it. */
static int sigv4_finish(struct sigv4_job *j, size_t start, sigv4_str *out)
{
    int rc = sigv4_putc(j, '\0');
    if (rc != SIGV4_OK)
        return rc;
    out->ptr = j->buf + start;
    out->len = j->lo - start - 1;
    return SIGV4_OK;
}

/* n bytes of back scratch (unaligned), or NULL when the arena is full. */
static char *sigv4_scratch(struct sigv4_job *j, size_t n)
{
    if (n > j->hi - j->lo)
        return NULL;
    j->hi -= n;
    return j->buf + j->hi;
}

/* Back scratch aligned for any of our structs. */
static void *sigv4_scratch_aligned(struct sigv4_job *j, size_t n)
{
    uintptr_t lo = (uintptr_t)(j->buf + j->lo), top = (uintptr_t)(j->buf + j->hi), p;
    if (n > top - lo)
        return NULL;
    p = (top - n) & ~(uintptr_t)15;
    if (p < lo)
        return NULL;
    j->hi = (size_t)(p - (uintptr_t)j->buf);
    return j->buf + j->hi;
}

/* Percent-encodes s into dst (room for 3*n bytes): unreserved bytes are kept,
 * '/' too when keep_slash, every other byte becomes %XX (upper-case hex).
 * With decode, "%XX" escapes in s are decoded first, so that an already
 * encoded query and a raw one give the same canonical form; a '%' that does
 * not start a valid escape is taken literally (and encoded as %25). '+' is
 * not a space here: it is kept as a literal '+' and encoded as %2B. */
static size_t sigv4_encode(char *dst, const char *s, size_t n, int keep_slash, int decode)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char *o = dst;
    while (p < end) {
        unsigned char c = *p++;
        if (decode && c == '%' && end - p >= 2) {
            int h = sigv4_hexval(p[0]), l = sigv4_hexval(p[1]);
            if (h >= 0 && l >= 0) {
                c = (unsigned char)(h * 16 + l);
                p += 2;
            }
        }
        if (sigv4_is_unreserved(c) || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            o[0] = '%';
            o[1] = sigv4_hex_upper[c >> 4];
            o[2] = sigv4_hex_upper[c & 15];
            o += 3;
        }
    }
    return (size_t)(o - dst);
}

/* Encodes s into back scratch; out and outlen receive the encoded piece. */
static int sigv4_scratch_encode(struct sigv4_job *j, const char *s, size_t n, int decode,
                                const char **out, size_t *outlen)
{
    char *dst = sigv4_scratch(j, 3 * n); /* n is bounded by the input limits */
    if (dst == NULL)
        return SIGV4_E_BUFFER;
    *outlen = sigv4_encode(dst, s, n, 0, decode);
    *out = dst;
    return SIGV4_OK;
}

static int sigv4_put_encoded(struct sigv4_job *j, const char *s, size_t n, int keep_slash)
{
    if (n > (j->hi - j->lo) / 3) {
        /* worst case does not fit: encode only if the exact size does */
        size_t i, need = 0;
        for (i = 0; i < n; i++)
            need += (sigv4_is_unreserved((unsigned char)s[i]) || (keep_slash && s[i] == '/')) ? 1 : 3;
        if (need > j->hi - j->lo)
            return SIGV4_E_BUFFER;
    }
    j->lo += sigv4_encode(j->buf + j->lo, s, n, keep_slash, 0);
    return SIGV4_OK;
}

static void sigv4_hex(char *o, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        memcpy(o + 2 * i, sigv4_hex_pairs + 2 * p[i], 2);
}

static int sigv4_put_hex(struct sigv4_job *j, const unsigned char *p, size_t n)
{
    if (n > (j->hi - j->lo) / 2)
        return SIGV4_E_BUFFER;
    sigv4_hex(j->buf + j->lo, p, n);
    j->lo += 2 * n;
    return SIGV4_OK;
}

/* ------------------------------------------------------------------------ */
/* 2. Signer context                                                         */
/* ------------------------------------------------------------------------ */

/* SHA-256 and HMAC-SHA256 come from libcrypto's SHA256_Init/Update/Final on
 * a SHA256_CTX the caller owns (deprecated since OpenSSL 3.0, still built
 * into Debian's and every default build, and the same assembly - SHA-NI
 * here - as the EVP path). The EVP interface costs a signature about 240 ns
 * more on this machine (OpenSSL 3.0, the four hashes of a GuardDuty
 * DeclineInvitations signature: 700 ns through EVP, 460 ns here): every
 * EVP_MD_CTX_copy_ex frees and allocates a provider context, every
 * EVP_DigestInit_ex2 goes through the provider dispatch. With plain
 * structs, HMAC's two starting states are copied by assignment, nothing is
 * allocated while signing, and no provider is loaded at all (the first
 * EVP_MD_fetch costs about 1 ms of a process's start-up). */

/* A cached signing key. The key depends on (secret, date, region, service);
 * the secret is kept to recognise a hit and compared in constant time. The
 * signature is HMAC-SHA256(key, string to sign); the slot keeps the two
 * SHA-256 states HMAC starts from (key ^ ipad and key ^ opad absorbed), so
 * a signature hashes only the string to sign and the inner digest. */
struct sigv4_key_slot {
    int used;
    unsigned long last_use;
    size_t secret_len;
    unsigned char secret[SIGV4_MAX_SECRET];
    char date[8];
    size_t region_len;
    char region[SIGV4_MAX_SCOPE_PART];
    size_t service_len;
    char service[SIGV4_MAX_SCOPE_PART];
    unsigned char key[32];
    SHA256_CTX inner; /* after absorbing key ^ ipad */
    SHA256_CTX outer; /* after absorbing key ^ opad */
};

/* One entry of the canonical header list. */
struct sigv4_hent {
    const char *name; /* lowercase (scratch or literal) */
    size_t name_len;
    const char *value; /* as given */
    size_t value_len;
    size_t src; /* request index, or SIGV4_MAX_HEADERS + k for added ones (sort tie-break) */
};

/* One canonical query parameter, already encoded. */
struct sigv4_qparam {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
};

struct sigv4_ctx {
    unsigned long tick, hits, misses;
    int64_t last_time; /* the last time formatted, and its X-Amz-Date */
    char last_amz_date[16];
    struct sigv4_key_slot slot[SIGV4_CACHE_SLOTS];
    /* scratch arrays, here rather than on the stack */
    struct sigv4_hent hent[SIGV4_MAX_HEADERS + SIGV4_EXTRA_HEADERS];
    struct sigv4_qparam qp[SIGV4_MAX_QUERY_PARAMS + SIGV4_AUTH_PARAMS];
    sigv4_str shl[SIGV4_MAX_HEADERS];            /* verification: signed header names */
    unsigned char hflags[SIGV4_MAX_HEADERS];     /* per request header, below */
};

#define SIGV4_H_DROP 1u /* replaced by one the signer adds: not sent */
#define SIGV4_H_FOLD 2u /* value has line folds: sent unfolded */

sigv4_ctx *sigv4_ctx_new(void)
{
    sigv4_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->last_time = -1;
    return ctx;
}

void sigv4_ctx_free(sigv4_ctx *ctx)
{
    if (ctx == NULL)
        return;
    OPENSSL_cleanse(ctx, sizeof *ctx); /* cached secrets, keys and HMAC states */
    free(ctx);
}

static int sigv4_sha256(const void *p, size_t n, unsigned char out[32])
{
    SHA256_CTX c;
    if (!SHA256_Init(&c) || !SHA256_Update(&c, p, n) || !SHA256_Final(out, &c))
        return SIGV4_E_CRYPTO;
    return SIGV4_OK;
}

/* HMAC's starting states for `key` (RFC 2104): the key, hashed first when
 * longer than the 64-byte block, zero-padded to the block, XORed with 0x36
 * (inner) and 0x5c (outer), each block absorbed into a fresh SHA-256. */
static int sigv4_hmac_states(const unsigned char *key, size_t klen, SHA256_CTX *inner, SHA256_CTX *outer)
{
    unsigned char kb[64], pad[64];
    size_t i;
    int rc = SIGV4_OK;
    memset(kb, 0, sizeof kb);
    if (klen > sizeof kb)
        rc = sigv4_sha256(key, klen, kb);
    else
        memcpy(kb, key, klen);
    if (rc == SIGV4_OK) {
        for (i = 0; i < 64; i++)
            pad[i] = (unsigned char)(kb[i] ^ 0x36);
        if (!SHA256_Init(inner) || !SHA256_Update(inner, pad, 64))
            rc = SIGV4_E_CRYPTO;
    }
    if (rc == SIGV4_OK) {
        for (i = 0; i < 64; i++)
            pad[i] = (unsigned char)(kb[i] ^ 0x5c);
        if (!SHA256_Init(outer) || !SHA256_Update(outer, pad, 64))
            rc = SIGV4_E_CRYPTO;
    }
    OPENSSL_cleanse(kb, sizeof kb);
    OPENSSL_cleanse(pad, sizeof pad);
    return rc;
}

/* out = HMAC from the two starting states: H(outer || H(inner || data)).
 * The working state (as secret as the key) is wiped. */
static int sigv4_hmac_finish(const SHA256_CTX *inner, const SHA256_CTX *outer, const void *data, size_t n,
                             unsigned char out[32])
{
    SHA256_CTX c = *inner;
    unsigned char ih[32];
    int ok = SHA256_Update(&c, data, n) && SHA256_Final(ih, &c);
    c = *outer;
    ok = ok && SHA256_Update(&c, ih, 32) && SHA256_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof c);
    OPENSSL_cleanse(ih, sizeof ih);
    return ok ? SIGV4_OK : SIGV4_E_CRYPTO;
}

/* out = HMAC-SHA256(key, data); out may be key. */
static int sigv4_hmac(const unsigned char *key, size_t klen, const void *data, size_t n, unsigned char out[32])
{
    SHA256_CTX inner, outer;
    int rc = sigv4_hmac_states(key, klen, &inner, &outer);
    if (rc == SIGV4_OK)
        rc = sigv4_hmac_finish(&inner, &outer, data, n, out);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    return rc;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"). Intermediate keys are wiped on every path. */
static int sigv4_derive(sigv4_str secret, const char *date, sigv4_str region, sigv4_str service,
                        unsigned char key[32])
{
    unsigned char k0[4 + SIGV4_MAX_SECRET];
    unsigned char k[32];
    int rc;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret.ptr, secret.len);
    rc = sigv4_hmac(k0, 4 + secret.len, date, 8, k);
    if (rc != SIGV4_OK)
        goto cleanup;
    rc = sigv4_hmac(k, 32, region.ptr, region.len, k);
    if (rc != SIGV4_OK)
        goto cleanup;
    rc = sigv4_hmac(k, 32, service.ptr, service.len, k);
    if (rc != SIGV4_OK)
        goto cleanup;
    rc = sigv4_hmac(k, 32, SIGV4_LIT(SIGV4_TERMINATOR), key);
cleanup:
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

/* The cache slot holding the key for (secret, date, region, service),
 * deriving it into the least recently used slot on a miss. Inputs are
 * already checked against their limits. */
static int sigv4_key_lookup(sigv4_ctx *ctx, sigv4_str secret, const char *date, sigv4_str region,
                            sigv4_str service, struct sigv4_key_slot **out)
{
    struct sigv4_key_slot *victim = NULL;
    size_t i;
    int rc;
    for (i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        struct sigv4_key_slot *s = &ctx->slot[i];
        if (!s->used) {
            if (victim == NULL || victim->used)
                victim = s;
            continue;
        }
        /* public parts first; the secret is compared in constant time */
        if (memcmp(s->date, date, 8) == 0 && s->region_len == region.len
            && memcmp(s->region, region.ptr, region.len) == 0 && s->service_len == service.len
            && memcmp(s->service, service.ptr, service.len) == 0 && s->secret_len == secret.len
            && CRYPTO_memcmp(s->secret, secret.ptr, secret.len) == 0) {
            s->last_use = ++ctx->tick;
            ctx->hits++;
            *out = s;
            return SIGV4_OK;
        }
        if (victim == NULL || (victim->used && s->last_use < victim->last_use))
            victim = s;
    }
    ctx->misses++;
    OPENSSL_cleanse(victim, sizeof *victim);
    rc = sigv4_derive(secret, date, region, service, victim->key);
    if (rc == SIGV4_OK)
        rc = sigv4_hmac_states(victim->key, 32, &victim->inner, &victim->outer);
    if (rc != SIGV4_OK) {
        OPENSSL_cleanse(victim, sizeof *victim);
        return rc;
    }
    victim->secret_len = secret.len;
    memcpy(victim->secret, secret.ptr, secret.len);
    memcpy(victim->date, date, 8);
    victim->region_len = region.len;
    memcpy(victim->region, region.ptr, region.len);
    victim->service_len = service.len;
    memcpy(victim->service, service.ptr, service.len);
    victim->used = 1;
    victim->last_use = ++ctx->tick;
    *out = victim;
    return SIGV4_OK;
}

/* ------------------------------------------------------------------------ */
/* 3. Input checks                                                           */
/* ------------------------------------------------------------------------ */

static int sigv4_str_ok(sigv4_str s)
{
    return s.ptr != NULL || s.len == 0;
}

/* Header value: NUL and other control characters are refused (they would
 * let a caller smuggle a second header or request). A line break is only
 * accepted as an obsolete line fold, CRLF or LF followed by a space or tab,
 * which the suite's get-header-value-multiline case uses; a fold counts as
 * whitespace. Sets *folded when one was seen. */
static int sigv4_check_value(const char *v, size_t n, int *folded)
{
    const unsigned char *u = (const unsigned char *)v;
    size_t i;
    *folded = 0;
    for (i = 0; i < n; i++) {
        unsigned char c;
        while (n - i >= 8 && !sigv4_has_ctl(sigv4_load8(u + i)))
            i += 8; /* eight plain bytes */
        if (i == n)
            break;
        c = u[i];
        if (c == '\r') {
            if (i + 1 >= n || v[i + 1] != '\n')
                return 0;
            i++;
            c = '\n';
        }
        if (c == '\n') {
            if (i + 1 >= n || (v[i + 1] != ' ' && v[i + 1] != '\t'))
                return 0;
            *folded = 1;
        } else if (sigv4_is_ctl(c) && c != '\t') {
            return 0;
        }
    }
    return 1;
}

static int sigv4_check_amz_date(sigv4_str d)
{
    size_t i;
    if (d.len != 16 || d.ptr[8] != 'T' || d.ptr[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (unsigned)(d.ptr[i] - '0') >= 10u)
            return 0;
    return 1;
}

/* Everything but the headers (checked while they are collected). */
static int sigv4_check_request(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    size_t i;

    if (!sigv4_str_ok(r->method) || !sigv4_str_ok(r->path) || !sigv4_str_ok(r->query)
        || !sigv4_str_ok(r->body) || !sigv4_str_ok(r->payload_hash) || !sigv4_str_ok(r->access_key)
        || !sigv4_str_ok(r->secret_key) || !sigv4_str_ok(r->session_token)
        || !sigv4_str_ok(r->region) || !sigv4_str_ok(r->service) || !sigv4_str_ok(r->amz_date)
        || !sigv4_str_ok(r->signed_headers) || (r->headers == NULL && r->nheaders > 0))
        return sigv4_fail(j, SIGV4_E_ARG, "request", 0);

    if (r->method.len == 0)
        return sigv4_fail(j, SIGV4_E_METHOD, "method", 0);
    if (r->method.len > SIGV4_MAX_METHOD)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "method", 0);
    for (i = 0; i < r->method.len; i++)
        if (!sigv4_is_tchar((unsigned char)r->method.ptr[i]))
            return sigv4_fail(j, SIGV4_E_METHOD, "method", 0);

    /* The path is signed as given and must be sent byte for byte as given.
     * '?' and '#' would end the path on the wire, control characters could
     * split the request line: all refused. A raw space or raw UTF-8 is
     * accepted (the suite signs "/example space/" and "/\xe1\x88\xb4"). */
    if (r->path.len > SIGV4_MAX_PATH)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "path", 0);
    if (r->path.len > 0 && r->path.ptr[0] != '/')
        return sigv4_fail(j, SIGV4_E_PATH, "path", 0);
    for (i = 0; i < r->path.len; i++) {
        const unsigned char *u = (const unsigned char *)r->path.ptr;
        unsigned char c;
        while (r->path.len - i >= 8) {
            uint64_t x = sigv4_load8(u + i);
            if (sigv4_has_ctl(x) | sigv4_has_byte(x, '?') | sigv4_has_byte(x, '#'))
                break;
            i += 8;
        }
        if (i == r->path.len)
            break;
        c = u[i];
        if (sigv4_is_ctl(c) || c == '?' || c == '#')
            return sigv4_fail(j, SIGV4_E_PATH, "path", 0);
    }

    if (r->query.len > SIGV4_MAX_QUERY)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "query", 0);
    for (i = 0; i < r->query.len; i++) {
        unsigned char c = (unsigned char)r->query.ptr[i];
        if (sigv4_is_ctl(c) || c == '#')
            return sigv4_fail(j, SIGV4_E_QUERY, "query", 0);
    }

    if (r->nheaders > SIGV4_MAX_HEADERS)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "headers", 0);

    /* The access key appears raw in the Authorization header, so it may not
     * contain ',', ' ', '/' or anything else with meaning there. */
    if (r->access_key.len == 0)
        return sigv4_fail(j, SIGV4_E_ACCESS_KEY, "access_key", 0);
    if (r->access_key.len > SIGV4_MAX_ACCESS_KEY)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "access_key", 0);
    for (i = 0; i < r->access_key.len; i++)
        if (!sigv4_is_unreserved((unsigned char)r->access_key.ptr[i]))
            return sigv4_fail(j, SIGV4_E_ACCESS_KEY, "access_key", 0);

    /* The secret is only HMAC key material: any bytes, bounded length. */
    if (r->secret_key.len == 0)
        return sigv4_fail(j, SIGV4_E_SECRET_KEY, "secret_key", 0);
    if (r->secret_key.len > SIGV4_MAX_SECRET)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "secret_key", 0);

    /* The token is sent as a header value or query parameter: printable
     * ASCII without spaces (it is base64 in practice). */
    if (r->session_token.len > SIGV4_MAX_TOKEN)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "session_token", 0);
    for (i = 0; i < r->session_token.len; i++) {
        const unsigned char *u = (const unsigned char *)r->session_token.ptr;
        while (r->session_token.len - i >= 8) {
            uint64_t x = sigv4_load8(u + i);
            if (sigv4_has_less(x, 0x21) | (x & SIGV4_HIGHS) | sigv4_has_byte(x, 0x7f))
                break;
            i += 8;
        }
        if (i < r->session_token.len && !sigv4_is_vchar(u[i]))
            return sigv4_fail(j, SIGV4_E_SESSION_TOKEN, "session_token", 0);
    }

    if (r->region.len == 0)
        return sigv4_fail(j, SIGV4_E_REGION, "region", 0);
    if (r->region.len > SIGV4_MAX_SCOPE_PART)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "region", 0);
    for (i = 0; i < r->region.len; i++) {
        unsigned char c = (unsigned char)r->region.ptr[i];
        if (!sigv4_is(c, SIGV4_C_SCOPE))
            return sigv4_fail(j, SIGV4_E_REGION, "region", 0);
    }
    if (r->service.len == 0)
        return sigv4_fail(j, SIGV4_E_SERVICE, "service", 0);
    if (r->service.len > SIGV4_MAX_SCOPE_PART)
        return sigv4_fail(j, SIGV4_E_TOO_LARGE, "service", 0);
    for (i = 0; i < r->service.len; i++) {
        unsigned char c = (unsigned char)r->service.ptr[i];
        if (!sigv4_is(c, SIGV4_C_SCOPE))
            return sigv4_fail(j, SIGV4_E_SERVICE, "service", 0);
    }

    if (r->amz_date.len > 0) {
        if (!sigv4_check_amz_date(r->amz_date))
            return sigv4_fail(j, SIGV4_E_AMZ_DATE, "amz_date", 0);
    } else if (r->time < 0 || r->time > SIGV4_MAX_TIME) {
        return sigv4_fail(j, SIGV4_E_TIME, "time", 0);
    }

    if ((r->flags & SIGV4_PRESIGN) && (r->expires < 1 || r->expires > SIGV4_MAX_EXPIRES))
        return sigv4_fail(j, SIGV4_E_EXPIRES, "expires", 0);

    if (r->payload_hash.ptr != NULL) {
        if (r->payload_hash.len == 0)
            return sigv4_fail(j, SIGV4_E_PAYLOAD_HASH, "payload_hash", 0);
        if (r->payload_hash.len > SIGV4_MAX_PAYLOAD_HASH)
            return sigv4_fail(j, SIGV4_E_TOO_LARGE, "payload_hash", 0);
        for (i = 0; i < r->payload_hash.len; i++)
            if (!sigv4_is_vchar((unsigned char)r->payload_hash.ptr[i]))
                return sigv4_fail(j, SIGV4_E_PAYLOAD_HASH, "payload_hash", 0);
    }
    return SIGV4_OK;
}

/* ------------------------------------------------------------------------ */
/* 4. The canonical request                                                  */
/* ------------------------------------------------------------------------ */

/* "YYYYMMDDTHHMMSSZ" for t in 0..SIGV4_MAX_TIME, by the days-to-civil
 * calculation of the proleptic Gregorian calendar (no gmtime_r: glibc's
 * takes a lock and consults TZ on every call). */
static void sigv4_format_time(int64_t t, char out[16])
{
    int64_t days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp, y, m, d;
    int f[6], i, k = 0;
    days += 719468; /* days from 0000-03-01 to 1970-01-01 */
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    f[0] = (int)y;
    f[1] = (int)m;
    f[2] = (int)d;
    f[3] = (int)(secs / 3600);
    f[4] = (int)(secs / 60 % 60);
    f[5] = (int)(secs % 60);
    out[k++] = (char)('0' + f[0] / 1000 % 10);
    out[k++] = (char)('0' + f[0] / 100 % 10);
    out[k++] = (char)('0' + f[0] / 10 % 10);
    out[k++] = (char)('0' + f[0] % 10);
    for (i = 1; i < 6; i++) {
        if (i == 3)
            out[k++] = 'T';
        out[k++] = (char)('0' + f[i] / 10);
        out[k++] = (char)('0' + f[i] % 10);
    }
    out[k] = 'Z';
}

/* X-Amz-Date "YYYYMMDDTHHMMSSZ" and the scope "YYYYMMDD/region/service/aws4_request". */
static int sigv4_step_date_scope(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    size_t start;
    int rc;
    if (r->amz_date.len > 0) {
        memcpy(j->amz_date, r->amz_date.ptr, 16);
    } else if (r->time == j->ctx->last_time) {
        memcpy(j->amz_date, j->ctx->last_amz_date, 16); /* same second as last time */
    } else {
        sigv4_format_time(r->time, j->amz_date);
        memcpy(j->ctx->last_amz_date, j->amz_date, 16);
        j->ctx->last_time = r->time;
    }
    j->amz_date[16] = '\0';

    start = j->lo;
    if ((rc = sigv4_put(j, j->amz_date, 16)) != SIGV4_OK
        || (rc = sigv4_finish(j, start, &j->res->amz_date)) != SIGV4_OK)
        return rc;
    start = j->lo;
    if ((rc = sigv4_put(j, j->amz_date, 8)) != SIGV4_OK || (rc = sigv4_putc(j, '/')) != SIGV4_OK
        || (rc = sigv4_put(j, r->region.ptr, r->region.len)) != SIGV4_OK
        || (rc = sigv4_putc(j, '/')) != SIGV4_OK
        || (rc = sigv4_put(j, r->service.ptr, r->service.len)) != SIGV4_OK
        || (rc = sigv4_put(j, SIGV4_LIT("/" SIGV4_TERMINATOR))) != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->credential_scope);
}

/* The payload hash: hex SHA-256 of the body (also for presigned requests,
 * as the suite expects), unless the caller gave one (UNSIGNED-PAYLOAD, or a
 * precomputed hash of a streamed body). */
static int sigv4_step_payload(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    size_t start = j->lo;
    int rc;
    if (r->payload_hash.ptr != NULL) {
        rc = sigv4_put(j, r->payload_hash.ptr, r->payload_hash.len);
    } else {
        unsigned char h[32];
        rc = sigv4_sha256(r->body.len ? r->body.ptr : "", r->body.len, h);
        if (rc != SIGV4_OK)
            return sigv4_fail(j, rc, "body", 0);
        sigv4_hex(j->payload_hex, h, 32);
        j->payload_hex[64] = '\0';
        rc = sigv4_put(j, j->payload_hex, 64);
    }
    if (rc != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->payload_hash);
}

/* Insertion sort for the usual handful of entries, qsort beyond. Both
 * comparators are total orders (ties broken by request order), so the
 * result is the same either way. */
static void sigv4_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char tmp[sizeof(struct { const char *a; size_t b; const char *c; size_t d, e; })];
    unsigned char *b = base;
    size_t i, k;
    if (n > 16 || size > sizeof tmp) {
        qsort(base, n, size, cmp);
        return;
    }
    for (i = 1; i < n; i++) {
        for (k = i; k > 0 && cmp(b + (k - 1) * size, b + i * size) > 0; k--)
            ;
        if (k == i)
            continue;
        memcpy(tmp, b + i * size, size);
        memmove(b + (k + 1) * size, b + k * size, (i - k) * size);
        memcpy(b + k * size, tmp, size);
    }
}

static int sigv4_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Sort by lowercase name, ties by request order: a stable sort, so repeated
 * headers keep their order when their values are joined with ','. */
static int sigv4_hent_cmp(const void *pa, const void *pb)
{
    const struct sigv4_hent *a = pa, *b = pb;
    int c = sigv4_name_cmp(a->name, a->name_len, b->name, b->name_len);
    if (c != 0)
        return c;
    return a->src < b->src ? -1 : a->src > b->src ? 1 : 0;
}

static int sigv4_is_name(const char *lc, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && memcmp(lc, lit, l) == 0;
}

/* Verification: parse "a;b;c" into ctx->shl; names must be lowercase HTTP
 * tokens, strictly increasing (sorted, no duplicates), as a signer emits. */
static int sigv4_parse_signed_list(struct sigv4_job *j, size_t *count)
{
    sigv4_str l = j->req->signed_headers;
    size_t i = 0, n = 0;
    while (i <= l.len) {
        size_t s = i, k;
        while (i < l.len && l.ptr[i] != ';')
            i++;
        if (i == s || n == SIGV4_MAX_HEADERS)
            return sigv4_fail(j, SIGV4_E_SIGNED_HEADERS, "signed_headers", n + 1);
        for (k = s; k < i; k++) {
            unsigned char c = (unsigned char)l.ptr[k];
            if (!sigv4_is_tchar(c) || sigv4_lower(c) != c)
                return sigv4_fail(j, SIGV4_E_SIGNED_HEADERS, "signed_headers", n + 1);
        }
        j->ctx->shl[n].ptr = l.ptr + s;
        j->ctx->shl[n].len = i - s;
        if (n > 0 && sigv4_name_cmp(j->ctx->shl[n - 1].ptr, j->ctx->shl[n - 1].len, l.ptr + s, i - s) >= 0)
            return sigv4_fail(j, SIGV4_E_SIGNED_HEADERS, "signed_headers", n + 1);
        n++;
        i++; /* past ';' (or past the end) */
    }
    *count = n;
    return SIGV4_OK;
}

static int sigv4_in_list(const sigv4_str *list, size_t n, const char *name, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sigv4_name_cmp(list[mid].ptr, list[mid].len, name, len);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void sigv4_add_hent(struct sigv4_job *j, const char *lc, size_t n, const char *v, size_t vlen,
                           size_t src)
{
    struct sigv4_hent *e = &j->ctx->hent[j->nh++];
    e->name = lc;
    e->name_len = n;
    e->value = v;
    e->value_len = vlen;
    e->src = src;
}

/* Which headers are signed, and the sorted canonical list of them.
 *
 * Header signing and presigning (not verification):
 * - Authorization and X-Amz-Date in the input are replaced (so a request can
 *   be re-signed, e.g. on retry); so are X-Amz-Security-Token when a session
 *   token is given and x-amz-content-sha256 when sign_body adds it.
 * - User-Agent, Expect and X-Amzn-Trace-Id are sent but not signed, as
 *   botocore does: proxies and SDK layers rewrite them.
 * - X-Amz-Date, X-Amz-Security-Token (unless omit_session_token) and
 *   x-amz-content-sha256 (sign_body) are added and signed; a presigned
 *   request puts date and token into the query instead.
 * Verification: exactly the listed headers, all of which must be present.
 * A Host header must be signed in every mode. */
static int sigv4_step_collect_headers(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    sigv4_ctx *ctx = j->ctx;
    size_t i, total = 0, nlist = 0, host = 0;
    int rc;

    j->nh = 0;
    if (j->verify && (rc = sigv4_parse_signed_list(j, &nlist)) != SIGV4_OK)
        return rc;

    for (i = 0; i < r->nheaders; i++) {
        const sigv4_header *h = &r->headers[i];
        char *lc;
        size_t k;
        int folded;
        if ((h->name == NULL && h->name_len > 0) || (h->value == NULL && h->value_len > 0))
            return sigv4_fail(j, SIGV4_E_ARG, "headers", i + 1);
        if (h->name_len > SIGV4_MAX_HEADER_NAME || h->value_len > SIGV4_MAX_HEADER_VALUE)
            return sigv4_fail(j, SIGV4_E_TOO_LARGE, "headers", i + 1);
        total += h->name_len + h->value_len;
        if (total > SIGV4_MAX_HEADER_BYTES)
            return sigv4_fail(j, SIGV4_E_TOO_LARGE, "headers", i + 1);
        if (h->name_len == 0)
            return sigv4_fail(j, SIGV4_E_HEADER_NAME, "headers", i + 1);
        /* names are compared and signed in lowercase */
        lc = sigv4_scratch(j, h->name_len);
        if (lc == NULL)
            return SIGV4_E_BUFFER;
        for (k = 0; k < h->name_len; k++) {
            unsigned char c = (unsigned char)h->name[k];
            if (!sigv4_is_tchar(c))
                return sigv4_fail(j, SIGV4_E_HEADER_NAME, "headers", i + 1);
            lc[k] = (char)sigv4_lower(c);
        }
        if (!sigv4_check_value(h->value, h->value_len, &folded))
            return sigv4_fail(j, SIGV4_E_HEADER_VALUE, "headers", i + 1);
        ctx->hflags[i] = folded ? SIGV4_H_FOLD : 0;

        if (j->verify) {
            if (sigv4_in_list(ctx->shl, nlist, lc, h->name_len))
                sigv4_add_hent(j, lc, h->name_len, h->value, h->value_len, i);
            continue;
        }
        if (sigv4_is_name(lc, h->name_len, "authorization") || sigv4_is_name(lc, h->name_len, "x-amz-date")
            || ((j->token_signed || j->token_after) && sigv4_is_name(lc, h->name_len, "x-amz-security-token"))
            || (j->content_header && sigv4_is_name(lc, h->name_len, "x-amz-content-sha256"))) {
            ctx->hflags[i] |= SIGV4_H_DROP;
            continue;
        }
        if (sigv4_is_name(lc, h->name_len, "user-agent") || sigv4_is_name(lc, h->name_len, "expect")
            || sigv4_is_name(lc, h->name_len, "x-amzn-trace-id"))
            continue;
        sigv4_add_hent(j, lc, h->name_len, h->value, h->value_len, i);
    }

    if (!j->verify) {
        if (!j->presign)
            sigv4_add_hent(j, SIGV4_LIT("x-amz-date"), j->amz_date, 16, SIGV4_MAX_HEADERS + 0);
        if (!j->presign && j->token_signed)
            sigv4_add_hent(j, SIGV4_LIT("x-amz-security-token"), r->session_token.ptr,
                           r->session_token.len, SIGV4_MAX_HEADERS + 1);
        if (j->content_header)
            sigv4_add_hent(j, SIGV4_LIT("x-amz-content-sha256"), j->res->payload_hash.ptr,
                           j->res->payload_hash.len, SIGV4_MAX_HEADERS + 2);
    }

    sigv4_sort(ctx->hent, j->nh, sizeof ctx->hent[0], sigv4_hent_cmp);

    if (j->verify) {
        /* every listed name must be present: walk both sorted lists */
        size_t e = 0, l;
        for (l = 0; l < nlist; l++) {
            while (e < j->nh && sigv4_name_cmp(ctx->hent[e].name, ctx->hent[e].name_len,
                                               ctx->shl[l].ptr, ctx->shl[l].len) < 0)
                e++;
            if (e == j->nh || sigv4_name_cmp(ctx->hent[e].name, ctx->hent[e].name_len,
                                             ctx->shl[l].ptr, ctx->shl[l].len) != 0)
                return sigv4_fail(j, SIGV4_E_SIGNED_HEADER_MISSING, "signed_headers", l + 1);
        }
    }
    for (i = 0; i < j->nh; i++)
        if (sigv4_is_name(ctx->hent[i].name, ctx->hent[i].name_len, "host"))
            host = 1;
    if (!host)
        return sigv4_fail(j, SIGV4_E_NO_HOST, "headers", 0);
    return SIGV4_OK;
}

/* "content-type;host;x-amz-date": the distinct sorted names joined by ';'. */
static int sigv4_step_signed_headers(struct sigv4_job *j)
{
    const struct sigv4_hent *e = j->ctx->hent;
    size_t i, start = j->lo;
    int rc;
    for (i = 0; i < j->nh; i++) {
        if (i > 0 && e[i].name_len == e[i - 1].name_len && memcmp(e[i].name, e[i - 1].name, e[i].name_len) == 0)
            continue; /* repeated header: listed once */
        if ((i > 0 && (rc = sigv4_putc(j, ';')) != SIGV4_OK)
            || (rc = sigv4_put(j, e[i].name, e[i].name_len)) != SIGV4_OK)
            return rc;
    }
    return sigv4_finish(j, start, &j->res->signed_headers);
}

/* Part 1: the method, as given ("GET"). */
static int sigv4_canon_method(struct sigv4_job *j)
{
    int rc = sigv4_put(j, j->req->method.ptr, j->req->method.len);
    if (rc != SIGV4_OK)
        return rc;
    return sigv4_putc(j, '\n');
}

/* Dot-segment removal and slash collapsing, botocore's rules: split on '/',
 * drop empty segments (so "//" collapses) and ".", let ".." remove the
 * previous kept segment (never going above the root), rejoin with one '/',
 * and keep a trailing '/' if the path had one and anything is left.
 * "/example/.." -> "/", "//example//" -> "/example/", "/./example" ->
 * "/example". `p` starts with '/'; out has room for n + 2 bytes. */
static size_t sigv4_normalize_path(const char *p, size_t n, char *out)
{
    size_t i = 0, o = 0;
    for (;;) {
        size_t s, len;
        while (i < n && p[i] == '/')
            i++;
        s = i;
        while (i < n && p[i] != '/')
            i++;
        len = i - s;
        if (len == 0)
            break;
        if (len == 1 && p[s] == '.')
            continue;
        if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, p + s, len);
        o += len;
    }
    if (o == 0)
        out[o++] = '/';
    else if (p[n - 1] == '/')
        out[o++] = '/';
    return o;
}

/* Part 2: the canonical URI. With normalize_path, dot segments are removed
 * and slashes collapsed first (not for S3, whose keys may contain them).
 * Then every byte but unreserved ones and '/' is percent-encoded. The path
 * is taken as it is on the wire, i.e. already encoded once, so this encodes
 * it a second time ('%' becomes "%25"): that is what SigV4 asks for every
 * service but S3, and what botocore and aws-c-auth do. With SIGV4_RAW_PATH
 * (S3) the wire path is used as is. An empty path is "/". */
static int sigv4_canon_uri(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    const char *p = r->path.ptr;
    size_t n = r->path.len, saved_hi = j->hi;
    int rc;
    if (n == 0) {
        p = "/";
        n = 1;
    } else if (r->flags & SIGV4_NORMALIZE_PATH) {
        char *tmp = sigv4_scratch(j, n + 2);
        if (tmp == NULL)
            return SIGV4_E_BUFFER;
        n = sigv4_normalize_path(p, n, tmp);
        p = tmp;
    }
    if (r->flags & SIGV4_RAW_PATH)
        rc = sigv4_put(j, p, n);
    else
        rc = sigv4_put_encoded(j, p, n, 1);
    j->hi = saved_hi; /* drop the scratch copy */
    if (rc != SIGV4_OK)
        return rc;
    return sigv4_putc(j, '\n');
}

static int sigv4_qparam_cmp(const void *pa, const void *pb)
{
    const struct sigv4_qparam *a = pa, *b = pb;
    int c = sigv4_name_cmp(a->key, a->key_len, b->key, b->key_len);
    if (c != 0)
        return c;
    return sigv4_name_cmp(a->val, a->val_len, b->val, b->val_len);
}

static int sigv4_is_auth_param(const char *k, size_t n)
{
    static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                        "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (sigv4_is_name(k, n, names[i]))
            return 1;
    return 0;
}

/* Adds an auth parameter (raw value, encoded here). */
static int sigv4_add_auth_param(struct sigv4_job *j, size_t *np, const char *key, const char *val,
                                size_t vlen)
{
    struct sigv4_qparam *q = &j->ctx->qp[(*np)++];
    q->key = key;
    q->key_len = strlen(key); /* the names are all unreserved characters */
    return sigv4_scratch_encode(j, val, vlen, 0, &q->val, &q->val_len);
}

/* Part 3: the canonical query string. The query is split on '&' (empty
 * pieces skipped) and each piece at its first '='; keys and values are
 * percent-decoded then re-encoded (so "%E1%88%B4" and raw UTF-8 agree), a
 * parameter without '=' gets an empty value and keeps its '=' ("a="), and
 * the list is sorted by encoded key, then encoded value. Presigning adds
 * the X-Amz-* auth parameters (replacing any the input already had) and
 * sorts them in with the rest. */
static int sigv4_canon_query(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    struct sigv4_qparam *qp = j->ctx->qp;
    const char *q = r->query.ptr;
    size_t n = r->query.len, i = 0, np = 0, k, saved_hi = j->hi;
    int rc = SIGV4_OK;

    while (i < n) {
        size_t s = i, e, eq;
        while (i < n && q[i] != '&')
            i++;
        e = i++;
        if (e == s)
            continue;
        for (eq = s; eq < e && q[eq] != '='; eq++)
            ;
        if (np == SIGV4_MAX_QUERY_PARAMS) {
            rc = sigv4_fail(j, SIGV4_E_TOO_LARGE, "query", 0);
            goto cleanup;
        }
        if ((rc = sigv4_scratch_encode(j, q + s, eq - s, 1, &qp[np].key, &qp[np].key_len)) != SIGV4_OK)
            goto cleanup;
        if (eq < e) {
            rc = sigv4_scratch_encode(j, q + eq + 1, e - eq - 1, 1, &qp[np].val, &qp[np].val_len);
            if (rc != SIGV4_OK)
                goto cleanup;
        } else {
            qp[np].val = "";
            qp[np].val_len = 0;
        }
        /* verification: a presigned URL's signature is not part of what it signs */
        if (j->verify && sigv4_is_name(qp[np].key, qp[np].key_len, "X-Amz-Signature"))
            continue;
        if (j->presign && (sigv4_is_auth_param(qp[np].key, qp[np].key_len)
                           || ((j->token_signed || j->token_after)
                               && sigv4_is_name(qp[np].key, qp[np].key_len, "X-Amz-Security-Token"))))
            continue; /* replaced below */
        np++;
    }

    if (j->presign) {
        const sigv4_request *rq = j->req;
        const sigv4_result *res = j->res;
        char *cred, expires[24];
        size_t clen = rq->access_key.len + 1 + res->credential_scope.len, elen = 0;
        unsigned long ex = (unsigned long)rq->expires;
        cred = sigv4_scratch(j, clen);
        if (cred == NULL) {
            rc = SIGV4_E_BUFFER;
            goto cleanup;
        }
        memcpy(cred, rq->access_key.ptr, rq->access_key.len);
        cred[rq->access_key.len] = '/';
        memcpy(cred + rq->access_key.len + 1, res->credential_scope.ptr, res->credential_scope.len);
        do {
            expires[sizeof expires - 1 - elen++] = (char)('0' + ex % 10);
            ex /= 10;
        } while (ex != 0);
        if ((rc = sigv4_add_auth_param(j, &np, "X-Amz-Algorithm", SIGV4_LIT(SIGV4_ALGORITHM))) != SIGV4_OK
            || (rc = sigv4_add_auth_param(j, &np, "X-Amz-Credential", cred, clen)) != SIGV4_OK
            || (rc = sigv4_add_auth_param(j, &np, "X-Amz-Date", j->amz_date, 16)) != SIGV4_OK
            || (rc = sigv4_add_auth_param(j, &np, "X-Amz-Expires", expires + sizeof expires - elen, elen))
                   != SIGV4_OK
            || (rc = sigv4_add_auth_param(j, &np, "X-Amz-SignedHeaders", res->signed_headers.ptr,
                                          res->signed_headers.len)) != SIGV4_OK)
            goto cleanup;
        if (j->token_signed
            && (rc = sigv4_add_auth_param(j, &np, "X-Amz-Security-Token", rq->session_token.ptr,
                                          rq->session_token.len)) != SIGV4_OK)
            goto cleanup;
    }

    sigv4_sort(qp, np, sizeof qp[0], sigv4_qparam_cmp);

    j->cq_off = j->lo;
    for (k = 0; k < np; k++) {
        if ((k > 0 && (rc = sigv4_putc(j, '&')) != SIGV4_OK)
            || (rc = sigv4_put(j, qp[k].key, qp[k].key_len)) != SIGV4_OK
            || (rc = sigv4_putc(j, '=')) != SIGV4_OK
            || (rc = sigv4_put(j, qp[k].val, qp[k].val_len)) != SIGV4_OK)
            goto cleanup;
    }
    j->cq_len = j->lo - j->cq_off;
    rc = sigv4_putc(j, '\n');
cleanup:
    /* the encoded pieces are copied: drop them, wiping an encoded token */
    if (j->presign && j->token_signed)
        OPENSSL_cleanse(j->buf + j->hi, saved_hi - j->hi);
    j->hi = saved_hi;
    return rc;
}

/* A header value in canonical form: leading and trailing whitespace trimmed,
 * every inner run of spaces, tabs and line folds collapsed to one space.
 * Quoted strings get no exception (the suite's get-header-value-trim
 * expects "a   b   c" to become "a b c"). */
static int sigv4_put_value(struct sigv4_job *j, const char *v, size_t n)
{
    const unsigned char *p = (const unsigned char *)v, *end = p + n;
    char *o, *start;
    while (p < end && sigv4_is_hws(*p))
        p++;
    while (end > p && sigv4_is_hws(end[-1]))
        end--;
    if ((size_t)(end - p) > j->hi - j->lo) /* the collapsed value is never longer */
        return SIGV4_E_BUFFER;
    o = start = j->buf + j->lo;
    while (p < end) {
        unsigned char c;
        if (end - p >= 8 && !sigv4_has_less(sigv4_load8(p), 0x21)) {
            memcpy(o, p, 8); /* no whitespace among the next eight bytes */
            o += 8;
            p += 8;
            continue;
        }
        c = *p++;
        if (sigv4_is_hws(c)) {
            /* p < end here: the value's last byte is not whitespace */
            while (sigv4_is_hws(*p))
                p++;
            c = ' ';
        }
        *o++ = (char)c;
    }
    j->lo += (size_t)(o - start);
    return SIGV4_OK;
}

/* Part 4: the canonical headers, one "name:value\n" per distinct name in
 * sorted order; a repeated header's values are joined with ',' in the order
 * they were given (the sort is stable). Then the blank line. */
static int sigv4_canon_headers(struct sigv4_job *j)
{
    const struct sigv4_hent *e = j->ctx->hent;
    size_t i = 0;
    while (i < j->nh) {
        size_t k = i + 1;
        int rc;
        if ((rc = sigv4_put(j, e[i].name, e[i].name_len)) != SIGV4_OK || (rc = sigv4_putc(j, ':')) != SIGV4_OK
            || (rc = sigv4_put_value(j, e[i].value, e[i].value_len)) != SIGV4_OK)
            return rc;
        while (k < j->nh && e[k].name_len == e[i].name_len && memcmp(e[k].name, e[i].name, e[i].name_len) == 0) {
            if ((rc = sigv4_putc(j, ',')) != SIGV4_OK
                || (rc = sigv4_put_value(j, e[k].value, e[k].value_len)) != SIGV4_OK)
                return rc;
            k++;
        }
        if ((rc = sigv4_putc(j, '\n')) != SIGV4_OK)
            return rc;
        i = k;
    }
    return sigv4_putc(j, '\n');
}

/* Part 5: the signed headers list. */
static int sigv4_canon_signed_headers(struct sigv4_job *j)
{
    int rc = sigv4_put(j, j->res->signed_headers.ptr, j->res->signed_headers.len);
    if (rc != SIGV4_OK)
        return rc;
    return sigv4_putc(j, '\n');
}

/* Part 6: the payload hash (no newline after it). */
static int sigv4_canon_payload(struct sigv4_job *j)
{
    return sigv4_put(j, j->res->payload_hash.ptr, j->res->payload_hash.len);
}

/* ------------------------------------------------------------------------ */
/* 5. String to sign, signature, Authorization, presigned query, headers     */
/* ------------------------------------------------------------------------ */

static int sigv4_step_string_to_sign(struct sigv4_job *j)
{
    const sigv4_result *res = j->res;
    unsigned char h[32];
    size_t start = j->lo;
    int rc = sigv4_sha256(res->canonical_request.ptr, res->canonical_request.len, h);
    if (rc != SIGV4_OK)
        return rc;
    if ((rc = sigv4_put(j, SIGV4_LIT(SIGV4_ALGORITHM "\n"))) != SIGV4_OK
        || (rc = sigv4_put(j, j->amz_date, 16)) != SIGV4_OK || (rc = sigv4_putc(j, '\n')) != SIGV4_OK
        || (rc = sigv4_put(j, res->credential_scope.ptr, res->credential_scope.len)) != SIGV4_OK
        || (rc = sigv4_putc(j, '\n')) != SIGV4_OK || (rc = sigv4_put_hex(j, h, 32)) != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->string_to_sign);
}

static int sigv4_step_signature(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    struct sigv4_key_slot *slot = NULL;
    unsigned char mac[32];
    size_t start;
    int rc = sigv4_key_lookup(j->ctx, r->secret_key, j->amz_date, r->region, r->service, &slot);
    if (rc != SIGV4_OK)
        return rc;
    /* HMAC = H(key^opad || H(key^ipad || string to sign)), from the slot's states */
    rc = sigv4_hmac_finish(&slot->inner, &slot->outer, j->res->string_to_sign.ptr, j->res->string_to_sign.len,
                           mac);
    if (rc != SIGV4_OK)
        return rc;
    start = j->lo;
    if ((rc = sigv4_put_hex(j, mac, 32)) != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->signature);
}

/* "AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=a;b, Signature=hex" */
static int sigv4_step_authorization(struct sigv4_job *j)
{
    const sigv4_result *res = j->res;
    size_t start = j->lo;
    int rc;
    if ((rc = sigv4_put(j, SIGV4_LIT(SIGV4_ALGORITHM " Credential="))) != SIGV4_OK
        || (rc = sigv4_put(j, j->req->access_key.ptr, j->req->access_key.len)) != SIGV4_OK
        || (rc = sigv4_putc(j, '/')) != SIGV4_OK
        || (rc = sigv4_put(j, res->credential_scope.ptr, res->credential_scope.len)) != SIGV4_OK
        || (rc = sigv4_put(j, SIGV4_LIT(", SignedHeaders="))) != SIGV4_OK
        || (rc = sigv4_put(j, res->signed_headers.ptr, res->signed_headers.len)) != SIGV4_OK
        || (rc = sigv4_put(j, SIGV4_LIT(", Signature="))) != SIGV4_OK
        || (rc = sigv4_put(j, res->signature.ptr, res->signature.len)) != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->authorization);
}

/* The query to send with a presigned request: the canonical query (already
 * in wire form), then an unsigned X-Amz-Security-Token when the token is
 * omitted from signing, then X-Amz-Signature. */
static int sigv4_step_presigned_query(struct sigv4_job *j)
{
    size_t start = j->lo;
    int rc;
    /* the canonical query lies earlier in buf; copy it forward */
    if (j->cq_len > j->hi - j->lo)
        return SIGV4_E_BUFFER;
    memmove(j->buf + j->lo, j->buf + j->cq_off, j->cq_len);
    j->lo += j->cq_len;
    if (j->token_after
        && ((rc = sigv4_put(j, SIGV4_LIT("&X-Amz-Security-Token="))) != SIGV4_OK
            || (rc = sigv4_put_encoded(j, j->req->session_token.ptr, j->req->session_token.len, 0)) != SIGV4_OK))
        return rc;
    if ((rc = sigv4_put(j, SIGV4_LIT("&X-Amz-Signature="))) != SIGV4_OK
        || (rc = sigv4_put(j, j->res->signature.ptr, j->res->signature.len)) != SIGV4_OK)
        return rc;
    return sigv4_finish(j, start, &j->res->query);
}

static void sigv4_out(sigv4_out_header *o, const char *name, size_t nlen, const char *value, size_t vlen,
                      size_t src, int added)
{
    o->name = name;
    o->name_len = nlen;
    o->value = value;
    o->value_len = vlen;
    o->src = src;
    o->value_changed = 0;
    o->added = added;
}

/* The headers to send: the input's minus the replaced ones, values with line
 * folds unfolded (HTTP/1.1 forbids sending obs-fold; the signature is the
 * same since folds canonicalise to one space), then the added ones. */
static int sigv4_step_send_headers(struct sigv4_job *j)
{
    const sigv4_request *r = j->req;
    const sigv4_result *res = j->res;
    sigv4_out_header *out;
    size_t i, n = 0;
    out = sigv4_scratch_aligned(j, (r->nheaders + 4) * sizeof *out);
    if (out == NULL)
        return SIGV4_E_BUFFER;
    for (i = 0; i < r->nheaders; i++) {
        const sigv4_header *h = &r->headers[i];
        if (j->ctx->hflags[i] & SIGV4_H_DROP)
            continue;
        sigv4_out(&out[n], h->name, h->name_len, h->value, h->value_len, i, 0);
        if (j->ctx->hflags[i] & SIGV4_H_FOLD) {
            size_t k = 0, start = j->lo;
            int rc;
            while (k < h->value_len) {
                unsigned char c = (unsigned char)h->value[k];
                if (c == '\r' || c == '\n') {
                    k++;
                    while (k < h->value_len && (h->value[k] == '\n' || h->value[k] == ' ' || h->value[k] == '\t'))
                        k++;
                    c = ' ';
                } else {
                    k++;
                }
                if ((rc = sigv4_putc(j, (char)c)) != SIGV4_OK)
                    return rc;
            }
            if ((rc = sigv4_putc(j, '\0')) != SIGV4_OK)
                return rc;
            out[n].value = j->buf + start;
            out[n].value_len = j->lo - start - 1;
            out[n].value_changed = 1;
        }
        n++;
    }
    if (!j->presign) {
        sigv4_out(&out[n++], SIGV4_LIT("X-Amz-Date"), res->amz_date.ptr, res->amz_date.len, SIGV4_NO_SRC,
                  SIGV4_ADDED_DATE);
        if (j->token_signed || j->token_after)
            sigv4_out(&out[n++], SIGV4_LIT("X-Amz-Security-Token"), r->session_token.ptr, r->session_token.len,
                      SIGV4_NO_SRC, SIGV4_ADDED_TOKEN);
        if (j->content_header)
            sigv4_out(&out[n++], SIGV4_LIT("X-Amz-Content-Sha256"), res->payload_hash.ptr, res->payload_hash.len,
                      SIGV4_NO_SRC, SIGV4_ADDED_CONTENT_SHA256);
        sigv4_out(&out[n++], SIGV4_LIT("Authorization"), res->authorization.ptr, res->authorization.len,
                  SIGV4_NO_SRC, SIGV4_ADDED_AUTHORIZATION);
    }
    j->res->headers = out;
    j->res->nheaders = n;
    return SIGV4_OK;
}

/* ------------------------------------------------------------------------ */
/* 6. Entry points                                                           */
/* ------------------------------------------------------------------------ */

int sigv4_sign(sigv4_ctx *ctx, const sigv4_request *req, sigv4_result *res, char *buf, size_t cap)
{
    struct sigv4_job j;
    int rc;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (ctx == NULL || req == NULL || res == NULL || buf == NULL)
        return SIGV4_E_ARG;
    /* every field is set here (no memset: the two text buffers are written before use) */
    j.ctx = ctx;
    j.req = req;
    j.res = res;
    j.buf = buf;
    j.cap = cap;
    j.lo = 0;
    j.hi = cap;
    /* verification recomputes what a client signed: nothing is added, and
     * a presigned URL is verified with its X-Amz-* parameters as given */
    j.verify = req->signed_headers.ptr != NULL;
    j.presign = (req->flags & SIGV4_PRESIGN) != 0 && !j.verify;
    j.token_after = j.token_signed = 0;
    j.nh = j.creq_off = j.cq_off = j.cq_len = 0;
    if (req->session_token.len > 0 && !j.verify) {
        j.token_after = (req->flags & SIGV4_OMIT_SESSION_TOKEN) != 0;
        j.token_signed = !j.token_after;
    }
    /* the suite's query variant of sign_body only hashes the body */
    j.content_header = (req->flags & SIGV4_SIGN_BODY) && !j.presign && !j.verify;

    if ((rc = sigv4_check_request(&j)) != SIGV4_OK)
        goto cleanup;
    if ((rc = sigv4_step_date_scope(&j)) != SIGV4_OK)
        goto cleanup;
    if ((rc = sigv4_step_payload(&j)) != SIGV4_OK)
        goto cleanup;
    if ((rc = sigv4_step_collect_headers(&j)) != SIGV4_OK)
        goto cleanup;
    if ((rc = sigv4_step_signed_headers(&j)) != SIGV4_OK)
        goto cleanup;

    /* The canonical request, contiguous in buf:
     *   method \n uri \n query \n headers... \n signed-headers \n payload-hash */
    j.creq_off = j.lo;
    if ((rc = sigv4_canon_method(&j)) != SIGV4_OK || (rc = sigv4_canon_uri(&j)) != SIGV4_OK
        || (rc = sigv4_canon_query(&j)) != SIGV4_OK || (rc = sigv4_canon_headers(&j)) != SIGV4_OK
        || (rc = sigv4_canon_signed_headers(&j)) != SIGV4_OK || (rc = sigv4_canon_payload(&j)) != SIGV4_OK
        || (rc = sigv4_finish(&j, j.creq_off, &res->canonical_request)) != SIGV4_OK)
        goto cleanup;

    if ((rc = sigv4_step_string_to_sign(&j)) != SIGV4_OK || (rc = sigv4_step_signature(&j)) != SIGV4_OK)
        goto cleanup;
    if (!j.presign && (rc = sigv4_step_authorization(&j)) != SIGV4_OK)
        goto cleanup;
    if (j.presign && (rc = sigv4_step_presigned_query(&j)) != SIGV4_OK)
        goto cleanup;
    if (!j.verify && (rc = sigv4_step_send_headers(&j)) != SIGV4_OK)
        goto cleanup;
    res->buf_used = j.lo;

cleanup:
    if (rc != SIGV4_OK) {
        const char *field = res->err_field;
        size_t index = res->err_index;
        /* the partial output may hold the session token */
        OPENSSL_cleanse(buf, j.lo);
        OPENSSL_cleanse(buf + j.hi, cap - j.hi);
        memset(res, 0, sizeof *res);
        res->err_field = field;
        res->err_index = index;
    }
    return rc;
}

int sigv4_signing_key(sigv4_ctx *ctx, sigv4_str secret, const char date[8], sigv4_str region,
                      sigv4_str service, unsigned char key[32])
{
    struct sigv4_key_slot *slot = NULL;
    size_t i;
    int rc;
    if (ctx == NULL || date == NULL || key == NULL || !sigv4_str_ok(secret) || !sigv4_str_ok(region)
        || !sigv4_str_ok(service))
        return SIGV4_E_ARG;
    if (secret.len == 0)
        return SIGV4_E_SECRET_KEY;
    if (secret.len > SIGV4_MAX_SECRET || region.len > SIGV4_MAX_SCOPE_PART || service.len > SIGV4_MAX_SCOPE_PART)
        return SIGV4_E_TOO_LARGE;
    if (region.len == 0)
        return SIGV4_E_REGION;
    if (service.len == 0)
        return SIGV4_E_SERVICE;
    for (i = 0; i < 8; i++)
        if ((unsigned)(date[i] - '0') >= 10u)
            return SIGV4_E_AMZ_DATE;
    rc = sigv4_key_lookup(ctx, secret, date, region, service, &slot);
    if (rc == SIGV4_OK)
        memcpy(key, slot->key, 32);
    return rc;
}

void sigv4_cache_stats(const sigv4_ctx *ctx, unsigned long *hits, unsigned long *misses)
{
    if (hits != NULL)
        *hits = ctx != NULL ? ctx->hits : 0;
    if (misses != NULL)
        *misses = ctx != NULL ? ctx->misses : 0;
}

int sigv4_sha256_hex(const sigv4_ctx *ctx, const void *data, size_t len, char out[65])
{
    unsigned char h[32];
    int rc;
    if (ctx == NULL || out == NULL || (data == NULL && len > 0))
        return SIGV4_E_ARG;
    rc = sigv4_sha256(len ? data : "", len, h);
    if (rc != SIGV4_OK)
        return rc;
    sigv4_hex(out, h, 32);
    out[64] = '\0';
    return SIGV4_OK;
}

int sigv4_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return 0;
    if (alen == 0)
        return 1;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

static const char *const sigv4_messages[SIGV4_E__COUNT] = {
    "success",
    "invalid argument (NULL pointer)",
    "out of memory",
    "cryptographic operation failed",
    "output buffer too small",
    "input exceeds its size limit",
    "method must be a non-empty HTTP token",
    "path must start with '/' and contain no control characters, '?' or '#'",
    "query must contain no control characters or '#'",
    "header name must be a non-empty HTTP token",
    "header value contains a control character or a line break that is not a fold",
    "a Host header is required",
    "access key must be non-empty and made of A-Z a-z 0-9 - . _ ~",
    "secret key must be non-empty",
    "session token must be printable ASCII without spaces",
    "region must be non-empty and made of A-Z a-z 0-9 - _",
    "service must be non-empty and made of A-Z a-z 0-9 - _",
    "time must be between 1970 and 9999",
    "amz_date must look like 20150830T123600Z",
    "expires must be between 1 and 604800 seconds",
    "payload hash must be non-empty printable ASCII without spaces",
    "signed headers must be sorted, distinct lowercase names joined by ';'",
    "a signed header is missing from the request",
};

static const char *const sigv4_names[SIGV4_E__COUNT] = {
    "ok",
    "invalid_argument",
    "out_of_memory",
    "crypto_error",
    "buffer_too_small",
    "too_large",
    "invalid_method",
    "invalid_path",
    "invalid_query",
    "invalid_header_name",
    "invalid_header_value",
    "missing_host",
    "invalid_access_key",
    "invalid_secret_key",
    "invalid_session_token",
    "invalid_region",
    "invalid_service",
    "invalid_time",
    "invalid_amz_date",
    "invalid_expires",
    "invalid_payload_hash",
    "invalid_signed_headers",
    "missing_signed_header",
};

const char *sigv4_strerror(int status)
{
    if (status < 0 || status >= SIGV4_E__COUNT)
        return "unknown error";
    return sigv4_messages[status];
}

const char *sigv4_errname(int status)
{
    if (status < 0 || status >= SIGV4_E__COUNT)
        return "unknown";
    return sigv4_names[status];
}
