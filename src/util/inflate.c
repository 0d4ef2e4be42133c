/* inflate.c: bounded zlib inflation of a whole request body held in an evbuffer. The input is read chain by
 * chain in place and the output inflated straight into reserved space of the output evbuffer; the limit is
 * checked after every step, so a bomb stops at max_out bytes of work and memory. */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "util/inflate.h"

/* Output asked for per step: a chain of 16 KiB fits libevent's power-of-two allocation without waste. */
#define INFLATE_STEP (16384 - 128)

/* Progress of one inflate_evbuffer() call. */
struct inflate_job {
    z_stream zs;
    enum inflate_format fmt;
    struct evbuffer *in;
    struct evbuffer *out;
    size_t in_len;             /* bytes in <in> */
    size_t max_out;
    size_t produced;           /* bytes appended to <out> so far */
    bool ended;                /* the last stream (or gzip member) is complete */
    const char *why;
};

enum inflate_step_result {
    INFLATE_STEP_MORE = 1,     /* needs more input */
    INFLATE_STEP_END = 2,      /* a stream (or gzip member) ended */
};

static int inflate_fail(struct inflate_job *j, const char *why)
{
    j->why = why;
    return INFLATE_BAD;
}

/* Whether the two bytes <b> start a zlib stream (RFC 1950: deflate, window at most 32 KiB, check bits). */
static bool inflate_is_zlib_header(const uint8_t *b)
{
    return (b[0] & 0x0f) == 8 && (b[0] >> 4) <= 7 && ((unsigned)b[0] << 8 | b[1]) % 31 == 0;
}

/* Copies up to two bytes of <in> from offset <at> into b (a two-byte peek, never the body). Returns how many
 * were there. */
static size_t inflate_peek2(struct evbuffer *in, size_t at, uint8_t *b)
{
    struct evbuffer_ptr ptr;
    ev_ssize_t n;

    if (evbuffer_ptr_set(in, &ptr, at, EVBUFFER_PTR_SET) != 0)
        return 0;
    n = evbuffer_copyout_from(in, &ptr, b, 2);
    return n > 0 ? (size_t)n : 0;
}

/* A gzip member must start at <at>: checked here rather than by zlib, so the first member gets "not gzip
 * data" and a later one "trailing data after gzip stream", whatever the length of the junk. */
static int inflate_check_member(struct inflate_job *j, size_t at)
{
    uint8_t b[2];
    size_t n = inflate_peek2(j->in, at, b);
    bool magic = n == 2 && b[0] == 0x1f && b[1] == 0x8b;

    if (at > 0)
        return magic ? INFLATE_OK : inflate_fail(j, "trailing data after gzip stream");
    if (n == 1 && b[0] == 0x1f)
        return inflate_fail(j, "truncated gzip stream");
    return magic ? INFLATE_OK : inflate_fail(j, "not gzip data");
}

/* Sets up zlib for <fmt>; for HTTP "deflate" the first two bytes choose between zlib and raw deflate. */
static int inflate_start(struct inflate_job *j)
{
    uint8_t b[2];
    int bits = 16 + MAX_WBITS;

    if (j->in_len == 0)
        return inflate_fail(j, j->fmt == INFLATE_GZIP ? "empty gzip body" : "empty deflate body");
    if (j->fmt == INFLATE_GZIP && inflate_check_member(j, 0) != INFLATE_OK)
        return INFLATE_BAD;
    if (j->fmt == INFLATE_DEFLATE)
        bits = inflate_peek2(j->in, 0, b) == 2 && inflate_is_zlib_header(b) ? MAX_WBITS : -MAX_WBITS;
    memset(&j->zs, 0, sizeof(j->zs));
    if (inflateInit2(&j->zs, bits) != Z_OK)
        return inflate_fail(j, "out of memory while inflating");
    return INFLATE_OK;
}

/* The reason for zlib's Z_DATA_ERROR. zlib reports the kind of damage only as text in zs.msg. */
static const char *inflate_data_error(const struct inflate_job *j)
{
    const char *msg = j->zs.msg != NULL ? j->zs.msg : "";

    if (strcmp(msg, "incorrect data check") == 0)
        return j->fmt == INFLATE_GZIP ? "crc-32 mismatch in gzip trailer" : "adler-32 mismatch in zlib trailer";
    if (strcmp(msg, "incorrect length check") == 0)
        return "length mismatch in gzip trailer";
    if (j->fmt == INFLATE_GZIP && (strcmp(msg, "unknown compression method") == 0 ||
                                   strcmp(msg, "unknown header flags set") == 0 ||
                                   strcmp(msg, "header crc mismatch") == 0))
        return "bad gzip header";
    return "corrupt deflate data";
}

/* Gives zlib up to <want> bytes of fresh space at the end of out (one or two extents, so libevent never
 * moves data to make it contiguous), commits what it wrote, and returns zlib's code, or Z_MEM_ERROR. When
 * the output passes max_out only the bytes up to the limit are committed, and *over is set. */
