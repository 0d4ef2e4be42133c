/* inflate.h: bounded decompression of request bodies: gzip (Content-Encoding: gzip, and gRPC messages with
 * the compressed flag under grpc-encoding: gzip) and HTTP "deflate". Output goes straight into evbuffer
 * chains, and stops at a size limit before inflating the rest, so a small bomb costs only the limit. */
#ifndef OG_INFLATE_H
#define OG_INFLATE_H

#include <stddef.h>

#include <event2/buffer.h>

#define INFLATE_OK 0
#define INFLATE_BAD (-1)
#define INFLATE_TOO_LARGE (-2)

enum inflate_format {
    INFLATE_GZIP,      /* RFC 1952; concatenated members are one stream */
    INFLATE_DEFLATE,   /* HTTP "deflate" = zlib stream (RFC 1950); raw deflate (RFC 1951) too, as browsers do */
};

/* Decompresses all of <in>, a whole body, appending the result to <out> (a different evbuffer), written
 * straight into out's chains with evbuffer_reserve_space()/evbuffer_commit_space(): no intermediate copy,
 * and <in> is read in place, chain by chain (a body of more than 32 chains costs one small allocation for
 * the list of chains).
 * <max_out> bounds the bytes this call appends. As soon as the output would exceed it, the call stops
 * without inflating the rest and returns INFLATE_TOO_LARGE: a 65 MiB gzip bomb costs about max_out of work
 * and memory. An HTTP "deflate" body is taken as a zlib stream when its first two bytes are a valid zlib
 * header, else as raw deflate.
 * Refuses, returning INFLATE_BAD with *why set to a static one-line reason: an empty body ("empty gzip
 * body", "empty deflate body"); a body not starting with the gzip magic ("not gzip data"); a stream that
 * ends early ("truncated gzip stream", "truncated deflate stream"); bytes after the last gzip member or
 * after the deflate stream ("trailing data after gzip stream", "trailing data after deflate stream");
 * invalid data ("corrupt deflate data", "bad gzip header", "crc-32 mismatch in gzip trailer", "length
 * mismatch in gzip trailer", "adler-32 mismatch in zlib trailer", "zlib stream needs a preset dictionary");
 * and, not the client's fault, "out of memory while inflating".
 * Returns INFLATE_OK with <in> drained. On failure <in> is untouched and <out> may hold part of the output
 * (never more than max_out bytes added); the caller discards it. */
int inflate_evbuffer(enum inflate_format fmt, struct evbuffer *in, struct evbuffer *out, size_t max_out,
                     const char **why);

#endif
