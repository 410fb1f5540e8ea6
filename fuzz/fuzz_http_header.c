/* fuzz_http_header.c - libFuzzer harness: the response-header parser of
 * src/http.c (http_on_header, libcurl's header callback, and the record
 * buffer it fills), compared with a plain model.
 *
 * The parser is a static function, so this file includes src/http.c itself
 * (linked with liblua5.4 and libcurl for the rest of that file; nothing of
 * Lua or curl runs here).
 *
 * Input: one control byte, then the header lines as libcurl delivers them
 * (split after each '\n': status lines, "Name: value" lines, obs-fold
 * continuation lines, the blank line). Control byte 0xff first feeds one record
 * that leaves 10..265 bytes (10 + the next byte) below the 1 MiB header limit, so
 * the input's own lines reach the overflow path.
 * Checks, after every call: the return value (all bytes, or 0 only when the
 * 1 MiB limit is exceeded, with fail = HTTP_FAIL_HEADERS); at the end: the
 * records decode to exactly the model's list (names lower-cased and
 * right-trimmed, values trimmed, folds joined with one space, reset by each
 * new status line), nheaders matches, the buffer holds nothing else and
 * never exceeds the limit.
 */
#include "../src/http.c"

#include <stdint.h>

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
    *fail = HTTP_FAIL_NONE;
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
        if (m->bytes + 1 + (len - s) > HTTP_MAX_HEADER_BYTES) {
            *fail = HTTP_FAIL_HEADERS;
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
        if (m->bytes + nlen + vlen + 2 * sizeof(size_t) > HTTP_MAX_HEADER_BYTES) {
            *fail = HTTP_FAIL_HEADERS;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_model m;
    http_xfer x;
    size_t i, off;
    int stopped = 0;
    if (size < 1)
        return 0;
    memset(&x, 0, sizeof x);
    x.last_rec = HTTP_NO_RECORD;
    /* the body cap's Content-Length check at the end of a header block is not this model's
     * business (spec/http_spec.lua tests it): no declared length can exceed SIZE_MAX */
    x.max_body = SIZE_MAX;
    x.content_length = HTTP_NO_LENGTH;
    fz_model_clear(&m);
    if (data[0] == 0xff) {
        /* one record that leaves 10 + data[1] bytes below the limit */
        static char *fill;
        size_t n = HTTP_MAX_HEADER_BYTES - 2 * sizeof(size_t) - (size > 1 ? data[1] : 0) - 8, got;
        int fail;
        if (fill == NULL) {
            fill = malloc(HTTP_MAX_HEADER_BYTES + 16);
            if (fill == NULL)
                abort();
            memset(fill, 'v', HTTP_MAX_HEADER_BYTES + 16);
            memcpy(fill, "x-fill:", 7);
        }
        fill[n - 1] = '\n';
        got = fz_model_line(&m, fill, n, &fail);
        FZ_ASSERT_H(got == n && fail == HTTP_FAIL_NONE, "model: the filler does not fit");
        FZ_ASSERT_H(http_on_header(fill, 1, n, &x) == n, "the filler line is refused");
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
            /* libcurl passes size 1 and n bytes */
            got = http_on_header(line, 1, e - s, &x);
            free(line);
            FZ_ASSERT_H(got == want, "return value differs from the model");
            FZ_ASSERT_H(x.fail == fail, "fail flag differs from the model");
            FZ_ASSERT_H(x.head.len <= HTTP_MAX_HEADER_BYTES, "records exceed the limit");
            if (got == 0 && e > s)
                stopped = 1; /* libcurl aborts the transfer */
            s = e;
        }
    }
    /* decode the records */
    FZ_ASSERT_H(x.nheaders == m.n, "nheaders differs from the model");
    FZ_ASSERT_H(x.head.len == m.bytes, "record bytes differ from the model");
    for (i = 0, off = 0; i < x.nheaders; i++) {
        size_t nlen, vlen;
        FZ_ASSERT_H(x.head.len - off >= 2 * sizeof(size_t), "truncated record header");
        memcpy(&nlen, x.head.data + off, sizeof nlen);
        memcpy(&vlen, x.head.data + off + sizeof nlen, sizeof vlen);
        off += 2 * sizeof(size_t);
        FZ_ASSERT_H(nlen <= x.head.len - off && vlen <= x.head.len - off - nlen, "record overruns the buffer");
        FZ_ASSERT_H(nlen == m.r[i].name_len && memcmp(x.head.data + off, m.r[i].name, nlen) == 0,
                    "header name differs from the model");
        FZ_ASSERT_H(vlen == m.r[i].value_len && memcmp(x.head.data + off + nlen, m.r[i].value, vlen) == 0,
                    "header value differs from the model");
        off += nlen + vlen;
    }
    FZ_ASSERT_H(off == x.head.len, "bytes after the last record");
    http_buf_free(&x.head);
    return 0;
}
