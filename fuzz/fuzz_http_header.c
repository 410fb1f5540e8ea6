/* fuzz_http_header.c - libFuzzer harness: the response-header parser of
 * src/curl_engine.c (curl_engine_head_line, what libcurl's header callback
 * calls, and the record buffer it fills), compared with a plain model.
 *
 * Built with src/curl_engine.c only (and libcurl for the rest of that file;
 * no Lua at all, and nothing of curl runs here).
 *
 * Input: one control byte, then the header lines as libcurl delivers them
 * (split after each '\n': status lines, "Name: value" lines, obs-fold
 * continuation lines, the blank line). Control byte 0xff first feeds one record
 * that leaves 10..265 bytes (10 + the next byte) below the 1 MiB header limit, so
 * the input's own lines reach the overflow path.
 * Checks, after every call: the return value (all bytes, or 0 only when the
 * 1 MiB limit is exceeded, with fail = CURL_ENGINE_FAIL_HEADERS); at the end:
 * the records decode (curl_engine_head_next) to exactly the model's list
 * (names lower-cased and
 * right-trimmed, values trimmed, folds joined with one space, reset by each
 * new status line), nheaders matches, the buffer holds nothing else and
 * never exceeds the limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_engine.h"

typedef struct {
    char *name, *value;
    size_t name_len, value_len;
} fz_rec;

typedef struct {
    fz_rec *r;
    size_t n, cap;
    size_t bytes; /* what the parser's buffer should hold */
    int has_last;
} fz_model;

static void fz_model_clear(fz_model *m)
{
    size_t i;
    for (i = 0; i < m->n; i++) {
        free(m->r[i].name);
        free(m->r[i].value);
    }
    m->n = 0;
    m->bytes = 0;
    m->has_last = 0;
}

static int fz_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* returns what the callback must return; sets *fail */
static size_t fz_model_line(fz_model *m, const char *p, size_t total, int *fail)
{
    size_t len = total, i;
    *fail = CURL_ENGINE_FAIL_NONE;
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        fz_model_clear(m);
        return total;
    }
    if (len == 0)
        return total;
    if (fz_ws(p[0])) {
        size_t s = 0;
        fz_rec *last;
        if (!m->has_last)
            return total;
        while (s < len && fz_ws(p[s]))
            s++;
        while (len > s && fz_ws(p[len - 1]))
            len--;
        if (s == len)
            return total;
        if (m->bytes + 1 + (len - s) > CURL_ENGINE_MAX_HEADER_BYTES) {
            *fail = CURL_ENGINE_FAIL_HEADERS;
            return 0;
        }
        last = &m->r[m->n - 1];
        last->value = realloc(last->value, last->value_len + 1 + (len - s) + 1);
        if (last->value == NULL)
            abort();
        last->value[last->value_len] = ' ';
        memcpy(last->value + last->value_len + 1, p + s, len - s);
        last->value_len += 1 + (len - s);
        m->bytes += 1 + (len - s);
        return total;
    }
    {
        const char *colon = memchr(p, ':', len), *v;
        size_t nlen, vlen;
        fz_rec *rec;
        if (colon == NULL)
            return total;
        nlen = (size_t)(colon - p);
        while (nlen > 0 && fz_ws(p[nlen - 1]))
            nlen--;
        v = colon + 1;
        vlen = len - (size_t)(v - p);
        while (vlen > 0 && fz_ws(*v)) {
            v++;
            vlen--;
        }
        while (vlen > 0 && fz_ws(v[vlen - 1]))
            vlen--;
        if (m->bytes + nlen + vlen + 2 * sizeof(size_t) > CURL_ENGINE_MAX_HEADER_BYTES) {
            *fail = CURL_ENGINE_FAIL_HEADERS;
            return 0;
        }
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 16;
            m->r = realloc(m->r, m->cap * sizeof *m->r);
            if (m->r == NULL)
                abort();
        }
        rec = &m->r[m->n++];
        rec->name = malloc(nlen + 1);
        rec->value = malloc(vlen + 1);
        if (rec->name == NULL || rec->value == NULL)
            abort();
        for (i = 0; i < nlen; i++)
            rec->name[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
        memcpy(rec->value, v, vlen);
        rec->name_len = nlen;
        rec->value_len = vlen;
        m->bytes += nlen + vlen + 2 * sizeof(size_t);
        m->has_last = 1;
        return total;
    }
}

