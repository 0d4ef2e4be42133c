/* otelgen_payload.c: prepares the payload once and fills request bodies from it. A generated request is
 * encoded once; its id sites (otelgen_encode) are then overwritten per request, which costs a few
 * nanoseconds per item instead of a protobuf encode. With --gzip each such body is compressed again (zlib
 * level 1), the price of ids that never repeat. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "otelgen_encode.h"
#include "otelgen_gen.h"
#include "otelgen_payload.h"

#define OTELGEN_PAYLOAD_GRPC_HEAD 5
#define OTELGEN_PAYLOAD_ITEM_BITS 40        /* of a span id; the other 24 name the run */
#define OTELGEN_PAYLOAD_GZIP_LEVEL 1

struct otelgen_payload {
    uint8_t *wire;                  /* fixed: the body as sent; stamped: the uncompressed request (no prefix) */
    size_t wire_len;
    size_t head;                    /* gRPC prefix bytes in front of each body: 0 or 5 */
    bool stamped, gzip;
    struct otelgen_id_site *sites;
    size_t n_sites, n_span, n_trace;
    long long items;
    uint64_t run;                   /* 24 random bits, nonzero: the top of every span and trace id */
    uint64_t key;                   /* scrambles the low half of trace ids */
};

struct otelgen_payload_ctx {
    uint8_t *scratch;               /* stamped + gzip: the request is stamped here, then compressed */
    z_stream z;
    bool z_ready;
    uint8_t (*span_ids)[8];         /* stamped: this request's ids, made once, then copied to every site */
    uint8_t (*trace_ids)[16];
};

long long otelgen_payload_items(const struct otelgen_payload *p)
{
    return p->items;
}

/* ---- ids ---- */

static void otelgen_payload_be64(uint8_t *d, uint64_t v)
{
    v = __builtin_bswap64(v);       /* x86 and arm64 are little-endian: one instruction, one store */
    memcpy(d, &v, 8);
}

/* splitmix64's finaliser: a bijection, so distinct inputs give distinct trace id halves. */
static uint64_t otelgen_payload_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Span id: run (24 bits) then the item's number in the run (40 bits), readable in hex by a person looking
 * for a lost span. Trace id: run and request number, then 64 bits that look random to samplers. Each
 * distinct id of request <seq> is made once here: a span id appears in several places (span, parent of
 * its children, links), a trace id in every span of the trace. */
static void otelgen_payload_make_ids(const struct otelgen_payload *p, struct otelgen_payload_ctx *ctx, uint64_t seq)
{
    const uint64_t mask = (1ULL << OTELGEN_PAYLOAD_ITEM_BITS) - 1, run = p->run << OTELGEN_PAYLOAD_ITEM_BITS;

    for (size_t i = 0; i < p->n_span; i++)
        otelgen_payload_be64(ctx->span_ids[i], run | ((seq * p->n_span + i) & mask));
    for (size_t i = 0; i < p->n_trace; i++) {
        otelgen_payload_be64(ctx->trace_ids[i], run | (seq & mask));
        otelgen_payload_be64(ctx->trace_ids[i] + 8, otelgen_payload_mix((seq * p->n_trace + i) ^ p->key));
    }
}

static void otelgen_payload_hex(uint8_t *d, const uint8_t *id, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t j = 0; j < n; j++) {
        d[2 * j] = (uint8_t)hex[id[j] >> 4];
        d[2 * j + 1] = (uint8_t)hex[id[j] & 15];
    }
}

static void otelgen_payload_stamp(const struct otelgen_payload *p, struct otelgen_payload_ctx *ctx, uint8_t *body,
                                  uint64_t seq)
{
    otelgen_payload_make_ids(p, ctx, seq);
    for (size_t i = 0; i < p->n_sites; i++) {
        const struct otelgen_id_site *s = &p->sites[i];
        uint8_t *d = body + s->offset;
        /* Constant sizes, so that each copy is one or two moves. */
        if (s->kind == OTELGEN_ID_SPAN && !s->hex)
            memcpy(d, ctx->span_ids[s->index], 8);
        else if (!s->hex)
            memcpy(d, ctx->trace_ids[s->index], 16);
        else if (s->kind == OTELGEN_ID_SPAN)
            otelgen_payload_hex(d, ctx->span_ids[s->index], 8);
        else
            otelgen_payload_hex(d, ctx->trace_ids[s->index], 16);
    }
}

