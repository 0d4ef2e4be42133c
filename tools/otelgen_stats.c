/* otelgen_stats.c: the tally of answers. A run sees a handful of distinct statuses, so a small array
 * searched linearly beats any table; failure messages are copied once, when first seen. Latencies go to a
 * histogram embedded in the tally, so counting an answer never allocates. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otelgen_stats.h"

#define OTELGEN_STATS_ENTRIES 64            /* distinct statuses and failure reasons; more are lumped */

enum otelgen_stats_what {
    OTELGEN_STATS_ANSWER,                   /* an HTTP or gRPC answer */
    OTELGEN_STATS_FAILED,                   /* requests that finally got no answer */
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
    uint64_t answered;                      /* HTTP or gRPC answers, whatever the status, retries included */
    uint64_t outcomes[OTELGEN_STATS_UNANSWERED + 1];    /* requests by final outcome */
    uint64_t retries;
    struct otelgen_hist latency;
    struct otelgen_stats_interval interval; /* since the last otelgen_stats_publish */
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

void otelgen_stats_format_ms(uint64_t ns, char *buf, size_t len)
{
    unsigned long long us = (unsigned long long)(ns + 500) / 1000;

    snprintf(buf, len, "%llu.%03llu", us / 1000, us % 1000);
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

static bool otelgen_stats_success(enum otelgen_answer_kind kind, int code)
{
    return kind == OTELGEN_ANSWER_GRPC ? code == 0 : kind == OTELGEN_ANSWER_HTTP && code >= 200 && code < 300;
}

static bool otelgen_stats_is_success(const struct otelgen_stats_entry *e)
{
    return e->what == OTELGEN_STATS_ANSWER && otelgen_stats_success(e->kind, e->code);
}

/* The entry for (what, kind, code, message): answers are keyed by status, failures by their message. When
 * the array is full, the last entry takes everything else. Sets *fresh when the entry is new; a message
 * that cannot be copied (out of memory) is kept as NULL and printed as "". */
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
        e->message = strdup(message != NULL ? message : "");
    *fresh = true;
    return e;
}

void otelgen_stats_add(struct otelgen_stats *s, const struct otelgen_answer *a, uint64_t latency_ns)
{
    bool fresh;

    if (!otelgen_stats_success(a->kind, a->code))
        s->interval.errors++;
    if (a->kind == OTELGEN_ANSWER_FAILED)
        return;
    otelgen_stats_entry(s, OTELGEN_STATS_ANSWER, a->kind, a->code, a->message, &fresh)->count++;
    s->answered++;
    s->interval.answers++;
    otelgen_hist_record(&s->latency, latency_ns);
    otelgen_hist_record(&s->interval.latency, latency_ns);
}

void otelgen_stats_settle(struct otelgen_stats *s, enum otelgen_stats_outcome outcome, const char *why)
{
    bool fresh;

    s->outcomes[outcome]++;
    if (outcome == OTELGEN_STATS_UNANSWERED)
        otelgen_stats_entry(s, OTELGEN_STATS_FAILED, OTELGEN_ANSWER_FAILED, 0, why, &fresh)->count++;
}

void otelgen_stats_add_retry(struct otelgen_stats *s)
{
    s->retries++;
}

void otelgen_stats_add_unsent(struct otelgen_stats *s, uint64_t n, const char *why)
{
    bool fresh;

    if (n == 0)
        return;
    otelgen_stats_entry(s, OTELGEN_STATS_FAILED, OTELGEN_ANSWER_FAILED, 0, why, &fresh)->count += n;
    s->outcomes[OTELGEN_STATS_UNANSWERED] += n;
    s->interval.errors += n;
}

bool otelgen_stats_add_conn_error(struct otelgen_stats *s, const char *why)
{
    bool fresh;

    otelgen_stats_entry(s, OTELGEN_STATS_CONN, OTELGEN_ANSWER_FAILED, 0, why, &fresh)->count++;
    return fresh;
}

static uint64_t otelgen_stats_failed(const struct otelgen_stats *s)
{
    return s->outcomes[OTELGEN_STATS_REFUSED] + s->outcomes[OTELGEN_STATS_UNANSWERED];
}

bool otelgen_stats_all_ok(const struct otelgen_stats *s, bool retrying)
{
    if (otelgen_stats_failed(s) > 0)
        return false;
    for (size_t i = 0; i < s->n_entries && !retrying; i++)
        if (s->entries[i].what == OTELGEN_STATS_CONN)
            return false;
    return true;
}

static bool otelgen_stats_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int otelgen_stats_merge(struct otelgen_stats *dst, const struct otelgen_stats *src)
{
    int rc = 0;
    bool fresh;

    for (size_t i = 0; i < src->n_entries; i++) {
        const struct otelgen_stats_entry *e = &src->entries[i];
        struct otelgen_stats_entry *d =
            otelgen_stats_entry(dst, e->what, e->kind, e->code, e->message != NULL ? e->message : "", &fresh);
        d->count += e->count;
        if (d->message == NULL && !otelgen_stats_is_success(d))
            rc = -1;
    }
    dst->answered += src->answered;
    for (size_t i = 0; i < sizeof dst->outcomes / sizeof dst->outcomes[0]; i++)
        dst->outcomes[i] += src->outcomes[i];
    dst->retries += src->retries;
    otelgen_hist_merge(&dst->latency, &src->latency);
    if (otelgen_stats_before(&src->start, &dst->start))
        dst->start = src->start;
    if (otelgen_stats_before(&dst->stop, &src->stop))
        dst->stop = src->stop;
    return rc;
}

void otelgen_stats_publish(struct otelgen_stats *s, struct otelgen_stats_feed *feed)
{
    pthread_mutex_lock(&feed->lock);
    feed->pending.answers += s->interval.answers;
    feed->pending.errors += s->interval.errors;
    feed->errors_total += s->interval.errors;
    otelgen_hist_merge(&feed->pending.latency, &s->interval.latency);
    pthread_mutex_unlock(&feed->lock);
    memset(&s->interval, 0, sizeof s->interval);
}

/* ---- the summary ---- */

static double otelgen_stats_elapsed(const struct otelgen_stats *s)
{
    return (double)(s->stop.tv_sec - s->start.tv_sec) + (double)(s->stop.tv_nsec - s->start.tv_nsec) / 1e9;
}

/* Requests that got a final answer, whatever it was: what "sent" counts. */
static uint64_t otelgen_stats_requests(const struct otelgen_stats *s)
{
    return s->outcomes[OTELGEN_STATS_ACKNOWLEDGED] + s->outcomes[OTELGEN_STATS_REFUSED];
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

static void otelgen_stats_print_outcomes(const struct otelgen_stats *s, FILE *out)
{
    uint64_t ack = s->outcomes[OTELGEN_STATS_ACKNOWLEDGED], failed = otelgen_stats_failed(s);

    if (s->retries > 0)
        fprintf(out, "retries: %llu\n", (unsigned long long)s->retries);
    fprintf(out, "acknowledged: %llu request%s", (unsigned long long)ack, ack == 1 ? "" : "s");
    if (s->per_request >= 0)
        fprintf(out, ", %llu %s", (unsigned long long)ack * (unsigned long long)s->per_request, s->items);
    fprintf(out, "; failed: %llu request%s\n", (unsigned long long)failed, failed == 1 ? "" : "s");
}

static void otelgen_stats_print_latency(const struct otelgen_stats *s, FILE *out)
{
    static const double pct[] = { 50, 90, 99 };
    char buf[32];

    if (s->latency.count == 0)
        return;
    fputs("latency:", out);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        otelgen_stats_format_ms(otelgen_hist_percentile(&s->latency, pct[i]), buf, sizeof buf);
        fprintf(out, " p%.0f %s ms,", pct[i], buf);
    }
    otelgen_stats_format_ms(s->latency.max, buf, sizeof buf);
    fprintf(out, " max %s ms\n", buf);
}

void otelgen_stats_print(const struct otelgen_stats *s, FILE *out)
{
    double secs = otelgen_stats_elapsed(s), per_s = secs > 0 ? 1 / secs : 0;
    uint64_t n = otelgen_stats_requests(s);

    if (s->per_request >= 0)
        fprintf(out, "sent %llu request%s, %llu %s in %.3f s (%.0f %s/s)\n", (unsigned long long)n,
                n == 1 ? "" : "s", (unsigned long long)n * (unsigned long long)s->per_request, s->items, secs,
                (double)n * (double)s->per_request * per_s, s->items);
    else
        fprintf(out, "sent %llu request%s in %.3f s (%.0f requests/s)\n", (unsigned long long)n, n == 1 ? "" : "s",
                secs, (double)n * per_s);
    otelgen_stats_print_answers(s, out);
    otelgen_stats_print_outcomes(s, out);
    otelgen_stats_print_latency(s, out);
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct otelgen_stats_entry *e = &s->entries[i];
        const char *msg = e->message != NULL ? e->message : "";
        if (e->what == OTELGEN_STATS_FAILED)
            fprintf(out, "failed: %llu request%s: %s\n", (unsigned long long)e->count, e->count == 1 ? "" : "s", msg);
        else if (e->what == OTELGEN_STATS_CONN)
            fprintf(out, "connection errors: %llu: %s\n", (unsigned long long)e->count, msg);
    }
}

