/* log.h: the daemon's log. One line per event on stderr:
 *   2026-11-25T22:48:40.123Z info  health_check: listening endpoint=127.0.0.1:13133
 * A message repeated back to back by one thread is printed once, then counted. */
#ifndef OG_LOG_H
#define OG_LOG_H

#include <stdbool.h>

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

/* Sets the threshold below which messages are dropped. Called from main before
 * threads start and read lock-free afterwards. */
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Parses "debug", "info", "warn" (or "warning") and "error". Returns 0, or -1
 * leaving *out untouched. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Formats and writes one line. <component> is a component id ("health_check",
 * "otelgate"); <fmt> should end in key=value fields. Never fails visibly: a
 * line that cannot be written is dropped. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(comp, ...) \
    do { if (log_enabled(LOG_LEVEL_DEBUG)) log_msg(LOG_LEVEL_DEBUG, comp, __VA_ARGS__); } while (0)
#define log_info(comp, ...)  log_msg(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif
