/* sigv4_test.c - C-level unit test of src/sigv4.c, printing TAP.
 * Built with ASan+UBSan by `make build/test/sigv4_test`. A few cases of the
 * official suite inline (header and query variants), the signing key, the
 * key cache, every error path that input can reach, and output buffers of
 * every size up to the one needed (never truncated, never overrun). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

static int test_no = 0, failures = 0;

static void ok(int cond, const char *fmt, const char *arg)
{
    test_no++;
    if (!cond)
        failures++;
    printf("%sok %d - ", cond ? "" : "not ", test_no);
    printf(fmt, arg ? arg : "");
    printf("\n");
}

#define S(lit) ((sigv4_str){(lit), sizeof(lit) - 1})
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
#define T20150830 1440938160

static const sigv4_header HOST[] = {{"Host", 4, "example.amazonaws.com", 21}};

static sigv4_request base_request(void)
{
    sigv4_request r;
    memset(&r, 0, sizeof r);
    r.method = S("GET");
    r.path = S("/");
    r.headers = HOST;
    r.nheaders = 1;
    r.access_key = S("AKIDEXAMPLE");
    r.secret_key = S(SECRET);
    r.region = S("us-east-1");
    r.service = S("service");
    r.time = T20150830;
    r.expires = 3600;
    r.flags = SIGV4_NORMALIZE_PATH;
    return r;
}

static int str_is(sigv4_str s, const char *want)
{
    return s.ptr != NULL && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0 && s.ptr[s.len] == '\0';
}

static char buf[16384];

struct suite_case {
    const char *name;
    const char *method, *path, *query, *body;
    sigv4_header headers[4];
    size_t nheaders;
    unsigned flags;
    const char *token;
    const char *header_sig, *query_sig;
    const char *header_creq; /* optional: full canonical request of the header variant */
};

static const struct suite_case cases[] = {
    {"get-vanilla", "GET", "/", "", "", {{"Host", 4, "example.amazonaws.com", 21}}, 1, SIGV4_NORMALIZE_PATH, NULL,
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d",
     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"get-vanilla-query-order-encoded", "GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "",
     {{"Host", 4, "example.amazonaws.com", 21}}, 1, SIGV4_NORMALIZE_PATH, NULL,
     "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
     "c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787",
     "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"post-x-www-form-urlencoded", "POST", "/", "", "Param1=value1",
     {{"Content-Type", 12, "application/x-www-form-urlencoded", 33}, {"Host", 4, "example.amazonaws.com", 21},
      {"Content-Length", 14, "13", 2}},
     3, SIGV4_NORMALIZE_PATH | SIGV4_SIGN_BODY, NULL,
     "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
     "89a40deed0f26f9461242825a082d2222717248abc7ab41f552ad84a94ad46e9", NULL},
    {"get-header-value-multiline", "GET", "/", "", "",
     {{"Host", 4, "example.amazonaws.com", 21}, {"My-Header1", 10, "value1\n  value2\n     value3", 27}}, 2,
     SIGV4_NORMALIZE_PATH, NULL, "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
     "e6f5def831211aca02987a44b96826706278c7bc078112ae0263659c5b2f2d56",
     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1 value2 value3\nx-amz-date:20150830T123600Z\n\n"
     "host;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"get-header-key-duplicate", "GET", "/", "", "",
     {{"Host", 4, "example.amazonaws.com", 21}, {"My-Header1", 10, "value2", 6}, {"My-Header1", 10, "value2", 6},
      {"My-Header1", 10, "value1", 6}},
     4, SIGV4_NORMALIZE_PATH, NULL, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
     "3349ee0b81b4b589da0ff28a395c3591e04de515651dd74f298fa992d1507a97", NULL},
    {"get-slashes-normalized", "GET", "//example//", "", "", {{"Host", 4, "example.amazonaws.com", 21}}, 1,
     SIGV4_NORMALIZE_PATH, NULL, "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
     "c1834e8fb0307243711f0f907f6ab7311ed300d87f13792d7ee4da89ab93e082", NULL},
    {"get-relative-relative-unnormalized", "GET", "/example1/example2/../..", "", "",
     {{"Host", 4, "example.amazonaws.com", 21}}, 1, 0, NULL,
     "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b",
     "b45db0bfd1cf15003493b733e33aa208dd981bd0e63037a6ed953f71d2118a16", NULL},
    {"get-utf8", "GET", "/\xe1\x88\xb4", "", "", {{"Host", 4, "example.amazonaws.com", 21}}, 1,
     SIGV4_NORMALIZE_PATH, NULL, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
     "10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44", NULL},
    {"post-sts-header-after", "POST", "/", "", "", {{"Host", 4, "example.amazonaws.com", 21}}, 1,
     SIGV4_NORMALIZE_PATH | SIGV4_OMIT_SESSION_TOKEN, TOKEN,
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
     "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b", NULL},
};

