/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing.
 *
 * Pure C over OpenSSL 3 libcrypto (its SHA-256): no Lua, no I/O, no globals.
 * Buffers in, buffers out. A sigv4_ctx holds a small cache of derived signing
 * keys (with their HMAC starting states) and scratch arrays; use one context
 * per thread (it is not locked).
 *
 *   sigv4_ctx *ctx = sigv4_ctx_new();
 *   sigv4_request req = {0};  ...fill in...
 *   sigv4_result res;
 *   char buf[8192];
 *   int rc = sigv4_sign(ctx, &req, &res, buf, sizeof buf);
 *   if (rc == SIGV4_E_BUFFER) ...retry with a larger buf...
 *   else if (rc != SIGV4_OK) ...sigv4_strerror(rc), res.err_field, res.err_index...
 *   sigv4_ctx_free(ctx);
 *
 * Every string in the result points into `buf` (NUL-terminated) or into the
 * request's own memory (unchanged header names and values), so the result is
 * valid while both live and `buf` is not reused.
 */
#ifndef INVITE_SIGV4_H
#define INVITE_SIGV4_H

#include <stddef.h>
#include <stdint.h>

/* Size limits. Larger inputs are refused with SIGV4_E_TOO_LARGE (never
 * truncated); they keep every internal size computation far from overflow. */
#define SIGV4_MAX_METHOD 32
#define SIGV4_MAX_PATH 32768
#define SIGV4_MAX_QUERY 65536
#define SIGV4_MAX_QUERY_PARAMS 512
#define SIGV4_MAX_HEADERS 256
#define SIGV4_MAX_HEADER_NAME 256
#define SIGV4_MAX_HEADER_VALUE 65536
#define SIGV4_MAX_HEADER_BYTES 262144 /* sum of all names and values */
#define SIGV4_MAX_ACCESS_KEY 128
#define SIGV4_MAX_SECRET 256
#define SIGV4_MAX_TOKEN 32768
#define SIGV4_MAX_SCOPE_PART 64       /* region, service */
#define SIGV4_MAX_PAYLOAD_HASH 128
#define SIGV4_MAX_EXPIRES 604800L     /* 7 days, the AWS maximum for presigned URLs */
#define SIGV4_MAX_TIME 253402300799LL /* 9999-12-31T23:59:59Z */

/* sigv4_request.flags */
#define SIGV4_NORMALIZE_PATH 0x01u     /* remove . and .. segments, collapse // (not for S3) */
#define SIGV4_PRESIGN 0x02u            /* signature in the query string, not a header */
#define SIGV4_OMIT_SESSION_TOKEN 0x04u /* sign without the token, then add it unsigned */
#define SIGV4_SIGN_BODY 0x08u          /* add and sign x-amz-content-sha256 (header signing) */
#define SIGV4_RAW_PATH 0x10u           /* path is already encoded once (S3): do not encode it again */

typedef enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_E_ARG,              /* NULL context/request/result/buffer */
    SIGV4_E_NOMEM,            /* allocation failed */
    SIGV4_E_CRYPTO,           /* an OpenSSL call failed */
    SIGV4_E_BUFFER,           /* the output buffer is too small: retry with a larger one */
    SIGV4_E_TOO_LARGE,        /* an input exceeds its size limit (see err_field) */
    SIGV4_E_METHOD,           /* empty, or not an HTTP token */
    SIGV4_E_PATH,             /* not starting with '/', or has a control character, '?' or '#' */
    SIGV4_E_QUERY,            /* has a control character or '#' */
    SIGV4_E_HEADER_NAME,      /* empty, or not an HTTP token */
    SIGV4_E_HEADER_VALUE,     /* has NUL/control characters or a line break that is not a fold */
    SIGV4_E_NO_HOST,          /* no Host header to sign */
    SIGV4_E_ACCESS_KEY,       /* empty, or not made of A-Z a-z 0-9 - . _ ~ */
    SIGV4_E_SECRET_KEY,       /* empty */
    SIGV4_E_SESSION_TOKEN,    /* has characters outside printable ASCII (no spaces) */
    SIGV4_E_REGION,           /* empty, or not made of A-Z a-z 0-9 - _ */
    SIGV4_E_SERVICE,          /* empty, or not made of A-Z a-z 0-9 - _ */
    SIGV4_E_TIME,             /* before 1970 or after 9999 */
    SIGV4_E_AMZ_DATE,         /* not YYYYMMDDTHHMMSSZ */
    SIGV4_E_EXPIRES,          /* presign: not in 1..604800 */
    SIGV4_E_PAYLOAD_HASH,     /* empty, or has spaces/control characters */
    SIGV4_E_SIGNED_HEADERS,   /* verification list: not sorted, unique, lowercase names joined by ';' */
    SIGV4_E_SIGNED_HEADER_MISSING, /* verification list names a header the request lacks */
    SIGV4_E__COUNT
} sigv4_status;

typedef struct sigv4_str {
    const char *ptr; /* may be NULL when len is 0 */
    size_t len;
} sigv4_str;

typedef struct sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sigv4_header;

typedef struct sigv4_request {
    sigv4_str method;         /* "GET", "POST", ... used as given */
    sigv4_str path;           /* as on the wire, e.g. "/invitation/decline"; empty means "/" */
    sigv4_str query;          /* as on the wire, without the '?'; may be empty */
    const sigv4_header *headers;
    size_t nheaders;
    sigv4_str body;           /* hashed into the canonical request */
    sigv4_str payload_hash;   /* optional: use this instead of hashing body ("UNSIGNED-PAYLOAD") */
    sigv4_str access_key;
    sigv4_str secret_key;
    sigv4_str session_token;  /* optional */
    sigv4_str region;
    sigv4_str service;
    int64_t time;             /* seconds since the epoch (UTC); ignored when amz_date is set */
    sigv4_str amz_date;       /* optional "YYYYMMDDTHHMMSSZ" instead of time */
    long expires;             /* presign: X-Amz-Expires, 1..604800 */
    unsigned flags;           /* SIGV4_* flags above */
    /* Verification mode (recomputing the signature of a received request):
     * when set, exactly these headers are signed, taken from `headers`, and
     * nothing is added, dropped or skipped. Sorted lowercase names joined by
     * ';', as in the SignedHeaders= part of an Authorization header. */
    sigv4_str signed_headers;
} sigv4_request;

#define SIGV4_NO_SRC ((size_t)-1)

typedef struct sigv4_out_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
    size_t src;        /* index of the request header it comes from, or SIGV4_NO_SRC if added */
    int value_changed; /* 1 when the value is not the input's (folded lines were unfolded) */
    int added;         /* SIGV4_ADDED_* for the headers the signer adds, else 0 */
} sigv4_out_header;

/* sigv4_out_header.added */
#define SIGV4_ADDED_DATE 1           /* X-Amz-Date: result.amz_date */
#define SIGV4_ADDED_TOKEN 2          /* X-Amz-Security-Token: request.session_token */
#define SIGV4_ADDED_CONTENT_SHA256 3 /* X-Amz-Content-Sha256: result.payload_hash */
#define SIGV4_ADDED_AUTHORIZATION 4  /* Authorization: result.authorization */

typedef struct sigv4_result {
    sigv4_str amz_date;          /* "20150830T123600Z" */
    sigv4_str credential_scope;  /* "20150830/us-east-1/service/aws4_request" */
    sigv4_str signed_headers;    /* "host;x-amz-date" */
    sigv4_str payload_hash;      /* hex SHA-256 of the body, or the given payload_hash */
    sigv4_str canonical_request;
    sigv4_str string_to_sign;
    sigv4_str signature;         /* 64 lowercase hex digits */
    sigv4_str authorization;     /* Authorization header value (empty when presigning) */
    sigv4_str query;             /* presigning: the query string to send (empty otherwise) */
    /* The headers to send, in order: the request's (minus replaced ones),
     * then X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256 and
     * Authorization as they apply. Empty in verification mode. */
    const sigv4_out_header *headers;
    size_t nheaders;
    /* On failure: which input was at fault ("path", "headers", ...), and for
     * headers the 1-based index of the header (0 when not applicable). Never
     * secret material. */
    const char *err_field;
    size_t err_index;
    /* Bytes used at the start of buf. They hold the session token when one
     * was given (canonical request, presigned query): wipe them after use. */
    size_t buf_used;
} sigv4_result;

typedef struct sigv4_ctx sigv4_ctx;

/* NULL when memory is short. */
sigv4_ctx *sigv4_ctx_new(void);
/* Wipes the cached keys and frees. NULL is fine. */
void sigv4_ctx_free(sigv4_ctx *ctx);

/* Signs `req`; see the top of this file. Returns a sigv4_status. */
int sigv4_sign(sigv4_ctx *ctx, const sigv4_request *req, sigv4_result *res, char *buf, size_t cap);

/* The derived signing key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
 * service), "aws4_request") for date "YYYYMMDD", through the cache. */
int sigv4_signing_key(sigv4_ctx *ctx, sigv4_str secret, const char date[8], sigv4_str region,
                      sigv4_str service, unsigned char key[32]);

/* Cache counters (for tests and benchmarks). */
void sigv4_cache_stats(const sigv4_ctx *ctx, unsigned long *hits, unsigned long *misses);

/* hex SHA-256 of data: 64 lowercase hex digits and a NUL. */
int sigv4_sha256_hex(const sigv4_ctx *ctx, const void *data, size_t len, char out[65]);

/* 1 when equal, 0 otherwise; time independent of the content for equal lengths. */
int sigv4_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A fixed English sentence for a status; never contains input data. */
const char *sigv4_strerror(int status);
/* A short stable name for a status, e.g. "invalid_path". */
const char *sigv4_errname(int status);

#endif
