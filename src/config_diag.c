/* config_diag.c: error and warning lines of the config loader. */
#include "autoconf.h"

#include <stdarg.h>

#include "config_diag.h"

void config_diag_init(struct config_diag *d, const char *path, FILE *out)
{
    d->path = path;
    d->out = out;
    d->errors = 0;
    d->warnings = 0;
}

static void config_diag_vprint(struct config_diag *d, int line, int col, const char *kind,
                               const char *fmt, va_list ap)
{
    if (line > 0)
        fprintf(d->out, "%s:%d:%d: %s", d->path, line, col, kind);
    else
        fprintf(d->out, "%s: %s", d->path, kind);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
}

void config_diag_error(struct config_diag *d, int line, int col, const char *fmt, ...)
{
    va_list ap;

    d->errors++;
    if (d->errors > CONFIG_DIAG_MAX_ERRORS)
        return;
    va_start(ap, fmt);
    config_diag_vprint(d, line, col, "", fmt, ap);
    va_end(ap);
    if (d->errors == CONFIG_DIAG_MAX_ERRORS)
        fprintf(d->out, "%s: too many errors, stopping here\n", d->path);
}

void config_diag_warn(struct config_diag *d, int line, int col, const char *fmt, ...)
{
    va_list ap;

    d->warnings++;
    va_start(ap, fmt);
    config_diag_vprint(d, line, col, "warning: ", fmt, ap);
    va_end(ap);
}
