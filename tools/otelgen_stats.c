/* otelgen_stats.c: the tally of answers. A run sees a handful of distinct statuses, so a small array
 * searched linearly beats any table; failure messages are copied once, when first seen. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otelgen_stats.h"

#define OTELGEN_STATS_ENTRIES 64            /* distinct statuses and failure reasons; more are lumped */

enum otelgen_stats_what {
    OTELGEN_STATS_ANSWER,                   /* an HTTP or gRPC answer */
    OTELGEN_STATS_FAILED,                   /* requests without an answer */
    OTELGEN_STATS_CONN,                     /* connections that failed without costing a request */
};

struct otelgen_stats_entry {
    enum otelgen_stats_what what;
    enum otelgen_answer_kind kind;
    int code;
    uint64_t count;
    char *message;                          /* first one seen; NULL for success answers */
};

struct otelgen_stats {
    const char *items;
    long long per_request;
    struct otelgen_stats_entry entries[OTELGEN_STATS_ENTRIES];
    size_t n_entries;
    uint64_t answered;                      /* HTTP or gRPC answers, whatever the status */
    struct timespec start, stop;
};

static const char *const otelgen_stats_grpc_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

const char *otelgen_stats_grpc_name(int code, char *buf, size_t len)
{
    if (code >= 0 && (size_t)code < sizeof otelgen_stats_grpc_names / sizeof otelgen_stats_grpc_names[0])
        return otelgen_stats_grpc_names[code];
    snprintf(buf, len, "CODE_%d", code);
    return buf;
}

int otelgen_stats_create(struct otelgen_stats **out, const char *items, long long per_request)
{
    struct otelgen_stats *s = calloc(1, sizeof *s);

    *out = s;
    if (s == NULL)
        return -1;
    s->items = items;
    s->per_request = per_request;
    return 0;
}

void otelgen_stats_destroy(struct otelgen_stats *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_entries; i++)
        free(s->entries[i].message);
    free(s);
}

void otelgen_stats_start(struct otelgen_stats *s)
{
    clock_gettime(CLOCK_MONOTONIC, &s->start);
    s->stop = s->start;
}

void otelgen_stats_stop(struct otelgen_stats *s)
{
    clock_gettime(CLOCK_MONOTONIC, &s->stop);
}

static bool otelgen_stats_is_success(const struct otelgen_stats_entry *e)
{
    return e->what == OTELGEN_STATS_ANSWER &&
           (e->kind == OTELGEN_ANSWER_GRPC ? e->code == 0 : e->code >= 200 && e->code < 300);
}

/* The entry for (what, kind, code, message): answers are keyed by status, failures by their message. When
 * the array is full, the last entry takes everything else. Sets *fresh when the entry is new. */
static struct otelgen_stats_entry *otelgen_stats_entry(struct otelgen_stats *s, enum otelgen_stats_what what,
                                                       enum otelgen_answer_kind kind, int code, const char *message,
                                                       bool *fresh)
{
    struct otelgen_stats_entry *e;

    *fresh = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        e = &s->entries[i];
        if (e->what == what && e->kind == kind && e->code == code &&
            (what == OTELGEN_STATS_ANSWER || strcmp(e->message != NULL ? e->message : "", message) == 0))
            return e;
    }
    if (s->n_entries == OTELGEN_STATS_ENTRIES)
        return &s->entries[OTELGEN_STATS_ENTRIES - 1];
    e = &s->entries[s->n_entries++];
    *e = (struct otelgen_stats_entry){ .what = what, .kind = kind, .code = code };
    if (!otelgen_stats_is_success(e))
        e->message = strdup(message != NULL ? message : "");   /* NULL when out of memory: printed as "" */
    *fresh = true;
    return e;
}

bool otelgen_stats_add(struct otelgen_stats *s, const struct otelgen_answer *a)
{
    enum otelgen_stats_what what = a->kind == OTELGEN_ANSWER_FAILED ? OTELGEN_STATS_FAILED : OTELGEN_STATS_ANSWER;
    bool fresh;
    struct otelgen_stats_entry *e = otelgen_stats_entry(s, what, a->kind, a->code, a->message, &fresh);

    e->count++;
    if (what == OTELGEN_STATS_ANSWER)
        s->answered++;
    return fresh && what == OTELGEN_STATS_FAILED;
}

