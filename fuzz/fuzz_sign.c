/* fuzz_sign.c - libFuzzer harness: the whole signing entry point
 * sigv4_sign() of src/sigv4.c with every input fuzzed.
 *
 * Input: 16 control bytes, then fields separated by 0xff:
 *   method, path, query, body, access key, secret key, session token,
 *   region, service, payload hash, amz_date, signed-headers list, then
 *   "name:value" headers (one field each).
 * Control bytes: [0] flags (bits 0-4 the SIGV4_* flags; bit 5 use the
 * payload-hash field, bit 6 use the amz_date field, bit 7 verification mode
 * with the signed-headers field); [1..5] time + 16 (40 bits, little endian,
 * so times before 1970 and after 9999 occur); [6..8] expires + 1; [9..10]
 * size of the small output buffer; [11] bit 0: empty fields as NULL
 * pointers; [12] when nonzero (and [14] is 0xa5), one input is stretched to [12] * 300 bytes
 * (up to 76500, past the signer's size limits) by repeating it, and [13]
 * picks which: the path, the query, the session token, the first header's
 * value or the first eight headers' values.
 * Checks: everything fz_check does (model comparison of every output and
 * error, determinism, exactly sized buffers, no secret in the output, the
 * verification round trip), and X-Amz-Date against gmtime for fuzzed times.
 */
#include "fuzz_common.h"

#define FZ_FIELDS 12
#define FZ_MAXH (SIGV4_MAX_HEADERS + 8)
#define FZ_STRETCH_MAX (255 * 300)

/* s repeated into buf up to n bytes (s itself when empty) */
static sigv4_str fz_stretch(sigv4_str s, char *buf, size_t n)
{
    sigv4_str o;
    size_t i;
    if (s.len == 0)
        return s;
    for (i = 0; i < n; i++)
        buf[i] = s.ptr[i % s.len];
    o.ptr = buf;
    o.len = n;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigv4_header hs[FZ_MAXH];
    sigv4_str f[FZ_FIELDS + FZ_MAXH];
    uint8_t ctl[16] = {0};
    sigv4_request r;
    sigv4_result res;
    size_t nf, i, nh = 0;
    uint64_t t = 0, ex = 0;
    memcpy(ctl, data, size < 16 ? size : 16);
    nf = size > 16 ? fz_split(data + 16, size - 16, f, FZ_FIELDS + FZ_MAXH) : 0;
    for (i = nf; i < FZ_FIELDS; i++) {
        f[i].ptr = "";
        f[i].len = 0;
    }
    if (ctl[11] & 1)
        for (i = 0; i < FZ_FIELDS; i++)
            if (f[i].len == 0)
                f[i].ptr = NULL;
    for (i = 0; i < 5; i++)
        t |= (uint64_t)ctl[1 + i] << (8 * i);
    for (i = 0; i < 3; i++)
        ex |= (uint64_t)ctl[6 + i] << (8 * i);
    memset(&r, 0, sizeof r);
    r.flags = ctl[0] & 0x1f;
    r.method = f[0];
    r.path = f[1];
    r.query = f[2];
    r.body = f[3];
    r.access_key = f[4];
    r.secret_key = f[5];
    r.session_token = f[6];
    r.region = f[7];
    r.service = f[8];
    if (ctl[0] & 0x20) {
        r.payload_hash = f[9];
        if (r.payload_hash.ptr == NULL)
            r.payload_hash.ptr = "";
    }
    if (ctl[0] & 0x40)
        r.amz_date = f[10];
    if (ctl[0] & 0x80) {
        r.signed_headers = f[11];
        if (r.signed_headers.ptr == NULL)
            r.signed_headers.ptr = "";
    }
    r.time = (int64_t)t - 16;
    r.expires = (long)ex - 1;
    for (i = FZ_FIELDS; i < nf; i++)
        fz_header(f[i], &hs[nh++]);
    r.headers = nh ? hs : NULL;
    r.nheaders = nh;
    if (ctl[12] != 0 && ctl[14] == 0xa5) {
        static char one[FZ_STRETCH_MAX], *many;
        size_t len = (size_t)ctl[12] * 300;
        sigv4_str v;
        if (many == NULL && (many = malloc((size_t)FZ_STRETCH_MAX * 8)) == NULL)
            abort();
        switch (ctl[13] % 5) {
        case 0: r.path = fz_stretch(r.path, one, len); break;
        case 1: r.query = fz_stretch(r.query, one, len); break;
        case 2: r.session_token = fz_stretch(r.session_token, one, len); break;
        case 3:
            if (nh > 0) {
                v = fz_stretch((sigv4_str){hs[0].value, hs[0].value_len}, one, len);
                hs[0].value = v.ptr;
                hs[0].value_len = v.len;
            }
            break;
        default:
            /* the first eight headers' values (the total limit is 4 x 65536) */
            for (i = 0; i < nh && i < 8; i++) {
                v = fz_stretch((sigv4_str){hs[i].value, hs[i].value_len}, many + i * FZ_STRETCH_MAX, len);
                hs[i].value = v.ptr;
                hs[i].value_len = v.len;
            }
            break;
        }
    }

    if (fz_check(&r, (unsigned)ctl[9] | (unsigned)ctl[10] << 8, &res) != SIGV4_OK)
        return 0;
    if (r.amz_date.len == 0) {
        /* the signer formats dates without gmtime; the model uses it too, check it directly */
        struct tm tm;
        time_t tt = (time_t)r.time;
        char d[32];
        FZ_ASSERT(gmtime_r(&tt, &tm) != NULL, "gmtime_r failed", &r);
        snprintf(d, sizeof d, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        FZ_ASSERT(res.amz_date.len == 16 && memcmp(res.amz_date.ptr, d, 16) == 0, "X-Amz-Date differs from gmtime", &r);
    }
    return 0;
}
