/* otelgen_sink_faults.c: parsing, printing and matching of the sink's fault rules. A JSON rule is turned into
 * the KEY=VALUE pairs of a --fault spec before it is checked, so both forms accept and refuse the same. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelgen_signal.h"
#include "otelgen_sink_faults.h"
#include "util/units.h"

#define OTELGEN_SINK_FAULT_DEFAULT_DELAY_MS 1000
#define OTELGEN_SINK_FAULT_MAX_DELAY_MS (3600 * 1000)
#define OTELGEN_SINK_FAULT_MAX_RETRY_AFTER 3600

static const char *const otelgen_sink_fault_modes[OTELGEN_SINK_FAULT_MODES] = {
    [OTELGEN_SINK_FAULT_UNAVAILABLE] = "unavailable",
    [OTELGEN_SINK_FAULT_REJECT] = "reject",
    [OTELGEN_SINK_FAULT_DELAY] = "delay",
    [OTELGEN_SINK_FAULT_CLOSE] = "close",
    [OTELGEN_SINK_FAULT_BLACKHOLE] = "blackhole",
};

const char *otelgen_sink_fault_mode_name(enum otelgen_sink_fault_mode mode)
{
    return mode < OTELGEN_SINK_FAULT_MODES ? otelgen_sink_fault_modes[mode] : "?";
}

/* A rule in <mode> with every default: all requests, all tenants, all signals. */
static int otelgen_sink_fault_start(const char *mode, struct otelgen_sink_fault *f, char *err, size_t errlen)
{
    for (int m = 0; m < OTELGEN_SINK_FAULT_MODES; m++) {
        if (strcmp(mode, otelgen_sink_fault_modes[m]) == 0) {
            *f = (struct otelgen_sink_fault){
                .mode = (enum otelgen_sink_fault_mode)m, .ratio = 1, .any_tenant = true, .signal = -1,
                .delay_ms = OTELGEN_SINK_FAULT_DEFAULT_DELAY_MS, .retry_after = 1,
            };
            return 0;
        }
    }
    snprintf(err, errlen, "unknown fault mode '%s' (use unavailable, reject, delay, close or blackhole)", mode);
    return -1;
}

static int otelgen_sink_fault_ratio(struct otelgen_sink_fault *f, const char *value, char *err, size_t errlen)
{
    char *end;
    double r = strtod(value, &end);

    if (value[0] == '\0' || *end != '\0' || !(r >= 0 && r <= 1)) {
        snprintf(err, errlen, "ratio '%s': expects a number from 0 to 1", value);
        return -1;
    }
    f->ratio = r;
    return 0;
}

static int otelgen_sink_fault_delay(struct otelgen_sink_fault *f, const char *value, char *err, size_t errlen)
{
    const char *why;
    int64_t ms;

    if (f->mode != OTELGEN_SINK_FAULT_DELAY) {
        snprintf(err, errlen, "delay= is for mode delay, not %s", otelgen_sink_fault_mode_name(f->mode));
        return -1;
    }
    if (units_parse_duration(value, &ms, &why) != 0) {
        snprintf(err, errlen, "delay '%s': %s", value, why);
        return -1;
    }
    if (ms > OTELGEN_SINK_FAULT_MAX_DELAY_MS) {
        snprintf(err, errlen, "delay '%s': expects a duration from 0s to 1h", value);
        return -1;
    }
    f->delay_ms = ms;
    return 0;
}

static int otelgen_sink_fault_retry_after(struct otelgen_sink_fault *f, const char *value, char *err, size_t errlen)
{
    const char *why;
    int64_t s;

    if (f->mode != OTELGEN_SINK_FAULT_UNAVAILABLE) {
        snprintf(err, errlen, "retry_after= is for mode unavailable, not %s", otelgen_sink_fault_mode_name(f->mode));
        return -1;
    }
    if (units_parse_int(value, &s, &why) != 0 || s < 0 || s > OTELGEN_SINK_FAULT_MAX_RETRY_AFTER) {
        snprintf(err, errlen, "retry_after '%s': expects whole seconds from 0 (no Retry-After) to %d", value,
                 OTELGEN_SINK_FAULT_MAX_RETRY_AFTER);
        return -1;
    }
    f->retry_after = (int)s;
    return 0;
}