#define FZ_ASSERT_H(cond, what)                                                                          \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "fuzz invariant failed: %s\n", what);                                     \
            abort();                                                                                 \
        }                                                                                            \
    } while (0)

/* what libcurl's header callback returns for the line: all of it, or 0 to stop */
static size_t fz_feed(curl_engine_head *h, const char *p, size_t n)
{
    return curl_engine_head_line(h, p, n) ? n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_model m;
    curl_engine_head h;
    curl_engine_header rec;
    size_t i, off;
    int stopped = 0;
    if (size < 1)
        return 0;
    memset(&h, 0, sizeof h);
    /* the body cap's Content-Length check at the end of a header block is not this model's
     * business (spec/core/http_spec.lua tests it): no declared length can exceed SIZE_MAX */
    curl_engine_head_reset(&h, SIZE_MAX, 0);
    fz_model_clear(&m);
    if (data[0] == 0xff) {
        /* one record that leaves 10 + data[1] bytes below the limit */
        static char *fill;
        size_t n = CURL_ENGINE_MAX_HEADER_BYTES - 2 * sizeof(size_t) - (size > 1 ? data[1] : 0) - 8, got;
        int fail;
        if (fill == NULL) {
            fill = malloc(CURL_ENGINE_MAX_HEADER_BYTES + 16);
            if (fill == NULL)
                abort();
            memset(fill, 'v', CURL_ENGINE_MAX_HEADER_BYTES + 16);
            memcpy(fill, "x-fill:", 7);
        }
        fill[n - 1] = '\n';
        got = fz_model_line(&m, fill, n, &fail);
        FZ_ASSERT_H(got == n && fail == CURL_ENGINE_FAIL_NONE, "model: the filler does not fit");
        FZ_ASSERT_H(fz_feed(&h, fill, n) == n, "the filler line is refused");
        fill[n - 1] = 'v';
    }
    {
        size_t s = 1;
        while (s < size && !stopped) {
            const uint8_t *nl = memchr(data + s, '\n', size - s);
            size_t e = nl ? (size_t)(nl - data) + 1 : size, want, got;
            int fail;
            /* a private copy of exactly the line, so ASan sees any read past it */
            char *line = malloc(e - s ? e - s : 1);
            if (line == NULL)
                abort();
            memcpy(line, data + s, e - s);
            want = fz_model_line(&m, line, e - s, &fail);
            got = fz_feed(&h, line, e - s);
            free(line);
            FZ_ASSERT_H(got == want, "return value differs from the model");
            FZ_ASSERT_H(h.fail == fail, "fail flag differs from the model");
            FZ_ASSERT_H(h.recs.len <= CURL_ENGINE_MAX_HEADER_BYTES, "records exceed the limit");
            if (got == 0 && e > s)
                stopped = 1; /* libcurl aborts the transfer */
            s = e;
        }
    }
    /* decode the records */
    FZ_ASSERT_H(h.nheaders == m.n, "nheaders differs from the model");
    FZ_ASSERT_H(h.recs.len == m.bytes, "record bytes differ from the model");
    for (i = 0, off = 0; i < h.nheaders; i++) {
        size_t before = off;
        FZ_ASSERT_H(curl_engine_head_next(&h, &off, &rec), "a record is missing or overruns the buffer");
        FZ_ASSERT_H(off > before && off <= h.recs.len, "the record offset does not advance within the buffer");
        FZ_ASSERT_H(rec.name == h.recs.data + before + 2 * sizeof(size_t)
                        && rec.value == rec.name + rec.name_len,
                    "the record is not where its lengths say");
        FZ_ASSERT_H(rec.name_len == m.r[i].name_len && memcmp(rec.name, m.r[i].name, rec.name_len) == 0,
                    "header name differs from the model");
        FZ_ASSERT_H(rec.value_len == m.r[i].value_len && memcmp(rec.value, m.r[i].value, rec.value_len) == 0,
                    "header value differs from the model");
    }
    FZ_ASSERT_H(off == h.recs.len, "bytes after the last record");
    FZ_ASSERT_H(!curl_engine_head_next(&h, &off, &rec), "a record after the last one");
    curl_engine_head_free(&h);
    return 0;
}
