/* fuzz_uri.c - libFuzzer harness: URI path canonicalisation of src/sigv4.c.
 *
 * Input: one flags byte, then the path as on the wire.
 *   bit 0 SIGV4_NORMALIZE_PATH, bit 1 SIGV4_RAW_PATH (S3: no second
 *   encoding), bit 2 SIGV4_PRESIGN; byte 1 (when present) sizes the
 *   exactly-sized output buffer.
 * Checks (beyond fz_check's model comparison, determinism, small buffers
 * and verification round trip): the canonical URI starts with '/'; encoded
 * it holds only unreserved bytes, '/' and upper-case %XX escapes; a
 * normalised one has no empty, "." or ".." segment, and normalising it again
 * (as a raw path) changes nothing.
 */
#include "fuzz_common.h"

static sigv4_str fz_uri_of(const sigv4_result *res)
{
    const char *c = res->canonical_request.ptr, *s = memchr(c, '\n', res->canonical_request.len), *e;
    sigv4_str u = {NULL, 0};
    if (s == NULL)
        abort();
    s++;
    e = memchr(s, '\n', res->canonical_request.len - (size_t)(s - c));
    if (e == NULL)
        abort();
    u.ptr = s;
    u.len = (size_t)(e - s);
    return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigv4_request r = fz_base_request();
    sigv4_result res;
    sigv4_str u;
    unsigned flags, sel;
    size_t i;
    if (size < 1)
        return 0;
    flags = data[0];
    sel = size > 1 ? data[1] * 131u + 7u : 0;
    r.flags = ((flags & 1) ? SIGV4_NORMALIZE_PATH : 0) | ((flags & 2) ? SIGV4_RAW_PATH : 0)
              | ((flags & 4) ? SIGV4_PRESIGN : 0);
    r.path.ptr = (const char *)data + 1;
    r.path.len = size - 1;
    if (fz_check(&r, sel, &res) != SIGV4_OK)
        return 0;
    u = fz_uri_of(&res);
    FZ_ASSERT(u.len >= 1 && u.ptr[0] == '/', "canonical URI does not start with '/'", &r);
    if (!(r.flags & SIGV4_RAW_PATH)) {
        for (i = 0; i < u.len; i++) {
            unsigned char c = (unsigned char)u.ptr[i];
            if (c == '%') {
                FZ_ASSERT(i + 2 < u.len && ((u.ptr[i + 1] >= '0' && u.ptr[i + 1] <= '9') || (u.ptr[i + 1] >= 'A' && u.ptr[i + 1] <= 'F'))
                              && ((u.ptr[i + 2] >= '0' && u.ptr[i + 2] <= '9') || (u.ptr[i + 2] >= 'A' && u.ptr[i + 2] <= 'F')),
                          "canonical URI has a bad escape", &r);
                i += 2;
            } else {
                FZ_ASSERT(ref_unreserved(c) || c == '/', "canonical URI has an unencoded byte", &r);
            }
        }
    }
    if (r.flags & SIGV4_NORMALIZE_PATH) {
        sigv4_request again = fz_base_request();
        sigv4_result res2;
        char copy[3 * 4096 + 8];
        FZ_ASSERT(u.len <= 1 || (!fz_contains(u.ptr, u.len, "//", 2) && !fz_contains(u.ptr, u.len, "/./", 3)
                                 && !fz_contains(u.ptr, u.len, "/../", 4)),
                  "normalised URI keeps an empty, . or .. segment", &r);
        if (u.len < sizeof copy) {
            memcpy(copy, u.ptr, u.len);
            again.path.ptr = copy;
            again.path.len = u.len;
            again.flags = SIGV4_NORMALIZE_PATH | SIGV4_RAW_PATH;
            FZ_ASSERT(sigv4_sign(fz_context(), &again, &res2, fz_big2, FZ_BIG) == SIGV4_OK,
                      "normalised URI does not sign", &r);
            u = fz_uri_of(&res2);
            FZ_ASSERT(u.len == again.path.len && memcmp(u.ptr, copy, u.len) == 0,
                      "normalisation is not idempotent", &r);
        }
    }
    return 0;
}