static void otelgen_payload_pick_run(struct otelgen_payload *p)
{
    uint64_t r[2];

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        r[0] = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
        r[1] = otelgen_payload_mix(r[0]);
    }
    p->run = (r[0] & 0xFFFFFF) != 0 ? r[0] & 0xFFFFFF : 1;
    p->key = r[1];
}

/* ---- framing and compression ---- */

static void otelgen_payload_write_head(uint8_t *d, bool compressed, size_t len)
{
    d[0] = compressed;
    d[1] = (uint8_t)(len >> 24);
    d[2] = (uint8_t)(len >> 16);
    d[3] = (uint8_t)(len >> 8);
    d[4] = (uint8_t)len;
}

static int otelgen_payload_deflate_init(z_stream *z)
{
    *z = (z_stream){ 0 };
    return deflateInit2(z, OTELGEN_PAYLOAD_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

/* Compresses in[0..len) into out (room for deflateBound); returns the compressed size, 0 on failure. */
static size_t otelgen_payload_deflate(z_stream *z, const uint8_t *in, size_t len, uint8_t *out, size_t room)
{
    if (deflateReset(z) != Z_OK || len > UINT32_MAX || room > UINT32_MAX)
        return 0;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    z->next_out = out;
    z->avail_out = (uInt)room;
    return deflate(z, Z_FINISH) == Z_STREAM_END ? room - z->avail_out : 0;
}

/* wire = [gRPC prefix] + body, with <body> gzip'd first when <compress>. */
static int otelgen_payload_set_wire(struct otelgen_payload *p, const uint8_t *body, size_t len, bool compress,
                                    bool flag)
{
    z_stream z;
    size_t room = len, n = len;

    if (compress) {
        if (otelgen_payload_deflate_init(&z) != 0)
            return -1;
        room = deflateBound(&z, len);
    }
    p->wire = malloc(p->head + room + 1);
    if (p->wire != NULL && compress)
        n = otelgen_payload_deflate(&z, body, len, p->wire + p->head, room);
    else if (p->wire != NULL)
        memcpy(p->wire + p->head, body, len);
    if (compress)
        deflateEnd(&z);
    if (p->wire == NULL || (compress && n == 0) || n > UINT32_MAX)
        return -1;
    if (p->head > 0)
        otelgen_payload_write_head(p->wire, flag, n);
    p->wire_len = p->head + n;
    return 0;
}

/* ---- creating ---- */

static int otelgen_payload_from_file(struct otelgen_payload *p, const struct otelgen_payload_conf *conf, char *err,
                                     size_t errlen)
{
    struct otelgen_file f;
    char why[200];
    int rc;

    if (otelgen_file_load(conf->file, conf->file_kind, &f, err, errlen) != 0)
        return -1;
    p->items = otelgen_file_count_items(&f, conf->signal, otelgen_file_kind_is_json(conf->file_kind), why,
                                        sizeof why);
    if (p->items < 0)
        fprintf(stderr, "otelgen: warning: %s: %s; sending it as it is\n", conf->file, why);
    /* A file that is gzip'd already is sent as its own bytes: no second compression, and a gzip bomb stays
     * a bomb. */
    if (conf->gzip && f.gz != NULL)
        rc = otelgen_payload_set_wire(p, f.gz, f.gz_len, false, true);
    else
        rc = otelgen_payload_set_wire(p, f.plain, f.plain_len, conf->gzip, conf->gzip);
    otelgen_file_dispose(&f);
    if (rc != 0)
        snprintf(err, errlen, "%s: out of memory or larger than 4 GiB", conf->file);
    return rc;
}

static int otelgen_payload_generate(struct otelgen_payload *p, const struct otelgen_payload_conf *conf, char *err,
                                    size_t errlen)
{
    struct otelgen_gen *g;
    struct otelgen_encoded e;
    int rc;

    if (otelgen_gen_create(&g, conf->signal, conf->items, conf->attributes, err, errlen) != 0)
        return -1;
    if (conf->json)
        rc = otelgen_encode_json(otelgen_gen_message(g), otelgen_gen_ids(g), &e, err, errlen);
    else
        rc = otelgen_encode_protobuf(otelgen_gen_message(g), otelgen_gen_ids(g), &e, err, errlen);
    p->n_span = otelgen_gen_ids(g)->n_span;
    p->n_trace = otelgen_gen_ids(g)->n_trace;
    otelgen_gen_destroy(g);
    if (rc != 0)
        return -1;
    p->stamped = true;
    p->items = (long long)conf->items;
    p->wire = e.data;
    p->wire_len = e.len;
    p->sites = e.sites;
    p->n_sites = e.n_sites;
    return 0;
}

int otelgen_payload_create(struct otelgen_payload **out, const struct otelgen_payload_conf *conf, char *err,
                           size_t errlen)
{
    struct otelgen_payload *p = calloc(1, sizeof *p);
    int rc;

    *out = NULL;
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->head = conf->grpc_framing ? OTELGEN_PAYLOAD_GRPC_HEAD : 0;
    p->gzip = conf->gzip;
    otelgen_payload_pick_run(p);
    rc = conf->file != NULL ? otelgen_payload_from_file(p, conf, err, errlen)
                            : otelgen_payload_generate(p, conf, err, errlen);
    if (rc != 0) {
        otelgen_payload_destroy(p);
        return -1;
    }
    *out = p;
    return 0;
}

void otelgen_payload_destroy(struct otelgen_payload *p)
{
    if (p == NULL)
        return;
    free(p->wire);
    free(p->sites);
    free(p);
}

/* ---- per thread, per request ---- */

int otelgen_payload_ctx_create(struct otelgen_payload_ctx **out, const struct otelgen_payload *p, char *err,
                               size_t errlen)
{
    struct otelgen_payload_ctx *ctx = calloc(1, sizeof *ctx);

    *out = NULL;
    if (ctx != NULL && p->stamped && p->gzip) {
        ctx->scratch = malloc(p->wire_len + 1);
        if (ctx->scratch != NULL)
            memcpy(ctx->scratch, p->wire, p->wire_len);
        ctx->z_ready = otelgen_payload_deflate_init(&ctx->z) == 0;
    }
    if (ctx != NULL && p->stamped) {
        ctx->span_ids = malloc((p->n_span + 1) * sizeof *ctx->span_ids);
        ctx->trace_ids = malloc((p->n_trace + 1) * sizeof *ctx->trace_ids);
    }
    if (ctx == NULL || (p->stamped && p->gzip && (ctx->scratch == NULL || !ctx->z_ready)) ||
        (p->stamped && (ctx->span_ids == NULL || ctx->trace_ids == NULL))) {
        snprintf(err, errlen, "out of memory");
        otelgen_payload_ctx_destroy(ctx);
        return -1;
    }
    *out = ctx;
    return 0;
}

void otelgen_payload_ctx_destroy(struct otelgen_payload_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->z_ready)
        deflateEnd(&ctx->z);
    free(ctx->scratch);
    free(ctx->span_ids);
    free(ctx->trace_ids);
    free(ctx);
}

static int otelgen_payload_fill_gzip(const struct otelgen_payload *p, struct otelgen_payload_ctx *ctx,
                                     struct otelgen_payload_body *b, uint64_t seq)
{
    size_t room, n;

    if (b->buf == NULL) {
        b->cap = p->head + deflateBound(&ctx->z, p->wire_len);
        b->buf = malloc(b->cap);
        if (b->buf == NULL)
            return -1;
    }
    room = b->cap - p->head;
    otelgen_payload_stamp(p, ctx, ctx->scratch, seq);
    n = otelgen_payload_deflate(&ctx->z, ctx->scratch, p->wire_len, b->buf + p->head, room);
    if (n == 0)
        return -1;
    if (p->head > 0)
        otelgen_payload_write_head(b->buf, true, n);
    b->data = b->buf;
    b->len = p->head + n;
    return 0;
}

int otelgen_payload_fill(const struct otelgen_payload *p, struct otelgen_payload_ctx *ctx,
                         struct otelgen_payload_body *b, uint64_t seq)
{
    if (!p->stamped) {
        b->data = p->wire;
        b->len = p->wire_len;
        return 0;
    }
    if (p->gzip)
        return otelgen_payload_fill_gzip(p, ctx, b, seq);
    if (b->buf == NULL) {
        /* Only the ids differ between requests: copy the template once, then overwrite ids only. */
        b->cap = p->head + p->wire_len;
        b->buf = malloc(b->cap);
        if (b->buf == NULL)
            return -1;
        if (p->head > 0)
            otelgen_payload_write_head(b->buf, false, p->wire_len);
        memcpy(b->buf + p->head, p->wire, p->wire_len);
    }
    otelgen_payload_stamp(p, ctx, b->buf + p->head, seq);
    b->data = b->buf;
    b->len = b->cap;
    return 0;
}

void otelgen_payload_body_dispose(struct otelgen_payload_body *b)
{
    free(b->buf);
    *b = (struct otelgen_payload_body){ 0 };
}