void otelgen_stats_add_unsent(struct otelgen_stats *s, uint64_t n, const char *why)
{
    bool fresh;

    if (n > 0)
        otelgen_stats_entry(s, OTELGEN_STATS_FAILED, OTELGEN_ANSWER_FAILED, 0, why, &fresh)->count += n;
}

bool otelgen_stats_add_conn_error(struct otelgen_stats *s, const char *why)
{
    bool fresh;

    otelgen_stats_entry(s, OTELGEN_STATS_CONN, OTELGEN_ANSWER_FAILED, 0, why, &fresh)->count++;
    return fresh;
}

bool otelgen_stats_all_ok(const struct otelgen_stats *s)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (!otelgen_stats_is_success(&s->entries[i]))
            return false;
    return true;
}

static double otelgen_stats_elapsed(const struct otelgen_stats *s)
{
    return (double)(s->stop.tv_sec - s->start.tv_sec) + (double)(s->stop.tv_nsec - s->start.tv_nsec) / 1e9;
}

static const char *otelgen_stats_label(const struct otelgen_stats_entry *e, char *buf, size_t len)
{
    if (e->kind == OTELGEN_ANSWER_GRPC)
        return otelgen_stats_grpc_name(e->code, buf, len);
    snprintf(buf, len, "%d", e->code);
    return buf;
}

/* Answer entries by status code, so that the line reads the same from run to run. */
static size_t otelgen_stats_sorted_answers(const struct otelgen_stats *s, const struct otelgen_stats_entry **out)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_entries; i++) {
        const struct otelgen_stats_entry *e = &s->entries[i];
        if (e->what != OTELGEN_STATS_ANSWER)
            continue;
        size_t j = n++;
        for (; j > 0 && out[j - 1]->code > e->code; j--)
            out[j] = out[j - 1];
        out[j] = e;
    }
    return n;
}

static void otelgen_stats_print_answers(const struct otelgen_stats *s, FILE *out)
{
    const struct otelgen_stats_entry *sorted[OTELGEN_STATS_ENTRIES];
    size_t n = otelgen_stats_sorted_answers(s, sorted);
    char buf[32];

    fputs("answers:", out);
    if (n == 0)
        fputs(" none", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, " %s=%llu", otelgen_stats_label(sorted[i], buf, sizeof buf),
                (unsigned long long)sorted[i]->count);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++)
        if (!otelgen_stats_is_success(sorted[i]) && sorted[i]->message != NULL && sorted[i]->message[0] != '\0')
            fprintf(out, "  %s: %s\n", otelgen_stats_label(sorted[i], buf, sizeof buf), sorted[i]->message);
}

void otelgen_stats_print(const struct otelgen_stats *s, FILE *out)
{
    double secs = otelgen_stats_elapsed(s), per_s = secs > 0 ? 1 / secs : 0;

    if (s->per_request >= 0)
        fprintf(out, "sent %llu request%s, %llu %s in %.3f s (%.0f %s/s)\n", (unsigned long long)s->answered,
                s->answered == 1 ? "" : "s",
                (unsigned long long)s->answered * (unsigned long long)s->per_request, s->items, secs,
                (double)s->answered * (double)s->per_request * per_s, s->items);
    else
        fprintf(out, "sent %llu request%s in %.3f s (%.0f requests/s)\n", (unsigned long long)s->answered,
                s->answered == 1 ? "" : "s", secs,
                (double)s->answered * per_s);
    otelgen_stats_print_answers(s, out);
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct otelgen_stats_entry *e = &s->entries[i];
        const char *msg = e->message != NULL ? e->message : "";
        if (e->what == OTELGEN_STATS_FAILED)
            fprintf(out, "failed: %llu request%s: %s\n", (unsigned long long)e->count, e->count == 1 ? "" : "s", msg);
        else if (e->what == OTELGEN_STATS_CONN)
            fprintf(out, "connection errors: %llu: %s\n", (unsigned long long)e->count, msg);
    }
}
