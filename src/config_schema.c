/* config_schema.c: one walker for every component's key table. It parses
 * defaults with the same code as file values, so a default can never be a
 * value the file could not hold. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"
#include "util/suggest.h"
#include "util/units.h"

#define SCHEMA_MAX_KEYS 64

static void *config_schema_field(void *conf, const struct og_config_key *k)
{
    return (char *)conf + k->offset;
}

static const void *config_schema_cfield(const void *conf, const struct og_config_key *k)
{
    return (const char *)conf + k->offset;
}

int config_schema_check_endpoint(const char *s, const char **why)
{
    const char *colon;
    char *end;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            *why = "expected '[address]:port'";
            return -1;
        }
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            *why = "expected 'host:port' (for example localhost:4317)";
            return -1;
        }
        if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
            *why = "an IPv6 address needs brackets: '[::1]:4317'";
            return -1;
        }
    }
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 || port > 65535) {
        *why = "port must be a number from 1 to 65535";
        return -1;
    }
    return 0;
}

static int config_schema_bounds(const struct og_config_key *k, int64_t v, const char **why)
{
    if (k->min == 0 && k->max == 0)
        return 0;
    if (v < k->min || v > k->max) {
        *why = "value out of range";
        return -1;
    }
    return 0;
}

static int config_schema_set_enum(const struct og_config_key *k, const char *s, int *out)
{
    for (int i = 0; k->values[i] != NULL; i++) {
        if (strcmp(k->values[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* Parses scalar text <s> into the field of <k>. Returns 0, or -1 with *why
 * set to a static reason. */
static int config_schema_set_scalar(const struct og_config_key *k, const char *s, void *conf,
                                    const char **why)
{
    void *f = config_schema_field(conf, k);
    int64_t iv;
    uint64_t uv;

    switch (k->type) {
    case KEY_BOOL:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
            *why = "expected true or false";
            return -1;
        }
        *(bool *)f = s[0] == 't';
        return 0;
    case KEY_INT:
        if ((k->flags & OG_KEY_AUTO) && strcmp(s, "auto") == 0) {
            *(int64_t *)f = 0;
            return 0;
        }
        if (units_parse_int(s, &iv, why) != 0 || config_schema_bounds(k, iv, why) != 0)
            return -1;
        *(int64_t *)f = iv;
        return 0;
    case KEY_SIZE:
        if (units_parse_size(s, &uv, why) != 0)
            return -1;
        if (uv > INT64_MAX || config_schema_bounds(k, (int64_t)uv, why) != 0) {
            *why = "value out of range";
            return -1;
        }
        *(uint64_t *)f = uv;
        return 0;
    case KEY_DURATION:
        if (units_parse_duration(s, &iv, why) != 0 || config_schema_bounds(k, iv, why) != 0)
            return -1;
        *(int64_t *)f = iv;
        return 0;
    case KEY_ENUM:
        if (config_schema_set_enum(k, s, (int *)f) != 0) {
            *why = "not one of the allowed values";
            return -1;
        }
        return 0;
    case KEY_ENDPOINT:
        if (config_schema_check_endpoint(s, why) != 0)
            return -1;
        /* fall through */
    case KEY_STRING: {
        char *copy = strdup(s);
        if (copy == NULL) {
            *why = "out of memory";
            return -1;
        }
        free(*(char **)f);
        *(char **)f = copy;
        return 0;
    }
    case KEY_STRLIST:
    case KEY_SECTION:
    case KEY_CUSTOM:
        break;
    }
    *why = "internal: not a scalar key";
    return -1;
}

/* Explains a refused value with what the key accepts. */
static void config_schema_report_value(const struct og_config_key *k, const struct cfg_node *v,
                                       const char *where, const char *why, struct config_diag *d)
{
    char lo[32], hi[32];

    if (strcmp(why, "value out of range") == 0) {
        if (k->type == KEY_DURATION) {
            units_format_duration(k->min, lo, sizeof(lo));
            units_format_duration(k->max, hi, sizeof(hi));
        } else if (k->type == KEY_SIZE) {
            units_format_size((uint64_t)k->min, lo, sizeof(lo));
            units_format_size((uint64_t)k->max, hi, sizeof(hi));
        } else {
            snprintf(lo, sizeof(lo), "%" PRId64, k->min);
            snprintf(hi, sizeof(hi), "%" PRId64, k->max);
        }
        config_diag_error(d, v->line, v->col, "%s.%s: '%s' is out of range (%s to %s)", where, k->name,
                          v->value, lo, hi);
    } else if (k->type == KEY_ENUM) {
        char allowed[256] = "";
        for (int i = 0; k->values[i] != NULL; i++) {
            strncat(allowed, i ? ", " : "", sizeof(allowed) - strlen(allowed) - 1);
            strncat(allowed, k->values[i], sizeof(allowed) - strlen(allowed) - 1);
        }
        config_diag_error(d, v->line, v->col, "%s.%s: '%s' is not one of: %s", where, k->name, v->value,
                          allowed);
    } else {
        config_diag_error(d, v->line, v->col, "%s.%s: '%s': %s", where, k->name, v->value, why);
    }
}