static int inflate_into_out(struct inflate_job *j, size_t want, bool *over)
{
    struct evbuffer_iovec vec[2];
    size_t offered = 0, made = 0, room = j->max_out - j->produced;
    int n, i, used = 0, rc = Z_OK;

    n = evbuffer_reserve_space(j->out, (ev_ssize_t)want, vec, 2);
    if (n < 1)
        return Z_MEM_ERROR;
    for (i = 0; i < n && offered < want && rc == Z_OK; i++) {
        size_t give = vec[i].iov_len < want - offered ? vec[i].iov_len : want - offered;

        j->zs.next_out = vec[i].iov_base;
        j->zs.avail_out = (uInt)give;
        rc = inflate(&j->zs, Z_NO_FLUSH);
        offered += give;
        vec[i].iov_len = give - j->zs.avail_out;
        made += vec[i].iov_len;
        used = i + 1;
        if (j->zs.avail_out != 0)
            break;   /* zlib wants input (or is done), not room */
    }
    *over = made > room;
    if (*over) {   /* keep out within max_out: trim the extents to the limit */
        size_t keep = room;

        for (i = 0; i < used; i++) {
            vec[i].iov_len = vec[i].iov_len < keep ? vec[i].iov_len : keep;
            keep -= vec[i].iov_len;
        }
        made = room;
    }
    if (made > 0 && evbuffer_commit_space(j->out, vec, used) != 0)
        return Z_MEM_ERROR;
    j->produced += made;
    return rc;
}

/* Runs zlib on the input it holds until it needs more input or a stream ends. Returns an
 * enum inflate_step_result, or INFLATE_BAD / INFLATE_TOO_LARGE. */
static int inflate_steps(struct inflate_job *j)
{
    for (;;) {
        size_t room = j->max_out - j->produced;
        /* one byte past the limit is enough to learn that the output is too large */
        size_t want = room >= INFLATE_STEP ? INFLATE_STEP : room + 1;
        uInt avail_in = j->zs.avail_in;
        size_t produced = j->produced;
        bool over = false;
        int rc = inflate_into_out(j, want, &over);

        if (over)
            return INFLATE_TOO_LARGE;
        switch (rc) {
        case Z_STREAM_END:
            return INFLATE_STEP_END;
        case Z_OK:
        case Z_BUF_ERROR:
            break;
        case Z_NEED_DICT:
            return inflate_fail(j, "zlib stream needs a preset dictionary");
        case Z_DATA_ERROR:
            return inflate_fail(j, inflate_data_error(j));
        default:
            return inflate_fail(j, "out of memory while inflating");
        }
        if (j->zs.avail_in == 0 && j->zs.avail_out != 0)
            return INFLATE_STEP_MORE;
        if (j->zs.avail_in == avail_in && j->produced == produced)
            return inflate_fail(j, "corrupt deflate data");   /* no progress: cannot happen with zlib */
    }
}

/* A stream ended at input offset <at>: what may follow depends on the format. */
static int inflate_on_end(struct inflate_job *j, size_t at)
{
    j->ended = true;
    if (at == j->in_len)
        return INFLATE_OK;
    if (j->fmt != INFLATE_GZIP)
        return inflate_fail(j, "trailing data after deflate stream");
    if (inflate_check_member(j, at) != INFLATE_OK)
        return INFLATE_BAD;
    j->ended = false;
    return inflateReset(&j->zs) == Z_OK ? INFLATE_OK : inflate_fail(j, "out of memory while inflating");
}

/* Feeds <n> extents of input to zlib, in place. */
static int inflate_run(struct inflate_job *j, const struct evbuffer_iovec *chunks, int n)
{
    size_t base = 0;
    int i, rc;

    for (i = 0; i < n; i++) {
        j->zs.next_in = chunks[i].iov_base;
        j->zs.avail_in = (uInt)chunks[i].iov_len;
        while (j->zs.avail_in > 0) {
            rc = inflate_steps(j);
            if (rc == INFLATE_STEP_END)
                rc = inflate_on_end(j, base + chunks[i].iov_len - j->zs.avail_in);
            else if (rc == INFLATE_STEP_MORE)
                rc = INFLATE_OK;
            if (rc != INFLATE_OK)
                return rc;
        }
        base += chunks[i].iov_len;
    }
    if (!j->ended)
        return inflate_fail(j, j->fmt == INFLATE_GZIP ? "truncated gzip stream" : "truncated deflate stream");
    return INFLATE_OK;
}

/* Lists the extents of <in> (on the stack up to 32 chains; a longer body takes one allocation) and
 * inflates them. */
static int inflate_chains(struct inflate_job *j)
{
    struct evbuffer_iovec local[32], *chunks = local;
    int n = evbuffer_peek(j->in, -1, NULL, NULL, 0), rc;

    if (n > (int)(sizeof(local) / sizeof(local[0]))) {
        chunks = malloc((size_t)n * sizeof(*chunks));
        if (chunks == NULL)
            return inflate_fail(j, "out of memory while inflating");
    }
    n = evbuffer_peek(j->in, -1, NULL, chunks, n);
    rc = inflate_run(j, chunks, n);
    if (chunks != local)
        free(chunks);
    return rc;
}

int inflate_evbuffer(enum inflate_format fmt, struct evbuffer *in, struct evbuffer *out, size_t max_out,
                     const char **why)
{
    struct inflate_job j = {
        .fmt = fmt, .in = in, .out = out, .in_len = evbuffer_get_length(in), .max_out = max_out,
    };
    int rc = inflate_start(&j);

    if (rc != INFLATE_OK) {
        *why = j.why;
        return rc;
    }
    rc = inflate_chains(&j);
    inflateEnd(&j.zs);
    if (rc == INFLATE_BAD)
        *why = j.why;
    if (rc == INFLATE_OK)
        evbuffer_drain(in, j.in_len);
    return rc;
}