static sigv4_request case_request(const struct suite_case *c, int presign)
{
    sigv4_request r = base_request();
    r.method.ptr = c->method;
    r.method.len = strlen(c->method);
    r.path.ptr = c->path;
    r.path.len = strlen(c->path);
    r.query.ptr = c->query;
    r.query.len = strlen(c->query);
    r.body.ptr = c->body;
    r.body.len = strlen(c->body);
    r.headers = c->headers;
    r.nheaders = c->nheaders;
    r.flags = c->flags | (presign ? SIGV4_PRESIGN : 0u);
    if (c->token != NULL) {
        r.session_token.ptr = c->token;
        r.session_token.len = strlen(c->token);
    }
    return r;
}

static void test_suite_cases(sigv4_ctx *ctx)
{
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct suite_case *c = &cases[i];
        sigv4_result res;
        sigv4_request r = case_request(c, 0);
        int rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
        ok(rc == SIGV4_OK && str_is(res.signature, c->header_sig), "suite %s: header signature", c->name);
        if (c->header_creq != NULL)
            ok(rc == SIGV4_OK && str_is(res.canonical_request, c->header_creq), "suite %s: canonical request",
               c->name);
        r = case_request(c, 1);
        rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
        ok(rc == SIGV4_OK && str_is(res.signature, c->query_sig), "suite %s: query signature", c->name);
    }
}

