/* curl_engine.h - the libcurl transport of invite.core, in plain C (no Lua).
 *
 * C structs in, C structs out: a curl_engine_request describes one request, a finished transfer
 * gives a curl_engine_response (status, headers, body) or a curl_engine_error (kind, code,
 * message). src/http_binding.c turns Lua tables into these and back.
 *
 *   curl_engine_global_init();                      once per process, before any engine
 *   e = curl_engine_new(&opts, &err);               an engine: one curl multi handle
 *   x = curl_engine_perform(e, &req, &err);         blocking: returns the finished transfer
 *   x = curl_engine_start(e, &req, &err);           non-blocking: runs during perform/wait
 *   curl_engine_wait(e, timeout_ms);                until a started transfer has finished
 *   x = curl_engine_next_done(e);                   the finished started transfers, in order
 *   curl_engine_result(x, &res, &err);              what x got; valid until curl_engine_recycle
 *   curl_engine_recycle(e, x);                      every transfer handed out goes back
 *   curl_engine_free(e);
 *
 * Every transfer shares the engine's connection cache (keep-alive across perform and start).
 * The request is sent as given: curl's own Accept, Expect and form Content-Type headers are
 * suppressed, the path is not normalised (signatures cover the path as sent), the protocol is
 * HTTP/1.1 and only http:// and https:// URLs are accepted.
 *
 * max_body bounds each response body: a Content-Length over it is refused when the header block
 * ends, before any body byte is read; a chunked or close-delimited body is counted as it arrives
 * and refused at the first byte past the limit (fail CURL_ENGINE_FAIL_TOOBIG, code 23,
 * CURLE_WRITE_ERROR).
 *
 * Nothing here is thread-safe: one engine is used by one thread at a time.
 */
#ifndef INVITE_CURL_ENGINE_H
#define INVITE_CURL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define CURL_ENGINE_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define CURL_ENGINE_DEFAULT_TIMEOUT_MS 30000L
#define CURL_ENGINE_DEFAULT_MAX_CONNECTIONS 64L
/* Default cap of one response body. The AWS APIs this transport serves answer in kilobytes (a
 * page of 50 invitations is about 10 KB), and every transfer in flight may buffer up to the cap:
 * 1 MiB keeps a sweep at concurrency 64 within 64 MiB of bodies. Clients set it with the option
 * max_body_bytes (invite.client), passed to the binding as max_body. */
#define CURL_ENGINE_DEFAULT_MAX_BODY ((size_t)1024 * 1024)
#define CURL_ENGINE_MAX_MS 2147483647L                    /* timeouts are passed to curl as long */
#define CURL_ENGINE_MAX_CONNECTIONS_LIMIT 100000L
#define CURL_ENGINE_MAX_HEADER_BYTES ((size_t)1024 * 1024) /* all response header records together */
#define CURL_ENGINE_MESSAGE_SIZE 256                      /* CURL_ERROR_SIZE */
/* curl_engine_request.max_body: the engine's own max_body (curl_engine_options) */
#define CURL_ENGINE_INHERIT ((size_t)-1)

typedef struct curl_engine curl_engine;
typedef struct curl_engine_xfer curl_engine_xfer;

/* A growable byte buffer (zeroed: empty). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} curl_engine_buf;

/* A header: request headers (name and value as sent) and response headers (name lower-cased,
 * value trimmed). Not NUL-terminated. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} curl_engine_header;

/* The methods, in the order curl_engine_method_names lists them. */
enum { CURL_ENGINE_GET, CURL_ENGINE_POST, CURL_ENGINE_PUT, CURL_ENGINE_DELETE, CURL_ENGINE_HEAD,
       CURL_ENGINE_METHODS };

typedef struct {
    int verify;                  /* check the server's certificate and name */
    const char *ca_bundle;       /* NULL, or a NUL-terminated path (copied) */
    long connect_timeout_ms;     /* 0 .. CURL_ENGINE_MAX_MS */
    long timeout_ms;             /* default of each request; 0 .. CURL_ENGINE_MAX_MS */
    long max_connections;        /* 1 .. CURL_ENGINE_MAX_CONNECTIONS_LIMIT */
    size_t max_body;             /* default of each request */
} curl_engine_options;

/* One request. Every header must have passed curl_engine_check_header. The strings are read
 * during curl_engine_start (which copies what it keeps) or for the whole of curl_engine_perform
 * (which uses the body in place). */
typedef struct {
    int method;                  /* CURL_ENGINE_GET ... CURL_ENGINE_HEAD */
    const char *url;             /* NUL-terminated */
    const curl_engine_header *headers;
    size_t nheaders;
    const char *body;            /* NULL: no body (HEAD ignores any) */
    size_t body_len;
    long timeout_ms;             /* -1: the engine's; else 0 .. CURL_ENGINE_MAX_MS */
    size_t max_body;             /* CURL_ENGINE_INHERIT: the engine's */
} curl_engine_request;

/* A finished transfer's response; the pointers are valid until curl_engine_recycle. */
typedef struct {
    long status;
    const curl_engine_header *headers; /* of the final response (not of a 1xx one) */
    size_t nheaders;
    const char *body;            /* never NULL */
    size_t body_len;
} curl_engine_response;

/* What went wrong. kind says what a caller may do about it; fail tells a failure the engine
 * found (the limits, memory, the multi handle) from one of curl's transfer results. */
