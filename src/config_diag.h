/* config_diag.h: how the config loader reports problems: one line each,
 * "file:line:col: what is wrong", errors and warnings counted separately. */
#ifndef OG_CONFIG_DIAG_H
#define OG_CONFIG_DIAG_H

#include <stdio.h>

/* Past this many errors the loader stops reporting: the rest is noise. */
#define CONFIG_DIAG_MAX_ERRORS 20

struct config_diag {
    const char *path;   /* borrowed: the name printed before each position */
    FILE *out;          /* where lines go; stderr in the daemon */
    unsigned errors;
    unsigned warnings;
};

void config_diag_init(struct config_diag *d, const char *path, FILE *out);

/* Prints "path:line:col: message" and counts an error. line 0 omits the
 * position (problems with the file as a whole). */
void config_diag_error(struct config_diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints "path:line:col: warning: message" and counts a warning. */
void config_diag_warn(struct config_diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
