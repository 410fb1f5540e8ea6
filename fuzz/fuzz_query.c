/* fuzz_query.c - libFuzzer harness: query string canonicalisation of
 * src/sigv4.c (splitting on '&' and the first '=', percent-decoding and
 * re-encoding, sorting; presigning's X-Amz-* parameters).
 *
 * Input: one flags byte, one byte sizing the small output buffer, then the
 * query as on the wire (without '?').
 *   bit 0 SIGV4_PRESIGN, bit 1 with a session token, bit 2 omit the token
 *   from signing, bit 3 verification mode (SignedHeaders "host").
 * Checks (beyond fz_check): the canonical query is a list of key=value
 * pairs made only of unreserved bytes and upper-case %XX escapes, sorted by
 * key then value; canonicalising it again changes nothing.
 */
#include "fuzz_common.h"

static sigv4_str fz_query_of(const sigv4_result *res)
{
    const char *c = res->canonical_request.ptr, *s, *e;
    size_t n = res->canonical_request.len;
    sigv4_str q = {NULL, 0};
    s = memchr(c, '\n', n);
    if (s == NULL || (s = memchr(s + 1, '\n', n - (size_t)(s + 1 - c))) == NULL)
        abort();
    s++;
    e = memchr(s, '\n', n - (size_t)(s - c));
    if (e == NULL)
        abort();
    q.ptr = s;
    q.len = (size_t)(e - s);
    return q;
}

static int fz_hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char copy[3 * 8192 + 4096];
    sigv4_request r = fz_base_request();
    sigv4_result res, res2;
    sigv4_str q, prev_key = {NULL, 0}, prev_val = {NULL, 0};
    size_t i = 0, npairs = 0;
    unsigned flags;
    if (size < 2)
        return 0;
    flags = data[0];
    if (flags & 1)
        r.flags |= SIGV4_PRESIGN;
    if (flags & 2) {
        r.session_token.ptr = fz_token;
        r.session_token.len = sizeof fz_token - 1;
    }
    if (flags & 4)
        r.flags |= SIGV4_OMIT_SESSION_TOKEN;
    if (flags & 8) {
        r.signed_headers.ptr = "host";
        r.signed_headers.len = 4;
    }
    r.query.ptr = (const char *)data + 2;
    r.query.len = size - 2;
    if (fz_check(&r, data[1] * 257u + 3u, &res) != SIGV4_OK)
        return 0;
    q = fz_query_of(&res);
    while (i < q.len) {
        sigv4_str key, val;
        size_t s = i;
        while (i < q.len && q.ptr[i] != '=' && q.ptr[i] != '&')
            i++;
        FZ_ASSERT(i < q.len && q.ptr[i] == '=', "canonical query: a pair without '='", &r);
        key.ptr = q.ptr + s;
        key.len = i - s;
        s = ++i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        val.ptr = q.ptr + s;
        val.len = i - s;
        FZ_ASSERT(i == q.len || i + 1 < q.len, "canonical query: empty piece", &r);
        i++;
        for (s = 0; s < key.len + val.len; s++) {
            char c = s < key.len ? key.ptr[s] : val.ptr[s - key.len];
            if (c == '%') {
                const char *p = s < key.len ? key.ptr + s : val.ptr + (s - key.len);
                size_t left = s < key.len ? key.len - s : key.len + val.len - s;
                FZ_ASSERT(left >= 3 && fz_hex_upper(p[1]) && fz_hex_upper(p[2]), "canonical query: bad escape", &r);
                s += 2;
            } else {
                FZ_ASSERT(ref_unreserved((unsigned char)c), "canonical query: unencoded byte", &r);
            }
        }
        if (npairs > 0) {
            int c = ref_cmp(prev_key.ptr, prev_key.len, key.ptr, key.len);
            FZ_ASSERT(c < 0 || (c == 0 && ref_cmp(prev_val.ptr, prev_val.len, val.ptr, val.len) <= 0),
                      "canonical query is not sorted", &r);
        }
        prev_key = key;
        prev_val = val;
        npairs++;
    }
    /* idempotence: the canonical query canonicalises to itself */
    if (q.len <= sizeof copy && npairs <= SIGV4_MAX_QUERY_PARAMS) {
        sigv4_str q2;
        memcpy(copy, q.ptr, q.len);
        r.query.ptr = copy;
        r.query.len = q.len;
        FZ_ASSERT(sigv4_sign(fz_context(), &r, &res2, fz_big2, FZ_BIG) == SIGV4_OK, "canonical query does not sign", &r);
        q2 = fz_query_of(&res2);
        FZ_ASSERT(q2.len == q.len && memcmp(q2.ptr, copy, q.len) == 0, "query canonicalisation is not idempotent", &r);
    }
    return 0;
}