enum { CURL_ENGINE_KIND_OTHER, CURL_ENGINE_KIND_TIMEOUT, CURL_ENGINE_KIND_CONNECT, CURL_ENGINE_KIND_TLS,
       CURL_ENGINE_KIND_RESET, CURL_ENGINE_KIND_DNS };
enum { CURL_ENGINE_FAIL_NONE, CURL_ENGINE_FAIL_TOOBIG, CURL_ENGINE_FAIL_HEADERS, CURL_ENGINE_FAIL_NOMEM,
       CURL_ENGINE_FAIL_MULTI };

typedef struct {
    int kind;                    /* CURL_ENGINE_KIND_* */
    int fail;                    /* CURL_ENGINE_FAIL_* */
    long code;                   /* CURLcode, or CURLMcode for the multi handle's failures */
    size_t limit;                /* CURL_ENGINE_FAIL_TOOBIG: the body limit that was exceeded */
    char message[CURL_ENGINE_MESSAGE_SIZE]; /* one line, no trailing CR/LF */
} curl_engine_error;

/* Once per process, before the first curl_engine_new (libcurl's global state). Returns 1 when
 * libcurl is usable; later calls return the first call's answer. */
int curl_engine_global_init(void);

/* A new engine, or NULL with err filled in (out of memory, libcurl not initialised). */
curl_engine *curl_engine_new(const curl_engine_options *o, curl_engine_error *err);
/* Frees the engine and every transfer, abandoning those in flight. NULL is fine. */
void curl_engine_free(curl_engine *e);

/* Runs r to completion; the transfers started before make progress meanwhile. Returns the
 * finished transfer, or NULL with err filled in when it could not be set up. */
curl_engine_xfer *curl_engine_perform(curl_engine *e, const curl_engine_request *r, curl_engine_error *err);
/* Adds r to the transfers in flight (the body is copied). Returns the transfer (see
 * curl_engine_xfer_id), or NULL with err filled in. */
curl_engine_xfer *curl_engine_start(curl_engine *e, const curl_engine_request *r, curl_engine_error *err);
/* Drives the started transfers until one has finished (at once when one already has), none is
 * in flight, or timeout_ms (< 0: no limit; 0: one round) has passed. */
void curl_engine_wait(curl_engine *e, long timeout_ms);
/* The next finished started transfer (in the order they finished), or NULL. */
curl_engine_xfer *curl_engine_next_done(curl_engine *e);
/* Started transfers not yet given back with curl_engine_recycle. */
size_t curl_engine_pending(const curl_engine *e);

/* The number of x: 1, 2, ... in the order of perform and start calls on its engine. */
long long curl_engine_xfer_id(const curl_engine_xfer *x);
/* What finished transfer x got: 1 with res filled in, or 0 with err filled in. */
int curl_engine_result(curl_engine_xfer *x, curl_engine_response *res, curl_engine_error *err);
/* Gives a transfer from perform or next_done back to the engine (invalidating its result). */
void curl_engine_recycle(curl_engine *e, curl_engine_xfer *x);

/* The kind's name: "other", "timeout", "connect", "tls", "reset" or "dns". */
const char *curl_engine_kind_name(int kind);
/* CURL_ENGINE_METHODS names, by method: "GET", "POST", "PUT", "DELETE", "HEAD". */
extern const char *const curl_engine_method_names[CURL_ENGINE_METHODS];
/* 1 when ch is an RFC 9110 token character (tchar). */
int curl_engine_is_tchar(unsigned char ch);
/* Why a request header cannot be sent (the engine does not check again). */
enum { CURL_ENGINE_HEADER_OK, CURL_ENGINE_HEADER_EMPTY_NAME, CURL_ENGINE_HEADER_BAD_NAME,
       CURL_ENGINE_HEADER_BAD_VALUE, CURL_ENGINE_HEADER_TOO_LONG };
int curl_engine_check_header(const curl_engine_header *h);

/* The response-header parser behind libcurl's header callback, public for
 * fuzz/fuzz_http_header.c. It keeps the final response's headers as records
 * [size_t name_len][size_t value_len][name][value] in recs (names lower-cased, values trimmed,
 * obs-fold continuation lines joined with one space), at most CURL_ENGINE_MAX_HEADER_BYTES in
 * all, and refuses a declared Content-Length over max_body when the header block ends. */
typedef struct {
    curl_engine_buf recs;        /* the records */
    size_t nheaders;
    size_t last_rec;             /* offset of the last record, or CURL_ENGINE_NO_RECORD */
    uint64_t content_length;     /* CURL_ENGINE_NO_LENGTH when absent (or past 64 bits) */
    size_t max_body;
    long status;                 /* status code of the response whose headers are arriving */
    int nobody;                  /* HEAD: the response has no body whatever its headers say */
    int fail;                    /* CURL_ENGINE_FAIL_*, set when a line is refused */
} curl_engine_head;

#define CURL_ENGINE_NO_RECORD ((size_t)-1)
#define CURL_ENGINE_NO_LENGTH UINT64_MAX

/* Empties h for a new transfer, keeping its memory (a zeroed h is a valid empty one too). */
void curl_engine_head_reset(curl_engine_head *h, size_t max_body, int nobody);
void curl_engine_head_free(curl_engine_head *h);
/* One header line as libcurl delivers it (with its CR LF). Returns 1, or 0 with h->fail set
 * when the transfer must stop. */
int curl_engine_head_line(curl_engine_head *h, const char *p, size_t len);
/* The record at *off (0 for the first) into out, moving *off past it; 0 after the last one. */
int curl_engine_head_next(const curl_engine_head *h, size_t *off, curl_engine_header *out);

#endif