/* ---- the same as JSON ---- */

static void otelgen_stats_json_string(const char *v, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(v != NULL ? v : ""); *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* "count" fields of items: null when the payload's items could not be counted. */
static void otelgen_stats_json_items(const struct otelgen_stats *s, const char *name, uint64_t requests, FILE *out)
{
    if (s->per_request >= 0)
        fprintf(out, ",\"%s\":%llu", name, (unsigned long long)requests * (unsigned long long)s->per_request);
    else
        fprintf(out, ",\"%s\":null", name);
}

static void otelgen_stats_json_entries(const struct otelgen_stats *s, enum otelgen_stats_what what, const char *name,
                                       FILE *out)
{
    const char *sep = "";

    fprintf(out, ",\"%s\":{", name);
    for (size_t i = 0; i < s->n_entries; i++) {
        if (s->entries[i].what != what)
            continue;
        fputs(sep, out);
        otelgen_stats_json_string(s->entries[i].message, out);
        fprintf(out, ":%llu", (unsigned long long)s->entries[i].count);
        sep = ",";
    }
    fputc('}', out);
}

static void otelgen_stats_json_answers(const struct otelgen_stats *s, FILE *out)
{
    const struct otelgen_stats_entry *sorted[OTELGEN_STATS_ENTRIES];
    size_t n = otelgen_stats_sorted_answers(s, sorted);
    char buf[32];

    fputs(",\"answers\":{", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\"%s\":%llu", i > 0 ? "," : "", otelgen_stats_label(sorted[i], buf, sizeof buf),
                (unsigned long long)sorted[i]->count);
    fputc('}', out);
}

static void otelgen_stats_json_latency(const struct otelgen_stats *s, FILE *out)
{
    static const double pct[] = { 50, 90, 99 };
    char buf[32];

    fputs(",\"latency_ms\":{", out);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        otelgen_stats_format_ms(otelgen_hist_percentile(&s->latency, pct[i]), buf, sizeof buf);
        fprintf(out, "\"p%.0f\":%s,", pct[i], buf);
    }
    otelgen_stats_format_ms(s->latency.max, buf, sizeof buf);
    fprintf(out, "\"max\":%s}", buf);
}

