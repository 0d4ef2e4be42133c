/* json_libs.c: measures the two JSON libraries Debian offers (jansson, json-c) on the reference OTLP/JSON
 * payloads, parse alone and parse + a full walk of the tree, and the otelgate converter in both directions,
 * so the choice in src/otlp_json.c rests on numbers. The two libraries export clashing symbols
 * (json_object_get, json_object_iter_next), so the file is built once per library.
 * Build and run from the source tree (B = the build directory holding autoconf.h and src/proto):
 *   B=/tmp/b; F="-O2 -std=c11 -I$B -Isrc -I$B/src/proto contrib/bench/json_libs.c"
 *   cc $F -DBENCH_JSON_C -ljson-c -o /tmp/json_libs_json_c && /tmp/json_libs_json_c [bench dir] [N]
 *   cc $F -DBENCH_JANSSON -DBENCH_CONVERTER src/otlp_json.c $B/libotlpproto.a -ljansson -levent_core \
 *     -lprotobuf-c -o /tmp/json_libs_jansson && /tmp/json_libs_jansson [bench dir] [N]
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(BENCH_JANSSON)
#include <jansson.h>
#elif defined(BENCH_JSON_C)
#include <json-c/json.h>
#else
#error "build with -DBENCH_JANSSON or -DBENCH_JSON_C"
#endif
#ifdef BENCH_CONVERTER
#include <event2/buffer.h>

#include "otlp_json.h"
#endif

struct bench_payload {
    const char *name;       /* file stem in the bench directory: traces_100 */
    size_t spans;           /* from expected.txt */
    char *json;
    size_t json_len;
    uint8_t *pb;
    size_t pb_len;
};

/* CPU time, not wall time: the figures are per core, and stay comparable on a box where other work runs. */
static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns owned file contents (NUL-terminated for convenience) or NULL with errno set. */
static char *bench_read_file(const char *dir, const char *name, const char *ext, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long size;

    snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

#ifdef BENCH_JANSSON
/* The walks touch every key, string and number the way a converter must, so a library whose parse is cheap
 * but whose access is slow does not win on parse-only numbers. The sum defeats dead-code elimination. */
static size_t bench_walk_jansson(const json_t *v)
{
    size_t sum = 0;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *child;

        json_object_foreach((json_t *)v, key, child)
            sum += strlen(key) + bench_walk_jansson(child);
        return sum;
    }
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(v); i++)
            sum += bench_walk_jansson(json_array_get(v, i));
        return sum;
    case JSON_STRING:
        return json_string_length(v);
    case JSON_INTEGER:
        return (size_t)json_integer_value(v);
    case JSON_REAL:
        return (size_t)(json_real_value(v) != 0.0);
    default:
        return 1;
    }
}

#endif

#ifdef BENCH_JSON_C
static size_t bench_walk_json_c(struct json_object *v)
{
    size_t sum = 0;

    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object_object_foreach(v, key, child)
            sum += strlen(key) + bench_walk_json_c(child);
        return sum;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            sum += bench_walk_json_c(json_object_array_get_idx(v, i));
        return sum;
    case json_type_string:
        return (size_t)json_object_get_string_len(v);
    case json_type_int:
        return (size_t)json_object_get_int64(v);
    case json_type_double:
        return (size_t)(json_object_get_double(v) != 0.0);
    default:
        return 1;
    }
}

#endif

#ifdef BENCH_JANSSON
static size_t bench_jansson(const struct bench_payload *p, int walk)
{
    json_error_t err;
    json_t *root = json_loadb(p->json, p->json_len, JSON_ALLOW_NUL, &err);
    size_t sum;

    if (root == NULL) {
        fprintf(stderr, "jansson: %s: %s\n", p->name, err.text);
        exit(1);
    }
    sum = walk ? bench_walk_jansson(root) : 1;
    json_decref(root);
    return sum;
}

#endif

#ifdef BENCH_JSON_C
static size_t bench_json_c(const struct bench_payload *p, int walk)
{
    struct json_tokener *tok = json_tokener_new_ex(256);
    struct json_object *root;
    size_t sum;

    if (tok == NULL)
        exit(1);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, p->json, (int)p->json_len);
    if (root == NULL) {
        fprintf(stderr, "json-c: %s: %s\n", p->name, json_tokener_error_desc(json_tokener_get_error(tok)));
        exit(1);
    }
    json_tokener_free(tok);
    sum = walk ? bench_walk_json_c(root) : 1;
    json_object_put(root);
    return sum;
}

