/* test_inflate.c: request-body decompression: the bench .pb.gz files inflate to their .pb bytes, the 65 MiB
 * bomb stops at the limit, every refusal has its reason, zlib and raw deflate both pass as "deflate", and
 * the result does not depend on how the body is split into evbuffer chains. */
#include "autoconf.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../src/util/inflate.c"   /* reaches the static helpers */

#include "test_bench.h"

/* Compresses <len> bytes as zlib (window_bits 15), raw deflate (-15) or gzip (31). Caller frees. */
static uint8_t *test_deflate(const uint8_t *data, size_t len, int window_bits, size_t *out_len)
{
    z_stream zs;
    size_t cap = len + len / 100 + 64;
    uint8_t *out = malloc(cap);

    assert_non_null(out);
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* Runs inflate_evbuffer() on <len> bytes added as one chain. Returns its code; *out_len gets the bytes
 * appended to the output; *why the reason (NULL when none). The caller frees *outp when non-NULL. */
static int test_inflate(enum inflate_format fmt, const void *data, size_t len, size_t max, struct evbuffer **outp,
                        const char **why)
{
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    int rc;

    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(evbuffer_add(in, data, len), 0);
    *why = NULL;
    rc = inflate_evbuffer(fmt, in, out, max, why);
    assert_true(evbuffer_get_length(out) <= max);
    assert_int_equal(evbuffer_get_length(in), rc == INFLATE_OK ? 0 : len);   /* drained, or untouched */
    assert_true(rc == INFLATE_OK || rc == INFLATE_TOO_LARGE || (rc == INFLATE_BAD && *why != NULL));
    evbuffer_free(in);
    if (outp != NULL)
        *outp = out;
    else
        evbuffer_free(out);
    return rc;
}

/* Asserts that out holds exactly <want>. */
static void test_same(struct evbuffer *out, const uint8_t *want, size_t len)
{
    assert_int_equal(evbuffer_get_length(out), len);
    assert_memory_equal(evbuffer_pullup(out, -1), want, len);
}

static void test_refused(enum inflate_format fmt, const void *data, size_t len, const char *reason)
{
    const char *why = NULL;

    assert_int_equal(test_inflate(fmt, data, len, 1 << 20, NULL, &why), INFLATE_BAD);
    assert_string_equal(why, reason);
}

/* Every bench X.pb.gz inflates to X.pb exactly. */
static void test_bench_gzip(void **state)
{
    const char *dir = test_bench_dir();
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), gz_len, pb_len;
        char pb_name[256];
        struct evbuffer *out;
        const char *why;
        uint8_t *gz, *pb;

        if (l <= 6 || strcmp(e->d_name + l - 6, ".pb.gz") != 0)
            continue;
        snprintf(pb_name, sizeof(pb_name), "%.*s", (int)(l - 3), e->d_name);
        gz = test_read(dir, e->d_name, &gz_len);
        pb = test_read(dir, pb_name, &pb_len);
        assert_int_equal(test_inflate(INFLATE_GZIP, gz, gz_len, 64 << 20, &out, &why), INFLATE_OK);
        test_same(out, pb, pb_len);
        print_message("%s: %zu -> %zu bytes\n", e->d_name, gz_len, pb_len);
        evbuffer_free(out);
        free(gz);
        free(pb);
        n++;
    }
    closedir(d);
    assert_true(n >= 4);
}

