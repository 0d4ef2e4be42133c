/* test_bench.h: the reference payloads of ../shared/bench for unit tests.
 * make check sets OG_BENCH_DIR; by hand, run from the source tree or set it. */
#ifndef OG_TEST_BENCH_H
#define OG_TEST_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *test_bench_dir(void)
{
    const char *dir = getenv("OG_BENCH_DIR");

    return dir != NULL && dir[0] != '\0' ? dir : "../shared/bench";
}

/* Returns the bytes of <dir>/<name>, NUL-terminated (caller frees), and their size in *len; fails the test
 * when the file is missing. */
static uint8_t *test_read(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    uint8_t *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set OG_BENCH_DIR to the bench payload directory)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

#endif
