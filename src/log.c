/* log.c: one line per event to stderr, written with a single write(2) so lines
 * from different threads never interleave. Rate limiting is per thread and
 * needs no lock: a thread that repeats itself is the usual flood source. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024
/* After this long a still-repeating message is printed again with its count,
 * so a flood is never silent for longer than this. */
#define LOG_REPEAT_WINDOW_SEC 10

static atomic_int log_threshold = LOG_LEVEL_INFO;

struct log_repeat {
    char last[LOG_LINE_MAX];    /* level + component + message, no timestamp */
    unsigned suppressed;
    time_t since;
};
static _Thread_local struct log_repeat log_repeat_state;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&log_threshold, (int)level, memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
    return (int)level >= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level <= LOG_LEVEL_ERROR ? log_level_names[level] : "?";
}

static void log_write_line(const char *body)
{
    char line[LOG_LINE_MAX + 64];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, body);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;   /* a log line that cannot be written has nowhere else to go */
}

/* Returns true when <body> repeats the previous line of this thread within the
 * window and must not be printed now. */
static bool log_repeat_suppress(const char *body)
{
    struct log_repeat *r = &log_repeat_state;
    time_t now = time(NULL);

    if (strcmp(r->last, body) == 0) {
        if (now - r->since < LOG_REPEAT_WINDOW_SEC) {
            r->suppressed++;
            return true;
        }
    }
    if (r->suppressed > 0) {
        char note[LOG_LINE_MAX + 64];
        snprintf(note, sizeof(note), "%s (repeated %u more times)", r->last, r->suppressed);
        log_write_line(note);
    }
    if (strcmp(r->last, body) == 0 && r->suppressed > 0) {
        /* the flood goes on: its count was just printed, start a new window
         * that already holds this occurrence */
        r->suppressed = 1;
        r->since = now;
        return true;
    }
    snprintf(r->last, sizeof(r->last), "%s", body);
    r->suppressed = 0;
    r->since = now;
    return false;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    char body[LOG_LINE_MAX];
    va_list ap;

    if (!log_enabled(level))
        return;
    int n = snprintf(body, sizeof(body), "%-5s %s: ", log_level_name(level), component);
    if (n < 0 || (size_t)n >= sizeof(body))
        return;
    va_start(ap, fmt);
    vsnprintf(body + n, sizeof(body) - (size_t)n, fmt, ap);
    va_end(ap);
    if (log_repeat_suppress(body))
        return;
    log_write_line(body);
}