/* The 65 MiB bomb under a 4 MiB limit: stops with at most 4 MiB written, without inflating the rest. */
static void test_bomb(void **state)
{
    size_t len, max = 4 << 20;
    uint8_t *gz = test_read(test_bench_dir(), "bad/gzip_bomb_65MiB.pb.gz", &len);
    struct evbuffer *out;
    const char *why;
    struct timespec t0, t1;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(test_inflate(INFLATE_GZIP, gz, len, max, &out, &why), INFLATE_TOO_LARGE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    print_message("bomb: stopped after %zu bytes in %.1f ms\n", evbuffer_get_length(out), ms);
    assert_int_equal(evbuffer_get_length(out), max);   /* filled to the limit, not past it */
    assert_true(ms < 2000);
    evbuffer_free(out);
    /* under a limit above 65 MiB it inflates whole: 68157440 zero bytes */
    assert_int_equal(test_inflate(INFLATE_GZIP, gz, len, 68157440, &out, &why), INFLATE_OK);
    assert_int_equal(evbuffer_get_length(out), 68157440);
    evbuffer_free(out);
    assert_int_equal(test_inflate(INFLATE_GZIP, gz, len, 68157439, NULL, &why), INFLATE_TOO_LARGE);
    free(gz);
}

/* The limit is exact: max_out equal to the output passes, one byte less does not. */
static void test_limit(void **state)
{
    size_t gz_len, pb_len;
    uint8_t *gz = test_read(test_bench_dir(), "logs_100.pb.gz", &gz_len);
    uint8_t *pb = test_read(test_bench_dir(), "logs_100.pb", &pb_len);
    uint8_t *empty_gz;
    size_t empty_len;
    struct evbuffer *out;
    const char *why;

    assert_int_equal(test_inflate(INFLATE_GZIP, gz, gz_len, pb_len, &out, &why), INFLATE_OK);
    test_same(out, pb, pb_len);
    evbuffer_free(out);
    assert_int_equal(test_inflate(INFLATE_GZIP, gz, gz_len, pb_len - 1, &out, &why), INFLATE_TOO_LARGE);
    assert_int_equal(evbuffer_get_length(out), pb_len - 1);
    assert_memory_equal(evbuffer_pullup(out, -1), pb, pb_len - 1);
    evbuffer_free(out);
    assert_int_equal(test_inflate(INFLATE_GZIP, gz, gz_len, 0, NULL, &why), INFLATE_TOO_LARGE);
    empty_gz = test_deflate((const uint8_t *)"", 0, 31, &empty_len);   /* gzip of nothing */
    assert_int_equal(test_inflate(INFLATE_GZIP, empty_gz, empty_len, 0, &out, &why), INFLATE_OK);
    assert_int_equal(evbuffer_get_length(out), 0);
    evbuffer_free(out);
    free(empty_gz);
    free(gz);
    free(pb);
}

/* max_out counts what this call appends, not what out already held. */
static void test_append(void **state)
{
    size_t gz_len, pb_len;
    uint8_t *gz = test_read(test_bench_dir(), "metrics_100.pb.gz", &gz_len);
    uint8_t *pb = test_read(test_bench_dir(), "metrics_100.pb", &pb_len);
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    const char *why = NULL;

    assert_int_equal(evbuffer_add(out, "head", 4), 0);
    assert_int_equal(evbuffer_add(in, gz, gz_len), 0);
    assert_int_equal(inflate_evbuffer(INFLATE_GZIP, in, out, pb_len, &why), INFLATE_OK);
    assert_int_equal(evbuffer_get_length(out), 4 + pb_len);
    assert_memory_equal(evbuffer_pullup(out, -1), "head", 4);
    assert_memory_equal((uint8_t *)evbuffer_pullup(out, -1) + 4, pb, pb_len);
    evbuffer_free(in);
    evbuffer_free(out);
    free(gz);
    free(pb);
}

/* The same body cut into chains of 1 to 7 bytes (evbuffer_add_reference: one chain each) inflates the
 * same: members, headers and trailers that straddle chains. */
static void test_chains(void **state)
{
    size_t gz_len, pb_len, at = 0, piece = 1;
    uint8_t *gz = test_read(test_bench_dir(), "traces_100.pb.gz", &gz_len);
    uint8_t *pb = test_read(test_bench_dir(), "traces_100.pb", &pb_len);
    uint8_t *two = malloc(2 * gz_len);
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    const char *why = NULL;

    assert_non_null(two);
    memcpy(two, gz, gz_len);
    memcpy(two + gz_len, gz, gz_len);
    while (at < 2 * gz_len) {
        size_t n = piece < 2 * gz_len - at ? piece : 2 * gz_len - at;

        assert_int_equal(evbuffer_add_reference(in, two + at, n, NULL, NULL), 0);
        at += n;
        piece = piece % 7 + 1;
    }
    assert_int_equal(inflate_evbuffer(INFLATE_GZIP, in, out, 2 * pb_len, &why), INFLATE_OK);
    assert_int_equal(evbuffer_get_length(in), 0);
    assert_int_equal(evbuffer_get_length(out), 2 * pb_len);
    assert_memory_equal(evbuffer_pullup(out, -1), pb, pb_len);
    assert_memory_equal((uint8_t *)evbuffer_pullup(out, -1) + pb_len, pb, pb_len);
    evbuffer_free(in);
    evbuffer_free(out);
    free(two);
    free(gz);
    free(pb);
}

/* Concatenated members are one stream (RFC 1952 2.2), also when a member is empty. */
static void test_multi_member(void **state)
{
    size_t a_len, b_len, pa_len, pb_len, e_len;
    uint8_t *a = test_read(test_bench_dir(), "logs_100.pb.gz", &a_len);
    uint8_t *b = test_read(test_bench_dir(), "metrics_100.pb.gz", &b_len);
    uint8_t *pa = test_read(test_bench_dir(), "logs_100.pb", &pa_len);
    uint8_t *pb = test_read(test_bench_dir(), "metrics_100.pb", &pb_len);
    uint8_t *e = test_deflate((const uint8_t *)"", 0, 31, &e_len);
    uint8_t *ab = malloc(a_len + e_len + b_len), *want = malloc(pa_len + pb_len);
    struct evbuffer *out;
    const char *why;

    assert_non_null(ab);
    assert_non_null(want);
    memcpy(ab, a, a_len);
    memcpy(ab + a_len, e, e_len);
    memcpy(ab + a_len + e_len, b, b_len);
    memcpy(want, pa, pa_len);
    memcpy(want + pa_len, pb, pb_len);
    assert_int_equal(test_inflate(INFLATE_GZIP, ab, a_len + e_len + b_len, 1 << 20, &out, &why), INFLATE_OK);
    test_same(out, want, pa_len + pb_len);
    evbuffer_free(out);
    /* the limit spans members */
    assert_int_equal(test_inflate(INFLATE_GZIP, ab, a_len + e_len + b_len, pa_len + 10, &out, &why),
                     INFLATE_TOO_LARGE);
    assert_int_equal(evbuffer_get_length(out), pa_len + 10);
    evbuffer_free(out);
    free(ab);
    free(want);
    free(a);
    free(b);
    free(e);
    free(pa);
    free(pb);
}

/* HTTP "deflate": a zlib stream, or raw deflate. */
static void test_deflate_formats(void **state)
{
    size_t pb_len, z_len, raw_len;
    uint8_t *pb = test_read(test_bench_dir(), "traces_100.pb", &pb_len);
    uint8_t *z = test_deflate(pb, pb_len, 15, &z_len);
    uint8_t *raw = test_deflate(pb, pb_len, -15, &raw_len);
    struct evbuffer *out;
    const char *why;

    assert_true(inflate_is_zlib_header(z));
    assert_false(inflate_is_zlib_header(raw));
    assert_int_equal(test_inflate(INFLATE_DEFLATE, z, z_len, 1 << 20, &out, &why), INFLATE_OK);
    test_same(out, pb, pb_len);
    evbuffer_free(out);
    assert_int_equal(test_inflate(INFLATE_DEFLATE, raw, raw_len, 1 << 20, &out, &why), INFLATE_OK);
    test_same(out, pb, pb_len);
    evbuffer_free(out);
    assert_int_equal(test_inflate(INFLATE_DEFLATE, z, z_len, pb_len - 1, NULL, &why), INFLATE_TOO_LARGE);
    /* gzip is not "deflate", and a zlib stream is not gzip */
    test_refused(INFLATE_GZIP, z, z_len, "not gzip data");
    test_refused(INFLATE_DEFLATE, z, z_len - 1, "truncated deflate stream");
    test_refused(INFLATE_DEFLATE, raw, raw_len - 1, "truncated deflate stream");
    z[z_len - 1] ^= 0x01;
    test_refused(INFLATE_DEFLATE, z, z_len, "adler-32 mismatch in zlib trailer");
    free(pb);
    free(z);
    free(raw);
}

static void test_deflate_refusals(void **state)
{
    static const uint8_t dict[] = { 0x78, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00 };   /* FDICT set */
    size_t z_len;
    uint8_t *z = test_deflate((const uint8_t *)"hello hello hello", 17, 15, &z_len);
    uint8_t *trail = malloc(z_len + 1);

    assert_non_null(trail);
    test_refused(INFLATE_DEFLATE, "", 0, "empty deflate body");
    test_refused(INFLATE_DEFLATE, dict, sizeof(dict), "zlib stream needs a preset dictionary");
    test_refused(INFLATE_DEFLATE, "\xff\xff\xff\xff", 4, "corrupt deflate data");   /* raw, block type 3 */
    memcpy(trail, z, z_len);
    trail[z_len] = 0;
    test_refused(INFLATE_DEFLATE, trail, z_len + 1, "trailing data after deflate stream");
    free(z);
    free(trail);
}

static void test_gzip_refusals(void **state)
{
    size_t gz_len, pb_len;
    uint8_t *gz = test_read(test_bench_dir(), "logs_100.pb.gz", &gz_len);
    uint8_t *pb = test_read(test_bench_dir(), "logs_100.pb", &pb_len);
    uint8_t *bad = malloc(gz_len + 16);

    assert_non_null(bad);
    test_refused(INFLATE_GZIP, "", 0, "empty gzip body");
    test_refused(INFLATE_GZIP, "\x1f", 1, "truncated gzip stream");
    test_refused(INFLATE_GZIP, "x", 1, "not gzip data");
    test_refused(INFLATE_GZIP, pb, pb_len, "not gzip data");
    test_refused(INFLATE_GZIP, gz, 10, "truncated gzip stream");   /* header only */
    test_refused(INFLATE_GZIP, gz, gz_len / 2, "truncated gzip stream");
    test_refused(INFLATE_GZIP, gz, gz_len - 1, "truncated gzip stream");   /* trailer cut */
    memcpy(bad, gz, gz_len);
    assert_int_equal(bad[3], 0);   /* no optional header fields: the deflate data starts at byte 10 */
    bad[10] = 0x07;                /* final block of the reserved type 3 */
    test_refused(INFLATE_GZIP, bad, gz_len, "corrupt deflate data");
    memcpy(bad, gz, gz_len);
    bad[gz_len - 8] ^= 0x01;   /* CRC-32 */
    test_refused(INFLATE_GZIP, bad, gz_len, "crc-32 mismatch in gzip trailer");
    memcpy(bad, gz, gz_len);
    bad[gz_len - 4] ^= 0x01;   /* ISIZE */
    test_refused(INFLATE_GZIP, bad, gz_len, "length mismatch in gzip trailer");
    memcpy(bad, gz, gz_len);
    bad[2] = 7;                /* compression method */
    test_refused(INFLATE_GZIP, bad, gz_len, "bad gzip header");
    memcpy(bad, gz, gz_len);
    memcpy(bad + gz_len, "garbage", 7);
    test_refused(INFLATE_GZIP, bad, gz_len + 7, "trailing data after gzip stream");
    bad[gz_len] = 0;
    test_refused(INFLATE_GZIP, bad, gz_len + 1, "trailing data after gzip stream");
    bad[gz_len] = 0x1f;        /* the start of a member, then nothing */
    test_refused(INFLATE_GZIP, bad, gz_len + 1, "trailing data after gzip stream");
    bad[gz_len + 1] = 0x8b;    /* a member's magic, then nothing */
    test_refused(INFLATE_GZIP, bad, gz_len + 2, "truncated gzip stream");
    free(bad);
    free(gz);
    free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_gzip),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_multi_member),
        cmocka_unit_test(test_deflate_formats),
        cmocka_unit_test(test_deflate_refusals),
        cmocka_unit_test(test_gzip_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
