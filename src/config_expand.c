/* config_expand.c: ${...} references in config values. One left-to-right pass copies text and inserts values;
 * nothing inserted is scanned again, so a secret that happens to contain "${" or "$$" arrives intact.
 * Every refusal names the offending reference, because the caller only adds the file position. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_expand.h"

/* How much of a name a reason quotes: enough to recognise it, short enough for the caller's err buffer. */
#define CONFIG_EXPAND_SAMPLE_MAX 64

/* The output being built, and where a refusal is reported. */
struct config_expand_ctx {
    char *data;
    size_t len;
    size_t cap;
    char *err;
    size_t errlen;
};

/* One reference split into its parts; the pointers borrow from the input. */
struct config_expand_ref {
    const char *name;
    size_t name_len;
    const char *def;
    size_t def_len;
    bool has_default;
};

static int config_expand_fail(struct config_expand_ctx *c, const char *why)
{
    snprintf(c->err, c->errlen, "%s", why);
    return -1;
}

/* Copies at most CONFIG_EXPAND_SAMPLE_MAX bytes of s[0..n) into <out>, never splitting a UTF-8 sequence,
 * with control characters as '?' so the reason stays one printable line. */
static void config_expand_sample(char out[CONFIG_EXPAND_SAMPLE_MAX + 4], const char *s, size_t n)
{
    size_t k = n, i;

    if (n > CONFIG_EXPAND_SAMPLE_MAX) {
        k = CONFIG_EXPAND_SAMPLE_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
    }
    for (i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    strcpy(out + i, k < n ? "..." : "");
}

static int config_expand_grow(struct config_expand_ctx *c, size_t need)
{
    size_t cap = c->cap;
    char *data;

    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return config_expand_fail(c, "out of memory");
        cap *= 2;
    }
    data = realloc(c->data, cap);
    if (data == NULL)
        return config_expand_fail(c, "out of memory");
    c->data = data;
    c->cap = cap;
    return 0;
}

static int config_expand_append(struct config_expand_ctx *c, const char *s, size_t n)
{
    if (n > SIZE_MAX - c->len - 1)
        return config_expand_fail(c, "out of memory");
    if (c->len + n + 1 > c->cap && config_expand_grow(c, c->len + n + 1) != 0)
        return -1;
    memcpy(c->data + c->len, s, n);
    c->len += n;
    c->data[c->len] = '\0';
    return 0;
}

static bool config_expand_is_name(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = s[i];
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return false;
    }
    return n > 0;
}

/* The Collector's URI scheme syntax, so that ${file:...} and ${http://...} are named as providers. */
static bool config_expand_is_scheme(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = s[i];
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
        bool other = (ch >= '0' && ch <= '9') || ch == '+' || ch == '.' || ch == '-';
        if (!alpha && !(i > 0 && other))
            return false;
    }
    return n > 0;
}

static int config_expand_fail_name(struct config_expand_ctx *c, const struct config_expand_ref *r)
{
    char name[CONFIG_EXPAND_SAMPLE_MAX + 4];

    config_expand_sample(name, r->name, r->name_len);
    snprintf(c->err, c->errlen, "invalid environment variable name '%s'", name);
    return -1;
}

static int config_expand_fail_unset(struct config_expand_ctx *c, const struct config_expand_ref *r)
{
    char name[CONFIG_EXPAND_SAMPLE_MAX + 4];

    config_expand_sample(name, r->name, r->name_len);
    snprintf(c->err, c->errlen,
             "environment variable '%s' is not set (write ${env:%s:-default} to give a default)", name, name);
    return -1;
}

/* ${FOO:-x} reads like the shell, but the Collector parses it as provider "FOO"; say what to write instead. */
static int config_expand_fail_prefix(struct config_expand_ctx *c, const char *s, size_t n)
{
    char name[CONFIG_EXPAND_SAMPLE_MAX + 4];

    config_expand_sample(name, s, n);
    snprintf(c->err, c->errlen, "'${%s:-...}' needs the env: prefix (write ${env:%s:-default})", name, name);
    return -1;
}

static int config_expand_fail_provider(struct config_expand_ctx *c, const char *s, size_t n)
{
    char scheme[CONFIG_EXPAND_SAMPLE_MAX + 4];

    config_expand_sample(scheme, s, n);
    snprintf(c->err, c->errlen, "unsupported config provider '%s' (only env is supported)", scheme);
    return -1;
}