static int config_schema_set_list(const struct og_config_key *k, const struct cfg_node *v, void *conf,
                                  const char *where, struct config_diag *d)
{
    struct config_strlist *l = config_schema_field(conf, k);

    if (v->kind == CFG_NULL)
        return 0;
    if (v->kind != CFG_SEQ) {
        config_diag_error(d, v->line, v->col, "%s.%s: expected a list, found %s", where, k->name,
                          config_yaml_kind_name(v->kind));
        return -1;
    }
    l->v = calloc(v->n ? v->n : 1, sizeof(char *));
    if (l->v == NULL)
        return -1;
    for (size_t i = 0; i < v->n; i++) {
        const struct cfg_node *it = v->items[i];
        if (it->kind != CFG_SCALAR) {
            config_diag_error(d, it->line, it->col, "%s.%s: list items must be strings, found %s", where,
                              k->name, config_yaml_kind_name(it->kind));
            return -1;
        }
        l->v[l->n] = strdup(it->value);
        if (l->v[l->n] == NULL)
            return -1;
        l->n++;
    }
    return 0;
}

static int config_schema_set_node(const struct og_config_key *k, const struct cfg_node *v, void *conf,
                                  const char *where, struct config_diag *d)
{
    const char *why = NULL;

    if (k->type == KEY_SECTION) {
        char sub_where[256];
        snprintf(sub_where, sizeof(sub_where), "%s.%s", where, k->name);
        if (k->flags & OG_KEY_PRESENCE)
            *(bool *)config_schema_field(conf, k) = true;
        return config_schema_apply(k->sub, v, config_schema_field(conf, k), sub_where, d);
    }
    if (k->type == KEY_STRLIST)
        return config_schema_set_list(k, v, conf, where, d);
    if (k->type == KEY_CUSTOM || v->kind == CFG_NULL)
        return 0;   /* "key:" with no value keeps the default, as an absent key does */
    if (v->kind != CFG_SCALAR) {
        config_diag_error(d, v->line, v->col, "%s.%s: expected a value, found %s", where, k->name,
                          config_yaml_kind_name(v->kind));
        return -1;
    }
    if (config_schema_set_scalar(k, v->value, conf, &why) != 0) {
        config_schema_report_value(k, v, where, why, d);
        return -1;
    }
    return 0;
}

static void config_schema_report_unknown(const struct og_config_key *keys, const struct cfg_node *key,
                                         const char *where, struct config_diag *d)
{
    const char *names[SCHEMA_MAX_KEYS];
    size_t n = 0;

    for (const struct og_config_key *k = keys; k->name != NULL && n < SCHEMA_MAX_KEYS; k++)
        names[n++] = k->name;
    const char *near = suggest_nearest(key->value, names, n);
    if (near != NULL)
        config_diag_error(d, key->line, key->col, "unknown key '%s' in %s (did you mean '%s'?)", key->value,
                          where, near);
    else
        config_diag_error(d, key->line, key->col, "unknown key '%s' in %s", key->value, where);
}

/* Fills every key of <keys> that <map> did not set with its default. */
static int config_schema_defaults(const struct og_config_key *keys, const struct cfg_node *map, void *conf,
                                  const char *where, struct config_diag *d)
{
    int rc = 0;

    for (const struct og_config_key *k = keys; k->name != NULL; k++) {
        const char *why = NULL;
        const struct cfg_node *v = config_yaml_get(map, k->name);
        if (k->type == KEY_CUSTOM || (v != NULL && (v->kind != CFG_NULL || k->type == KEY_SECTION ||
                                                    k->type == KEY_STRLIST)))
            continue;
        if (k->type == KEY_SECTION) {
            char sub_where[256];
            snprintf(sub_where, sizeof(sub_where), "%s.%s", where, k->name);
            rc |= config_schema_apply(k->sub, NULL, config_schema_field(conf, k), sub_where, d);
        } else if (k->flags & OG_KEY_REQUIRED) {
            if (map != NULL && map->kind == CFG_MAP)
                config_diag_error(d, map->line, map->col, "%s: missing required key '%s'", where, k->name);
            else
                config_diag_error(d, 0, 0, "%s: missing required key '%s'", where, k->name);
            rc = -1;
        } else if (k->def != NULL && config_schema_set_scalar(k, k->def, conf, &why) != 0) {
            config_diag_error(d, 0, 0, "internal: default of %s.%s is invalid: %s", where, k->name, why);
            rc = -1;
        }
    }
    return rc;
}