void otelgen_stats_print_json(const struct otelgen_stats *s, const char *protocol, const char *signal, FILE *out)
{
    double secs = otelgen_stats_elapsed(s);
    uint64_t n = otelgen_stats_requests(s), ack = s->outcomes[OTELGEN_STATS_ACKNOWLEDGED];

    fputs("{\"protocol\":", out);
    otelgen_stats_json_string(protocol, out);
    fputs(",\"signal\":", out);
    otelgen_stats_json_string(signal, out);
    fputs(",\"item\":", out);
    otelgen_stats_json_string(s->items, out);
    otelgen_stats_json_items(s, "items_per_request", 1, out);
    fprintf(out, ",\"requests\":%llu", (unsigned long long)n);
    otelgen_stats_json_items(s, "items", n, out);
    fprintf(out, ",\"acknowledged_requests\":%llu", (unsigned long long)ack);
    otelgen_stats_json_items(s, "acknowledged_items", ack, out);
    fprintf(out, ",\"failed_requests\":%llu,\"unanswered_requests\":%llu,\"retries\":%llu",
            (unsigned long long)otelgen_stats_failed(s), (unsigned long long)s->outcomes[OTELGEN_STATS_UNANSWERED],
            (unsigned long long)s->retries);
    otelgen_stats_json_answers(s, out);
    otelgen_stats_json_entries(s, OTELGEN_STATS_FAILED, "errors", out);
    otelgen_stats_json_entries(s, OTELGEN_STATS_CONN, "connection_errors", out);
    fprintf(out, ",\"seconds\":%.3f,\"requests_per_second\":%.1f", secs, secs > 0 ? (double)n / secs : 0.0);
    if (s->per_request >= 0)
        fprintf(out, ",\"items_per_second\":%.1f",
                secs > 0 ? (double)n * (double)s->per_request / secs : 0.0);
    else
        fputs(",\"items_per_second\":null", out);
    otelgen_stats_json_latency(s, out);
    fputs("}\n", out);
}