static int otelgen_sink_fault_tenant(struct otelgen_sink_fault *f, const char *value, bool tenancy, char *err,
                                     size_t errlen)
{
    if (!tenancy) {
        snprintf(err, errlen, "tenant= needs --tenant-header: without it no request has a tenant");
        return -1;
    }
    if (strlen(value) >= sizeof f->tenant) {
        snprintf(err, errlen, "tenant '%.20s...': longer than %zu bytes", value, sizeof f->tenant - 1);
        return -1;
    }
    f->any_tenant = false;
    snprintf(f->tenant, sizeof f->tenant, "%s", value);
    return 0;
}

/* Sets <key> of <f>; each key at most once (<seen> keeps track). */
static int otelgen_sink_fault_set(struct otelgen_sink_fault *f, const char *key, const char *value, bool tenancy,
                                  unsigned *seen, char *err, size_t errlen)
{
    static const char *const keys[] = { "ratio", "tenant", "signal", "delay", "retry_after" };
    enum otelgen_signal s;

    for (unsigned k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (strcmp(key, keys[k]) != 0)
            continue;
        if (*seen & 1u << k) {
            snprintf(err, errlen, "'%s' given twice", key);
            return -1;
        }
        *seen |= 1u << k;
        switch (k) {
        case 0: return otelgen_sink_fault_ratio(f, value, err, errlen);
        case 1: return otelgen_sink_fault_tenant(f, value, tenancy, err, errlen);
        case 2:
            if (otelgen_signal_parse(value, &s) != 0) {
                snprintf(err, errlen, "signal '%s' is not one of traces, metrics, logs", value);
                return -1;
            }
            f->signal = (int)otelgen_signal_info(s)->og;
            return 0;
        case 3: return otelgen_sink_fault_delay(f, value, err, errlen);
        default: return otelgen_sink_fault_retry_after(f, value, err, errlen);
        }
    }
    snprintf(err, errlen, "unknown key '%s' (use ratio, tenant, signal, delay or retry_after)", key);
    return -1;
}

int otelgen_sink_fault_parse(const char *spec, bool tenancy, struct otelgen_sink_fault *out, char *err,
                             size_t errlen)
{
    char *copy = strdup(spec), *save = NULL;
    unsigned seen = 0;
    int rc = -1;

    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *mode = strtok_r(copy, ",", &save);
    if (mode == NULL)
        snprintf(err, errlen, "empty fault (write MODE[,KEY=VALUE]...)");
    else if (otelgen_sink_fault_start(mode, out, err, errlen) == 0)
        rc = 0;
    for (char *kv; rc == 0 && (kv = strtok_r(NULL, ",", &save)) != NULL;) {
        char *eq = strchr(kv, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "'%s': expects KEY=VALUE", kv);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = otelgen_sink_fault_set(out, kv, eq + 1, tenancy, &seen, err, errlen);
    }
    free(copy);
    return rc;
}

/* A JSON scalar as the text a spec would hold: strings as they are, numbers as written. */
static int otelgen_sink_fault_json_text(const char *key, json_t *v, char *buf, size_t len, char *err, size_t errlen)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.17g", json_real_value(v));
    else {
        snprintf(err, errlen, "'%s': expects a string or a number", key);
        return -1;
    }
    return 0;
}

