/* fuzz_inflate.c: libFuzzer target for inflate_evbuffer(). Byte 0 picks the format and a small limit,
 * byte 1 how the body is cut into evbuffer chains; the rest is the body. The result must stay within the
 * limit, leave <in> drained or untouched, and match a one-shot inflation of the same bytes. */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "util/inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t fuzz_inflate_limits[8] = { 0, 1, 7, 100, 4096, 20000, 65536, 262144 };

static void fuzz_inflate_fail(const char *what)
{
    fprintf(stderr, "fuzz_inflate: %s\n", what);
    abort();
}

/* The reference: the whole body in one buffer, the output in one buffer of max + 1 bytes, the same rules
 * (gzip magic checked per member, zlib header chooses zlib or raw for deflate). Returns an INFLATE_ code
 * and the output length. */
static int fuzz_inflate_reference(bool gzip, const uint8_t *in, size_t len, size_t max, uint8_t *out,
                                  size_t *out_len)
{
    z_stream zs;
    int rc = Z_OK, bits = 16 + MAX_WBITS;
    size_t at = 0;

    *out_len = 0;
    if (len == 0 || (gzip && (len < 2 || in[0] != 0x1f || in[1] != 0x8b)))
        return INFLATE_BAD;
    if (!gzip)
        bits = len >= 2 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 && ((unsigned)in[0] << 8 | in[1]) % 31 == 0
                   ? MAX_WBITS : -MAX_WBITS;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, bits) != Z_OK)
        fuzz_inflate_fail("inflateInit2");
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    for (;;) {
        zs.next_out = out + *out_len;
        zs.avail_out = (uInt)(max + 1 - *out_len);
        rc = inflate(&zs, Z_NO_FLUSH);
        *out_len = max + 1 - zs.avail_out;
        if (*out_len > max) {
            *out_len = max;
            rc = INFLATE_TOO_LARGE;
            break;
        }
        if (rc != Z_STREAM_END) {
            rc = INFLATE_BAD;   /* corrupt, or (input all given) truncated */
            break;
        }
        at = len - zs.avail_in;
        if (at == len) {
            rc = INFLATE_OK;
            break;
        }
        if (!gzip || len - at < 2 || in[at] != 0x1f || in[at + 1] != 0x8b) {
            rc = INFLATE_BAD;
            break;
        }
        inflateReset(&zs);
    }
    inflateEnd(&zs);
    return rc;
}

/* Adds body to <in> as chains (one evbuffer_add_reference each) of sizes drawn from <cut>. */
static void fuzz_inflate_fill(struct evbuffer *in, const uint8_t *body, size_t len, uint8_t cut)
{
    size_t at = 0, piece = cut == 0 ? len : (size_t)(cut % 13) + 1;

    while (at < len) {
        size_t n = piece < len - at ? piece : len - at;

        if (evbuffer_add_reference(in, body + at, n, NULL, NULL) != 0)
            fuzz_inflate_fail("evbuffer_add_reference");
        at += n;
        piece = piece * 3 % 61 + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evbuffer *in, *out;
    const char *why = NULL;
    bool gzip;
    size_t max, len, ref_len;
    uint8_t *ref;
    int rc, ref_rc;

    if (size < 2)
        return 0;
    gzip = (data[0] & 1) == 0;
    max = fuzz_inflate_limits[(data[0] >> 1) & 7];
    len = size - 2;
    in = evbuffer_new();
    out = evbuffer_new();
    ref = malloc(max + 1);
    if (in == NULL || out == NULL || ref == NULL)
        fuzz_inflate_fail("out of memory");
    fuzz_inflate_fill(in, data + 2, len, data[1]);
    rc = inflate_evbuffer(gzip ? INFLATE_GZIP : INFLATE_DEFLATE, in, out, max, &why);
    if (evbuffer_get_length(out) > max)
        fuzz_inflate_fail("output past the limit");
    if (evbuffer_get_length(in) != (rc == INFLATE_OK ? 0 : len))
        fuzz_inflate_fail("input neither drained nor untouched");
    if (rc == INFLATE_BAD && (why == NULL || why[0] == '\0'))
        fuzz_inflate_fail("refused without a reason");
    ref_rc = fuzz_inflate_reference(gzip, data + 2, len, max, ref, &ref_len);
    if (rc != ref_rc)
        fuzz_inflate_fail("result differs from the one-shot inflation");
    if (rc != INFLATE_BAD && (evbuffer_get_length(out) != ref_len ||
                              (ref_len > 0 && memcmp(evbuffer_pullup(out, -1), ref, ref_len) != 0)))
        fuzz_inflate_fail("output differs from the one-shot inflation");
    free(ref);
    evbuffer_free(in);
    evbuffer_free(out);
    return 0;
}