static void test_outputs(sigv4_ctx *ctx)
{
    sigv4_request r = base_request();
    sigv4_result res;
    int rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    ok(rc == SIGV4_OK && str_is(res.string_to_sign, "AWS4-HMAC-SHA256\n20150830T123600Z\n"
                                                    "20150830/us-east-1/service/aws4_request\n"
                                                    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       "string to sign of get-vanilla", NULL);
    ok(rc == SIGV4_OK && str_is(res.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                                   "aws4_request, SignedHeaders=host;x-amz-date, Signature="
                                                   "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
       "Authorization of get-vanilla", NULL);
    ok(rc == SIGV4_OK && res.nheaders == 3 && res.headers[0].src == 0 && res.headers[1].src == SIGV4_NO_SRC
           && res.headers[1].name_len == 10 && memcmp(res.headers[1].name, "X-Amz-Date", 10) == 0
           && res.headers[2].value == res.authorization.ptr,
       "headers to send: Host, X-Amz-Date, Authorization", NULL);
    ok(rc == SIGV4_OK && str_is(res.credential_scope, "20150830/us-east-1/service/aws4_request")
           && str_is(res.amz_date, "20150830T123600Z") && str_is(res.signed_headers, "host;x-amz-date")
           && res.query.len == 0,
       "scope, date, signed headers", NULL);

    /* presigned with a signed token: the token is in the canonical query */
    r.session_token = S(TOKEN);
    r.flags |= SIGV4_PRESIGN;
    rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    ok(rc == SIGV4_OK && strstr(res.canonical_request.ptr, "&X-Amz-Security-Token=AQoDYXdzEPT%2F%2F") != NULL
           && strstr(res.query.ptr, "&X-Amz-Signature=") != NULL && res.nheaders == 1 && res.authorization.len == 0,
       "presigned: token in the canonical query, signature appended", NULL);
}

static void test_signing_key(sigv4_ctx *ctx)
{
    static const unsigned char want[32] = {0xc4, 0xaf, 0xb1, 0xcc, 0x57, 0x71, 0xd8, 0x71, 0x76, 0x3a, 0x39,
                                           0x3e, 0x44, 0xb7, 0x03, 0x57, 0x1b, 0x55, 0xcc, 0x28, 0x42, 0x4d,
                                           0x1a, 0x5e, 0x86, 0xda, 0x6e, 0xd3, 0xc1, 0x54, 0xa4, 0xb9};
    unsigned char k[6][32], again[32];
    unsigned long h0, m0, h1, m1;
    int rc, distinct = 1, i, j;
    rc = sigv4_signing_key(ctx, S(SECRET), "20150830", S("us-east-1"), S("iam"), k[0]);
    ok(rc == SIGV4_OK && memcmp(k[0], want, 32) == 0, "signing key of the AWS documentation example", NULL);

    sigv4_cache_stats(ctx, &h0, &m0);
    rc = sigv4_signing_key(ctx, S(SECRET), "20150830", S("us-east-1"), S("iam"), again);
    sigv4_cache_stats(ctx, &h1, &m1);
    ok(rc == SIGV4_OK && memcmp(again, want, 32) == 0 && h1 == h0 + 1 && m1 == m0, "second lookup is a cache hit",
       NULL);

    /* each part of the key's identity changes the key */
    rc = sigv4_signing_key(ctx, S(SECRET "x"), "20150830", S("us-east-1"), S("iam"), k[1]);
    rc |= sigv4_signing_key(ctx, S("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"), "20150830", S("us-east-1"), S("iam"),
                            k[2]);
    rc |= sigv4_signing_key(ctx, S(SECRET), "20150831", S("us-east-1"), S("iam"), k[3]);
    rc |= sigv4_signing_key(ctx, S(SECRET), "20150830", S("us-east-2"), S("iam"), k[4]);
    rc |= sigv4_signing_key(ctx, S(SECRET), "20150830", S("us-east-1"), S("sts"), k[5]);
    for (i = 0; i < 6; i++)
        for (j = i + 1; j < 6; j++)
            if (memcmp(k[i], k[j], 32) == 0)
                distinct = 0;
    ok(rc == SIGV4_OK && distinct, "secret, date, region and service each give a different key", NULL);

    /* six keys went through four slots: the first was evicted; derive it again */
    sigv4_cache_stats(ctx, &h0, &m0);
    rc = sigv4_signing_key(ctx, S(SECRET), "20150830", S("us-east-1"), S("iam"), again);
    sigv4_cache_stats(ctx, &h1, &m1);
    ok(rc == SIGV4_OK && memcmp(again, want, 32) == 0 && m1 == m0 + 1, "an evicted key is derived again, equal",
       NULL);
    rc = sigv4_signing_key(ctx, S(SECRET), "2015083x", S("us-east-1"), S("iam"), again);
    ok(rc == SIGV4_E_AMZ_DATE, "signing key refuses a bad date", NULL);
}

/* Every capacity below the one needed fails with SIGV4_E_BUFFER; each buffer
 * is malloc'd to its exact size so ASan sees any write past it. The partial
 * output is wiped, so a session token does not linger. */
static void test_buffer_sizes(sigv4_ctx *ctx)
{
    sigv4_request r = case_request(&cases[2], 0); /* post-x-www-form-urlencoded: sign_body */
    sigv4_result res;
    size_t cap, need = 0;
    int all_buffer = 1, leaked = 0, rc;
    r.session_token = S("TOKEN-THAT-MUST-BE-WIPED");
    r.query = S("b=%E1%88%B4&a=1");
    for (cap = 0; cap < 4096 && need == 0; cap++) {
        char *b = malloc(cap ? cap : 1);
        if (b == NULL)
            break;
        rc = sigv4_sign(ctx, &r, &res, b, cap);
        if (rc == SIGV4_OK)
            need = cap;
        else if (rc != SIGV4_E_BUFFER)
            all_buffer = 0;
        else if (cap >= 24) {
            size_t i;
            for (i = 0; i + 24 <= cap; i++)
                if (memcmp(b + i, "TOKEN-THAT-MUST-BE-WIPED", 24) == 0)
                    leaked = 1;
        }
        free(b);
    }
    ok(need > 0 && all_buffer, "every buffer too small gives SIGV4_E_BUFFER, never a truncated result", NULL);
    ok(!leaked, "a failed call leaves no session token in the buffer", NULL);
    rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    ok(rc == SIGV4_OK && res.buf_used > 0 && res.buf_used <= need, "buf_used is within the needed size", NULL);
}

static void test_errors(sigv4_ctx *ctx)
{
    struct {
        const char *what;
        int want;
        const char *field;
    } expect[] = {
        {"relative path", SIGV4_E_PATH, "path"},
        {"'?' in the path", SIGV4_E_PATH, "path"},
        {"CR LF in a header value", SIGV4_E_HEADER_VALUE, "headers"},
        {"bare LF in a header value", SIGV4_E_HEADER_VALUE, "headers"},
        {"space in a header name", SIGV4_E_HEADER_NAME, "headers"},
        {"no Host", SIGV4_E_NO_HOST, "headers"},
        {"too many headers", SIGV4_E_TOO_LARGE, "headers"},
        {"secret too long", SIGV4_E_TOO_LARGE, "secret_key"},
        {"token with a space", SIGV4_E_SESSION_TOKEN, "session_token"},
        {"time before 1970", SIGV4_E_TIME, "time"},
        {"presign expires 0", SIGV4_E_EXPIRES, "expires"},
        {"method with a space", SIGV4_E_METHOD, "method"},
        {"too many query parameters", SIGV4_E_TOO_LARGE, "query"},
        {"path over the limit", SIGV4_E_TOO_LARGE, "path"},
        {"signed header list not sorted", SIGV4_E_SIGNED_HEADERS, "signed_headers"},
        {"signed header missing", SIGV4_E_SIGNED_HEADER_MISSING, "signed_headers"},
        {"NULL pointer with a length", SIGV4_E_ARG, "request"},
    };
    static sigv4_header many[SIGV4_MAX_HEADERS + 1];
    static char longbuf[SIGV4_MAX_PATH + 2];
    static char query[4 * (SIGV4_MAX_QUERY_PARAMS + 1) + 1];
    sigv4_header crlf[2] = {{"Host", 4, "h", 1}, {"X-A", 3, "v\r\nX-B: 1", 9}};
    sigv4_header lf[2] = {{"Host", 4, "h", 1}, {"X-A", 3, "v\nx", 3}};
    sigv4_header badname[2] = {{"Host", 4, "h", 1}, {"X A", 3, "v", 1}};
    sigv4_header nohost[1] = {{"Accept", 6, "*/*", 3}};
    char secret[SIGV4_MAX_SECRET + 1];
    size_t i;
    sigv4_result res;

    for (i = 0; i < SIGV4_MAX_HEADERS + 1; i++) {
        many[i].name = "X-H";
        many[i].name_len = 3;
        many[i].value = "v";
        many[i].value_len = 1;
    }
    memset(secret, 's', sizeof secret);
    longbuf[0] = '/';
    memset(longbuf + 1, 'p', sizeof longbuf - 1);
    for (i = 0; i < SIGV4_MAX_QUERY_PARAMS + 1; i++)
        memcpy(query + 4 * i, "a=1&", 4);
    query[sizeof query - 1] = '\0';

    for (i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        sigv4_request r = base_request();
        int rc;
        switch (i) {
        case 0: r.path = S("invitation"); break;
        case 1: r.path = S("/a?b"); break;
        case 2: r.headers = crlf; r.nheaders = 2; break;
        case 3: r.headers = lf; r.nheaders = 2; break;
        case 4: r.headers = badname; r.nheaders = 2; break;
        case 5: r.headers = nohost; r.nheaders = 1; break;
        case 6: r.headers = many; r.nheaders = SIGV4_MAX_HEADERS + 1; break;
        case 7: r.secret_key.ptr = secret; r.secret_key.len = sizeof secret; break;
        case 8: r.session_token = S("abc def"); break;
        case 9: r.time = -1; break;
        case 10: r.flags |= SIGV4_PRESIGN; r.expires = 0; break;
        case 11: r.method = S("GET /"); break;
        case 12: r.query.ptr = query; r.query.len = sizeof query - 1; break;
        case 13: r.path.ptr = longbuf; r.path.len = sizeof longbuf; break;
        case 14: r.signed_headers = S("x-amz-date;host"); r.amz_date = S("20150830T123600Z"); break;
        case 15: r.signed_headers = S("host;x-amz-date"); r.amz_date = S("20150830T123600Z"); break;
        case 16: r.body.ptr = NULL; r.body.len = 5; break;
        }
        rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
        ok(rc == expect[i].want && res.err_field != NULL && strcmp(res.err_field, expect[i].field) == 0
               && res.canonical_request.ptr == NULL,
           "error: %s", expect[i].what);
    }
    {
        sigv4_request r = base_request();
        int rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
        rc |= sigv4_sign(NULL, &r, &res, buf, sizeof buf) != SIGV4_E_ARG;
        rc |= sigv4_sign(ctx, NULL, &res, buf, sizeof buf) != SIGV4_E_ARG;
        rc |= sigv4_sign(ctx, &r, NULL, buf, sizeof buf) != SIGV4_E_ARG;
        rc |= sigv4_sign(ctx, &r, &res, NULL, 10) != SIGV4_E_ARG;
        ok(rc == 0, "NULL context, request, result or buffer gives SIGV4_E_ARG", NULL);
    }
    {
        sigv4_request r = base_request();
        sigv4_header h[2] = {{"Host", 4, "h", 1}, {"X-A", 3, "v", 1}};
        r.headers = h;
        r.nheaders = 2;
        h[1].name = NULL;
        ok(sigv4_sign(ctx, &r, &res, buf, sizeof buf) == SIGV4_E_ARG && res.err_index == 2,
           "a NULL header name is refused with its index", NULL);
    }
    {
        int all = 1, s;
        for (s = 0; s < SIGV4_E__COUNT; s++)
            if (sigv4_strerror(s) == NULL || strlen(sigv4_strerror(s)) == 0 || strcmp(sigv4_errname(s), "unknown") == 0)
                all = 0;
        ok(all && strcmp(sigv4_strerror(-1), "unknown error") == 0 && strcmp(sigv4_strerror(SIGV4_E__COUNT), "unknown error") == 0,
           "every status has a message and a name; unknown ones are safe", NULL);
    }
}

static void test_verification(sigv4_ctx *ctx)
{
    sigv4_request r = base_request();
    sigv4_result res;
    sigv4_header got[3];
    char sig[65], amz[17];
    int rc;
    r.session_token = S("TOK");
    rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    memcpy(sig, res.signature.ptr, 65);
    memcpy(amz, res.amz_date.ptr, 17);
    /* the received request: Host, X-Amz-Date, X-Amz-Security-Token */
    got[0] = HOST[0];
    got[1].name = "x-amz-date";
    got[1].name_len = 10;
    got[1].value = amz;
    got[1].value_len = 16;
    got[2].name = "X-Amz-Security-Token";
    got[2].name_len = 20;
    got[2].value = "TOK";
    got[2].value_len = 3;
    r = base_request();
    r.headers = got;
    r.nheaders = 3;
    r.time = 0; /* ignored: amz_date wins */
    r.amz_date.ptr = amz;
    r.amz_date.len = 16;
    r.signed_headers = S("host;x-amz-date;x-amz-security-token");
    rc |= sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    ok(rc == SIGV4_OK && sigv4_equal(res.signature.ptr, res.signature.len, sig, 64) && res.nheaders == 0,
       "verification mode recomputes the signature of a received request", NULL);
    got[2].value = "TOX";
    rc = sigv4_sign(ctx, &r, &res, buf, sizeof buf);
    ok(rc == SIGV4_OK && !sigv4_equal(res.signature.ptr, res.signature.len, sig, 64),
       "a changed signed header changes the signature", NULL);
}

/* X-Amz-Date is computed without gmtime_r: compare with it across the range,
 * leap days and century years included. */
static void test_dates(sigv4_ctx *ctx)
{
    static const int64_t fixed[] = {0, 1440938160, 951782400 /* 2000-02-29 */, 4107542400LL /* 2100-03-01 */,
                                    1456704000 /* 2016-02-29 */, 253402300799LL, 86399, 86400};
    sigv4_request r = base_request();
    sigv4_result res;
    int64_t t;
    unsigned long x = 12345;
    int i, same = 1;
    for (i = 0; i < 2000 + (int)(sizeof fixed / sizeof fixed[0]); i++) {
        struct tm tm;
        time_t tt;
        char want[17];
        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            t = fixed[i];
        } else {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            t = (int64_t)((x >> 11) % (unsigned long)(SIGV4_MAX_TIME + 1));
        }
        tt = (time_t)t;
        if (gmtime_r(&tt, &tm) == NULL || strftime(want, sizeof want, "%Y%m%dT%H%M%SZ", &tm) != 16) {
            same = 0;
            break;
        }
        r.time = t;
        if (sigv4_sign(ctx, &r, &res, buf, sizeof buf) != SIGV4_OK || !str_is(res.amz_date, want)) {
            same = 0;
            break;
        }
    }
    ok(same, "X-Amz-Date matches gmtime_r from 1970 to 9999", NULL);
    r.time = SIGV4_MAX_TIME + 1;
    ok(sigv4_sign(ctx, &r, &res, buf, sizeof buf) == SIGV4_E_TIME, "a time after 9999 is refused", NULL);
}

static void test_helpers(sigv4_ctx *ctx)
{
    char hex[65];
    int rc = sigv4_sha256_hex(ctx, "", 0, hex);
    ok(rc == SIGV4_OK && strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
       "sha256_hex of the empty string", NULL);
    ok(sigv4_equal("abc", 3, "abc", 3) && !sigv4_equal("abc", 3, "abd", 3) && !sigv4_equal("abc", 3, "ab", 2)
           && sigv4_equal("", 0, "", 0),
       "constant-time equal", NULL);
}

int main(void)
{
    sigv4_ctx *ctx = sigv4_ctx_new();
    ok(ctx != NULL, "context created (SHA-256 and HMAC fetched)", NULL);
    if (ctx == NULL) {
        printf("1..%d\n", test_no);
        return 1;
    }
    test_suite_cases(ctx);
    test_outputs(ctx);
    test_signing_key(ctx);
    test_buffer_sizes(ctx);
    test_errors(ctx);
    test_verification(ctx);
    test_dates(ctx);
    test_helpers(ctx);
    sigv4_ctx_free(ctx);
    sigv4_ctx_free(NULL);
    printf("1..%d\n", test_no);
    return failures == 0 ? 0 : 1;
}