/* Splits "NAME" or "NAME:-default" (the part after "env:") at its first ":-", as the Collector does. */
static void config_expand_split_default(const char *s, size_t n, struct config_expand_ref *r)
{
    size_t i;

    r->name = s;
    r->name_len = n;
    for (i = 0; i + 1 < n; i++) {
        if (s[i] == ':' && s[i + 1] == '-') {
            r->name_len = i;
            r->def = s + i + 2;
            r->def_len = n - i - 2;
            r->has_default = true;
            return;
        }
    }
}

/* Parses the text between "${" and "}" (s[0..n), free of '}' and "${") into <r>; refuses all but env. */
static int config_expand_parse(struct config_expand_ctx *c, const char *s, size_t n, struct config_expand_ref *r)
{
    const char *colon = memchr(s, ':', n);
    size_t plen = colon == NULL ? n : (size_t)(colon - s);

    memset(r, 0, sizeof(*r));
    r->name = s;
    r->name_len = n;
    if (colon != NULL && plen == 3 && memcmp(s, "env", 3) == 0)
        config_expand_split_default(colon + 1, n - plen - 1, r);
    else if (colon != NULL && plen + 1 < n && colon[1] == '-' && config_expand_is_name(s, plen))
        return config_expand_fail_prefix(c, s, plen);
    else if (colon != NULL && config_expand_is_scheme(s, plen))
        return config_expand_fail_provider(c, s, plen);
    if (!config_expand_is_name(r->name, r->name_len))
        return config_expand_fail_name(c, r);
    return 0;
}

/* Appends the variable's value, or the default when shell ":-" rules call for it. */
static int config_expand_resolve(struct config_expand_ctx *c, const struct config_expand_ref *r)
{
    char *name = malloc(r->name_len + 1);
    const char *value;

    if (name == NULL)
        return config_expand_fail(c, "out of memory");
    memcpy(name, r->name, r->name_len);
    name[r->name_len] = '\0';
    value = getenv(name);
    free(name);
    name = NULL;
    if (r->has_default && (value == NULL || value[0] == '\0'))
        return config_expand_append(c, r->def, r->def_len);
    if (value == NULL)
        return config_expand_fail_unset(c, r);
    return config_expand_append(c, value, strlen(value));
}

/* Expands the reference whose text starts at <s>, just after "${"; on success *next is past its '}'. */
static int config_expand_reference(struct config_expand_ctx *c, const char *s, const char **next)
{
    const char *close = strchr(s, '}');
    struct config_expand_ref r;
    size_t n;

    if (close == NULL)
        return config_expand_fail(c, "unterminated '${' in value");
    n = (size_t)(close - s);
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == '$' && s[i + 1] == '{')
            return config_expand_fail(c, "nested '${' in value (expansion is not recursive)");
    }
    if (config_expand_parse(c, s, n, &r) != 0 || config_expand_resolve(c, &r) != 0)
        return -1;
    *next = close + 1;
    return 0;
}

/* Copies the text at *pp up to the next '$', then handles that '$' and what follows; moves *pp past both. */
static int config_expand_step(struct config_expand_ctx *c, const char **pp)
{
    const char *p = *pp;
    const char *dollar = strchr(p, '$');

    if (dollar == NULL) {
        *pp = p + strlen(p);
        return config_expand_append(c, p, (size_t)(*pp - p));
    }
    if (config_expand_append(c, p, (size_t)(dollar - p)) != 0)
        return -1;
    if (dollar[1] == '{')
        return config_expand_reference(c, dollar + 2, pp);
    /* "$$" is an escaped '$'; a '$' before anything else is already literal. */
    *pp = dollar + (dollar[1] == '$' ? 2 : 1);
    return config_expand_append(c, "$", 1);
}

int config_expand(const char *in, char **out, char *err, size_t errlen)
{
    struct config_expand_ctx c = {.err = err, .errlen = errlen};
    const char *p = in;

    *out = NULL;
    if (in == NULL)
        return config_expand_fail(&c, "no value to expand");
    c.cap = strlen(in) + 1;
    c.data = malloc(c.cap);
    if (c.data == NULL)
        return config_expand_fail(&c, "out of memory");
    c.data[0] = '\0';
    while (*p != '\0') {
        if (config_expand_step(&c, &p) != 0) {
            free(c.data);
            c.data = NULL;
            return -1;
        }
    }
    *out = c.data;
    return 0;
}