int config_schema_apply(const struct og_config_key *keys, const struct cfg_node *map, void *conf,
                        const char *where, struct config_diag *d)
{
    int rc = 0;

    if (map != NULL && map->kind != CFG_MAP && map->kind != CFG_NULL) {
        config_diag_error(d, map->line, map->col, "%s: expected a mapping, found %s", where,
                          config_yaml_kind_name(map->kind));
        return -1;
    }
    if (map != NULL && map->kind == CFG_MAP) {
        for (size_t i = 0; i < map->n; i++) {
            const struct og_config_key *k = keys;
            while (k->name != NULL && strcmp(k->name, map->keys[i]->value) != 0)
                k++;
            if (k->name == NULL) {
                config_schema_report_unknown(keys, map->keys[i], where, d);
                rc = -1;
                continue;
            }
            if (config_schema_set_node(k, map->items[i], conf, where, d) != 0)
                rc = -1;
        }
    }
    if (config_schema_defaults(keys, map, conf, where, d) != 0)
        rc = -1;
    return rc;
}

void config_schema_free(const struct og_config_key *keys, void *conf)
{
    for (const struct og_config_key *k = keys; k->name != NULL; k++) {
        void *f = config_schema_field(conf, k);
        if (k->type == KEY_STRING || k->type == KEY_ENDPOINT) {
            free(*(char **)f);
            *(char **)f = NULL;
        } else if (k->type == KEY_STRLIST) {
            struct config_strlist *l = f;
            for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        } else if (k->type == KEY_SECTION) {
            config_schema_free(k->sub, f);
        }
    }
}

/* Returns true when <s> would not read back as the same plain YAML scalar. */
static bool config_schema_needs_quotes(const char *s)
{
    static const char *const words[] = { "null", "Null", "NULL", "~", "true", "false", "yes", "no", NULL };
    size_t len = strlen(s);

    if (len == 0 || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) != NULL || s[len - 1] == ' ' || s[len - 1] == ':')
        return true;
    if (strstr(s, ": ") != NULL || strstr(s, " #") != NULL || strpbrk(s, "\"\\\t\n") != NULL)
        return true;
    for (size_t i = 0; words[i] != NULL; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

/* Writes a string as YAML, quoted only when a plain scalar would be misread.
 * '$' is doubled: the printed file goes through ${env:...} expansion again
 * when it is loaded. */
static void config_schema_print_string(const char *s, FILE *out)
{
    bool quote = s == NULL || config_schema_needs_quotes(s);

    if (s == NULL) {
        fputs("\"\"", out);
        return;
    }
    if (quote)
        fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '$')
            fputc('$', out);
        if (quote && (*p == '"' || *p == '\\'))
            fputc('\\', out);
        if (quote && *p == '\n')
            fputs("\\n", out);
        else if (quote && *p == '\t')
            fputs("\\t", out);
        else
            fputc(*p, out);
    }
    if (quote)
        fputc('"', out);
}

static void config_schema_print_value(const struct og_config_key *k, const void *f, FILE *out)
{
    char buf[64];

    switch (k->type) {
    case KEY_BOOL: fputs(*(const bool *)f ? "true" : "false", out); break;
    case KEY_INT:
        if ((k->flags & OG_KEY_AUTO) && *(const int64_t *)f == 0)
            fputs("auto", out);
        else
            fprintf(out, "%" PRId64, *(const int64_t *)f);
        break;
    case KEY_SIZE: units_format_size(*(const uint64_t *)f, buf, sizeof(buf)); fputs(buf, out); break;
    case KEY_DURATION: units_format_duration(*(const int64_t *)f, buf, sizeof(buf)); fputs(buf, out); break;
    case KEY_ENUM: fputs(k->values[*(const int *)f], out); break;
    case KEY_STRING:
    case KEY_ENDPOINT: config_schema_print_string(*(char *const *)f, out); break;
    case KEY_STRLIST: {
        const struct config_strlist *l = f;
        fputc('[', out);
        for (size_t i = 0; i < l->n; i++) {
            fputs(i ? ", " : "", out);
            config_schema_print_string(l->v[i], out);
        }
        fputc(']', out);
        break;
    }
    case KEY_SECTION:
    case KEY_CUSTOM: break;
    }
}

void config_schema_print(const struct og_config_key *keys, const void *conf, FILE *out, int indent)
{
    for (const struct og_config_key *k = keys; k->name != NULL; k++) {
        const void *f = config_schema_cfield(conf, k);
        if (k->type == KEY_CUSTOM)
            continue;
        if (k->type == KEY_SECTION && (k->flags & OG_KEY_PRESENCE) && !*(const bool *)f)
            continue;   /* absent: printing it would switch it on when read back */
        fprintf(out, "%*s%s:", indent, "", k->name);
        if (k->type == KEY_SECTION) {
            fputc('\n', out);
            config_schema_print(k->sub, f, out, indent + 2);
            continue;
        }
        if (k->type != KEY_STRING || *(char *const *)f != NULL || k->def != NULL) {
            fputc(' ', out);
            config_schema_print_value(k, f, out);
        }
        fputc('\n', out);
    }
}