static int otelgen_sink_fault_from_json(json_t *rule, bool tenancy, struct otelgen_sink_fault *out, char *err,
                                        size_t errlen)
{
    json_t *mode = json_object_get(rule, "mode"), *v;
    const char *key;
    unsigned seen = 0;
    char text[HTTP_REQ_VALUE_MAX + 8];

    if (!json_is_object(rule) || !json_is_string(mode)) {
        snprintf(err, errlen, "expects an object with a \"mode\" string");
        return -1;
    }
    if (otelgen_sink_fault_start(json_string_value(mode), out, err, errlen) != 0)
        return -1;
    json_object_foreach(rule, key, v) {
        if (strcmp(key, "mode") == 0 || strcmp(key, "hits") == 0)     /* hits: GET /faults can be PUT back */
            continue;
        if (otelgen_sink_fault_json_text(key, v, text, sizeof text, err, errlen) != 0 ||
            otelgen_sink_fault_set(out, key, text, tenancy, &seen, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int otelgen_sink_faults_from_json(const char *body, size_t len, bool tenancy, struct otelgen_sink_faults *out,
                                  char *err, size_t errlen)
{
    json_error_t jerr;
    char why[256];
    int rc = 0;

    out->n = 0;
    while (len > 0 && strchr(" \t\r\n", body[len - 1]) != NULL)
        len--;
    if (len == 0)
        return 0;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *list = json_is_object(root) ? json_object_get(root, "faults") : root;
    if (root == NULL) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_array(list) || json_array_size(list) > OTELGEN_SINK_MAX_FAULTS) {
        snprintf(err, errlen, "expects an array of at most %d fault rules, or {\"faults\": [...]}",
                 OTELGEN_SINK_MAX_FAULTS);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
        if (otelgen_sink_fault_from_json(json_array_get(list, i), tenancy, &out->v[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "faults[%zu]: %s", i, why);
            rc = -1;
        }
        out->n = i + 1;
    }
    if (rc != 0)
        out->n = 0;
    json_decref(root);
    return rc;
}

static json_t *otelgen_sink_fault_to_json(const struct otelgen_sink_fault *f)
{
    json_t *o = json_object();
    char delay[32];

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "mode", json_string(otelgen_sink_fault_mode_name(f->mode)));
    json_object_set_new(o, "ratio", json_real(f->ratio));
    if (!f->any_tenant) {
        json_t *t = json_string(f->tenant);     /* NULL when not UTF-8: a spec may hold any bytes */
        json_object_set_new(o, "tenant", t != NULL ? t : json_string("?"));
    }
    if (f->signal >= 0)
        json_object_set_new(o, "signal", json_string(component_signal_name((enum og_signal)f->signal)));
    if (f->mode == OTELGEN_SINK_FAULT_DELAY) {
        units_format_duration(f->delay_ms, delay, sizeof delay);
        json_object_set_new(o, "delay", json_string(delay));
    }
    if (f->mode == OTELGEN_SINK_FAULT_UNAVAILABLE)
        json_object_set_new(o, "retry_after", json_integer(f->retry_after));
    return o;
}

json_t *otelgen_sink_faults_to_json(const struct otelgen_sink_faults *f, const uint64_t *hits)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < f->n; i++) {
        json_t *o = otelgen_sink_fault_to_json(&f->v[i]);
        if (o != NULL && hits != NULL)
            json_object_set_new(o, "hits", json_integer((json_int_t)hits[i]));
        if (o == NULL || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* xorshift64*: uniform in [0, 1). */
static double otelgen_sink_faults_random(uint64_t *rng)
{
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    return (double)((*rng * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

int otelgen_sink_faults_pick(const struct otelgen_sink_faults *f, int signal, const char *tenant, uint64_t *rng)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct otelgen_sink_fault *r = &f->v[i];
        if ((r->signal >= 0 && r->signal != signal) || (!r->any_tenant && strcmp(r->tenant, tenant) != 0))
            continue;
        if (r->ratio >= 1 || (r->ratio > 0 && otelgen_sink_faults_random(rng) < r->ratio))
            return (int)i;
    }
    return -1;
}
