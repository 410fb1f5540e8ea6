/* fuzz_headers.c - libFuzzer harness: header canonicalisation of src/sigv4.c
 * (name checks and lower-casing, value checks, trimming, whitespace and
 * line-fold collapsing, stable sorting, joining repeated headers, the
 * signed-headers list, replaced/unsigned/added headers, unfolding the values
 * to send).
 *
 * Input: one flags byte, one byte sizing the small output buffer, then
 * "name:value" headers separated by 0xff (a value may hold CR/LF folds).
 *   bit 0 append "Host: example.amazonaws.com", bit 1 session token,
 *   bit 2 omit the token from signing, bit 3 SIGV4_SIGN_BODY,
 *   bit 4 SIGV4_PRESIGN, bit 5 verification mode with the list given as
 *   the first field.
 * Checks (beyond fz_check): the canonical header lines are sorted, with
 * distinct lowercase names, and their names are exactly the signed-headers
 * list; no value has leading/trailing or doubled whitespace.
 */
#include "fuzz_common.h"

#define FZ_MAXH (SIGV4_MAX_HEADERS + 8)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigv4_header hs[FZ_MAXH];
    sigv4_str f[FZ_MAXH];
    sigv4_request r = fz_base_request();
    sigv4_result res;
    size_t nf, i, k = 0, first = 0, nh = 0;
    unsigned flags;
    const char *c, *end, *sh;
    if (size < 2)
        return 0;
    flags = data[0];
    nf = size > 2 ? fz_split(data + 2, size - 2, f, FZ_MAXH - 1) : 0;
    if (flags & 32) {
        if (nf == 0)
            return 0;
        r.signed_headers = f[0];
        if (r.signed_headers.ptr == NULL)
            r.signed_headers.ptr = "";
        first = 1;
    }
    for (i = first; i < nf; i++)
        fz_header(f[i], &hs[nh++]);
    if (flags & 1) {
        hs[nh].name = "Host";
        hs[nh].name_len = 4;
        hs[nh].value = "example.amazonaws.com";
        hs[nh].value_len = 21;
        nh++;
    }
    r.headers = hs;
    r.nheaders = nh;
    if (flags & 2) {
        r.session_token.ptr = fz_token;
        r.session_token.len = sizeof fz_token - 1;
    }
    if (flags & 4)
        r.flags |= SIGV4_OMIT_SESSION_TOKEN;
    if (flags & 8)
        r.flags |= SIGV4_SIGN_BODY;
    if (flags & 16)
        r.flags |= SIGV4_PRESIGN;
    r.body.ptr = "Param1=value1";
    r.body.len = 13;
    if (fz_check(&r, data[1] * 263u + 5u, &res) != SIGV4_OK)
        return 0;

    /* walk the canonical header block: after the third '\n', up to the blank line */
    c = res.canonical_request.ptr;
    end = c + res.canonical_request.len;
    for (i = 0; i < 3; i++) {
        c = memchr(c, '\n', (size_t)(end - c));
        FZ_ASSERT(c != NULL, "canonical request has fewer than four lines", &r);
        c++;
    }
    sh = res.signed_headers.ptr;
    {
        const char *prev = NULL;
        size_t prev_len = 0;
        while (c < end && *c != '\n') {
            const char *nl = memchr(c, '\n', (size_t)(end - c)), *colon;
            size_t nlen;
            FZ_ASSERT(nl != NULL, "canonical header line without newline", &r);
            colon = memchr(c, ':', (size_t)(nl - c));
            FZ_ASSERT(colon != NULL, "canonical header line without ':'", &r);
            nlen = (size_t)(colon - c);
            for (i = 0; i < nlen; i++)
                FZ_ASSERT(ref_tchar((unsigned char)c[i]) && !(c[i] >= 'A' && c[i] <= 'Z'),
                          "canonical header name is not a lowercase token", &r);
            FZ_ASSERT(prev == NULL || ref_cmp(prev, prev_len, c, nlen) < 0, "canonical headers not sorted/distinct", &r);
            /* the same name is next in the signed-headers list */
            FZ_ASSERT(k + nlen <= res.signed_headers.len && memcmp(sh + k, c, nlen) == 0
                          && (k + nlen == res.signed_headers.len || sh[k + nlen] == ';'),
                      "canonical header names differ from the signed-headers list", &r);
            k += nlen + 1;
            for (i = (size_t)(colon + 1 - c); c + i < nl; i++) {
                FZ_ASSERT(c[i] != '\t' && c[i] != '\r', "canonical value keeps a tab or CR", &r);
                if (c[i] == ' ')
                    FZ_ASSERT(c + i != colon + 1 && c + i + 1 < nl && c[i + 1] != ' ',
                              "canonical value has untrimmed or doubled spaces", &r);
            }
            prev = c;
            prev_len = nlen;
            c = nl + 1;
        }
        FZ_ASSERT(k == res.signed_headers.len + 1, "signed-headers list names headers not in the block", &r);
    }
    return 0;
}