#endif

#ifdef BENCH_CONVERTER
static size_t bench_to_proto(const struct bench_payload *p, int unused)
{
    struct evbuffer *out = evbuffer_new();
    char err[256];
    size_t n;

    (void)unused;
    if (out == NULL || otlp_json_to_proto(OG_SIGNAL_TRACES, p->json, p->json_len, out, err, sizeof(err)) != 0) {
        fprintf(stderr, "otlp_json_to_proto: %s: %s\n", p->name, err);
        exit(1);
    }
    n = evbuffer_get_length(out);
    evbuffer_free(out);
    return n;
}

static size_t bench_to_json(const struct bench_payload *p, int unused)
{
    struct evbuffer *out = evbuffer_new();
    char err[256];
    size_t n;

    (void)unused;
    if (out == NULL || otlp_proto_to_json(OG_SIGNAL_TRACES, p->pb, p->pb_len, out, err, sizeof(err)) != 0) {
        fprintf(stderr, "otlp_proto_to_json: %s: %s\n", p->name, err);
        exit(1);
    }
    n = evbuffer_get_length(out);
    evbuffer_free(out);
    return n;
}

#endif

/* Heap bytes a parsed tree of <p> holds while alive (glibc's count of allocated bytes), the cost that a
 * worker pays per in-flight JSON request on top of the text itself. */
static size_t bench_tree_bytes(const struct bench_payload *p)
{
    size_t before = mallinfo2().uordblks, after;
#if defined(BENCH_JANSSON)
    json_error_t err;
    json_t *root = json_loadb(p->json, p->json_len, JSON_ALLOW_NUL, &err);

    after = mallinfo2().uordblks;
    json_decref(root);
#else
    struct json_tokener *tok = json_tokener_new_ex(256);
    struct json_object *root;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, p->json, (int)p->json_len);
    json_tokener_free(tok);
    after = mallinfo2().uordblks;
    json_object_put(root);
#endif
    return after - before;
}

/* Runs <fn> <n> times after one warm-up and prints throughput of the JSON text and of spans. */
static void bench_run(const char *label, size_t (*fn)(const struct bench_payload *, int), int walk,
                      const struct bench_payload *p, int n)
{
    volatile size_t sink = fn(p, walk);
    double t0 = bench_now(), dt;

    for (int i = 0; i < n; i++)
        sink += fn(p, walk);
    dt = bench_now() - t0;
    (void)sink;
    printf("%-28s %-12s %8.1f MB/s (JSON text) %10.0f spans/s  %8.1f us/request\n", label, p->name,
           (double)p->json_len * n / dt / 1e6, (double)p->spans * n / dt, dt / n * 1e6);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/work/shared/bench";
    int n = argc > 2 ? atoi(argv[2]) : 200;
    struct bench_payload payloads[] = { { .name = "traces_100", .spans = 100 },
                                        { .name = "traces_1000", .spans = 1000 } };

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        struct bench_payload *p = &payloads[i];

        p->json = bench_read_file(dir, p->name, ".json", &p->json_len);
        p->pb = (uint8_t *)bench_read_file(dir, p->name, ".pb", &p->pb_len);
        if (p->json == NULL || p->pb == NULL) {
            fprintf(stderr, "%s/%s: %s\n", dir, p->name, strerror(errno));
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        const struct bench_payload *p = &payloads[i];
        int reps = p->spans >= 1000 ? n / 10 + 1 : n;

        printf("%-28s %-12s %8.1f MiB tree for %.1f MiB of text\n",
#ifdef BENCH_JANSSON
               "jansson tree size",
#else
               "json-c tree size",
#endif
               p->name, bench_tree_bytes(p) / 1048576.0, p->json_len / 1048576.0);
#ifdef BENCH_JANSSON
        bench_run("jansson parse", bench_jansson, 0, p, reps);
        bench_run("jansson parse+walk", bench_jansson, 1, p, reps);
#endif
#ifdef BENCH_JSON_C
        bench_run("json-c parse", bench_json_c, 0, p, reps);
        bench_run("json-c parse+walk", bench_json_c, 1, p, reps);
#endif
#ifdef BENCH_CONVERTER
        bench_run("otlp_json_to_proto", bench_to_proto, 0, p, reps);
        bench_run("otlp_proto_to_json", bench_to_json, 0, p, reps);
#endif
    }
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        free(payloads[i].json);
        free(payloads[i].pb);
    }
    return 0;
}
