/* config.c: the Collector-shaped file: receivers, processors, exporters,
 * extensions, service. Each component's keys are checked by its own schema
 * (config_schema.c); this file checks what ties them together: ids, types,
 * pipelines, references and the service section. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_yaml.h"
#include "registry.h"
#include "log.h"
#include "util/suggest.h"

static const char *const config_log_levels[] = { "debug", "info", "warn", "error", NULL };

static const struct og_config_key config_logs_keys[] = {
    { "level", KEY_ENUM, "info", offsetof(struct service_conf, log_level), .values = config_log_levels,
      .doc = "lowest level logged: debug, info, warn or error" },
    { NULL },
};

static const struct og_config_key config_telemetry_keys[] = {
    { "logs", KEY_SECTION, NULL, 0, .sub = config_logs_keys, .doc = "the daemon's own log" },
    { NULL },
};

static const struct og_config_key config_service_keys[] = {
    { "extensions", KEY_CUSTOM, .doc = "extension ids to start, in order" },
    { "pipelines", KEY_CUSTOM, .doc = "pipelines by signal" },
    { "telemetry", KEY_SECTION, NULL, 0, .sub = config_telemetry_keys, .doc = "self-observability" },
    { "workers", KEY_INT, "auto", offsetof(struct service_conf, workers), 1, 256, OG_KEY_AUTO,
      .doc = "worker threads (reactors); auto = one per online core" },
    { "shutdown_timeout", KEY_DURATION, "10s", offsetof(struct service_conf, shutdown_timeout_ms), 0, 3600000,
      .doc = "longest wait for in-flight requests after SIGTERM" },
    { "shutdown_grace", KEY_DURATION, "0s", offsetof(struct service_conf, shutdown_grace_ms), 0, 600000,
      .doc = "after SIGTERM, keep accepting this long while the health check answers 503" },
    { NULL },
};

/* The keys of one pipeline; parsed by hand to keep the positions of ids. */
static const struct og_config_key config_pipeline_keys[] = {
    { "receivers", KEY_CUSTOM, .doc = "receiver ids" },
    { "processors", KEY_CUSTOM, .doc = "processor ids, in order" },
    { "exporters", KEY_CUSTOM, .doc = "exporter ids" },
    { NULL },
};

static const char *const config_top_keys[] = {
    "receivers", "processors", "exporters", "extensions", "connectors", "service", NULL,
};

struct config_load {
    struct config *cfg;
    const struct og_component_type *const *types;
    struct config_diag *d;
};

static struct config_component *config_find(struct config_section *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].id, id) == 0)
            return &s->v[i];
    return NULL;
}

/* Reports an unknown component type, listing what this build knows. */
static void config_report_type(struct config_load *l, enum og_kind kind, const struct cfg_node *key,
                               const char *type)
{
    const char *names[64];
    char known[512] = "";
    size_t n = 0;

    for (size_t i = 0; l->types[i] != NULL && n < 64; i++) {
        if (l->types[i]->kind != kind)
            continue;
        names[n++] = l->types[i]->name;
        strncat(known, n > 1 ? ", " : "", sizeof(known) - strlen(known) - 1);
        strncat(known, l->types[i]->name, sizeof(known) - strlen(known) - 1);
    }
    const char *near = suggest_nearest(type, names, n);
    if (near != NULL)
        config_diag_error(l->d, key->line, key->col, "unknown %s type '%s' (did you mean '%s'?)",
                          component_kind_name(kind), type, near);
    else if (n > 0)
        config_diag_error(l->d, key->line, key->col, "unknown %s type '%s' (this build has: %s)",
                          component_kind_name(kind), type, known);
    else
        config_diag_error(l->d, key->line, key->col, "unknown %s type '%s' (this build has no %s yet)",
                          component_kind_name(kind), type, component_kind_section(kind));
}

/* Splits "type/name" and checks both halves; returns the type or NULL. */
static const struct og_component_type *config_component_type(struct config_load *l, enum og_kind kind,
                                                             const struct cfg_node *key)
{
    char type[128];
    const char *id = key->value;
    const char *slash = strchr(id, '/');
    size_t tlen = slash ? (size_t)(slash - id) : strlen(id);

    if (tlen == 0 || tlen >= sizeof(type) || (slash != NULL && slash[1] == '\0')) {
        config_diag_error(l->d, key->line, key->col, "invalid %s id '%s' (write type or type/name)",
                          component_kind_name(kind), id);
        return NULL;
    }
    memcpy(type, id, tlen);
    type[tlen] = '\0';
    const struct og_component_type *t = registry_find(l->types, kind, type);
    if (t == NULL)
        config_report_type(l, kind, key, type);
    return t;
}

static int config_load_component(struct config_load *l, enum og_kind kind, const struct cfg_node *key,
                                 const struct cfg_node *val)
{
    struct config_section *s = &l->cfg->sections[kind];
    const struct og_component_type *t = config_component_type(l, kind, key);
    char where[256];
    struct config_component *c = &s->v[s->n];

    /* An id whose type is unknown is still defined, with no type, so that
     * the pipelines naming it do not repeat the error. */
    c->id = strdup(key->value);
    c->type = t;
    c->line = key->line;
    c->col = key->col;
    if (t == NULL) {
        if (c->id != NULL)
            s->n++;
        return -1;
    }
    c->conf = calloc(1, t->conf_size ? t->conf_size : 1);
    if (c->id == NULL || c->conf == NULL) {
        free(c->id);
        free(c->conf);
        return -1;
    }
    s->n++;
    snprintf(where, sizeof(where), "%s.%s", component_kind_section(kind), key->value);
    if (config_schema_apply(t->keys, val, c->conf, where, l->d) != 0)
        return -1;
    if (t->check != NULL && t->check(c->conf, c->id, key, val, l->d) != 0)
        return -1;
    return 0;
}

static int config_load_section(struct config_load *l, enum og_kind kind, const struct cfg_node *map)
{
    int rc = 0;

    if (map == NULL || map->kind == CFG_NULL)
        return 0;
    if (map->kind != CFG_MAP) {
        config_diag_error(l->d, map->line, map->col, "%s: expected a mapping of component ids, found %s",
                          component_kind_section(kind), config_yaml_kind_name(map->kind));
        return -1;
    }
    l->cfg->sections[kind].v = calloc(map->n ? map->n : 1, sizeof(struct config_component));
    if (l->cfg->sections[kind].v == NULL)
        return -1;
    for (size_t i = 0; i < map->n; i++)
        if (config_load_component(l, kind, map->keys[i], map->items[i]) != 0)
            rc = -1;
    return rc;
}

/* Resolves a list of component ids to the components of <kind>, marking them
 * used. <what> names the list's owner for messages ("pipeline 'traces'"). */
static int config_resolve_ids(struct config_load *l, enum og_kind kind, const struct cfg_node *list,
                              const char *what, struct config_component ***out, size_t *nout)
{
    struct config_section *s = &l->cfg->sections[kind];
    int rc = 0;

    if (list == NULL || list->kind == CFG_NULL)
        return 0;
    if (list->kind != CFG_SEQ) {
        config_diag_error(l->d, list->line, list->col, "%s: %s must be a list of ids, found %s", what,
                          component_kind_section(kind), config_yaml_kind_name(list->kind));
        return -1;
    }
    *out = calloc(list->n ? list->n : 1, sizeof(**out));
    if (*out == NULL)
        return -1;
    for (size_t i = 0; i < list->n; i++) {
        const struct cfg_node *it = list->items[i];
        if (it->kind != CFG_SCALAR) {
            config_diag_error(l->d, it->line, it->col, "%s: expected an id, found %s", what,
                              config_yaml_kind_name(it->kind));
            rc = -1;
            continue;
        }
        struct config_component *c = config_find(s, it->value);
        if (c == NULL) {
            config_diag_error(l->d, it->line, it->col, "%s names %s '%s', which is not defined in %s", what,
                              component_kind_name(kind), it->value, component_kind_section(kind));
            rc = -1;
            continue;
        }
        for (size_t j = 0; j < *nout; j++) {
            if ((*out)[j] == c) {
                config_diag_error(l->d, it->line, it->col, "%s lists %s '%s' twice", what,
                                  component_kind_name(kind), it->value);
                rc = -1;
            }
        }
        c->used = true;
        (*out)[(*nout)++] = c;
    }
    return rc;
}

static int config_pipeline_signal(const char *id, enum og_signal *out)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        const char *name = component_signal_name((enum og_signal)s);
        size_t len = strlen(name);
        if (strncmp(id, name, len) == 0 && (id[len] == '\0' || (id[len] == '/' && id[len + 1] != '\0'))) {
            *out = (enum og_signal)s;
            return 0;
        }
    }
    return -1;
}

/* Every component of a pipeline must handle the pipeline's signal. */
static int config_check_signals(struct config_load *l, const struct config_pipeline *p,
                                struct config_component **v, size_t n, const struct cfg_node *key)
{
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i]->type == NULL || (v[i]->type->signals & OG_SIGNAL_BIT(p->signal)))
            continue;
        config_diag_error(l->d, key->line, key->col, "pipeline '%s': %s '%s' does not handle %s", p->id,
                          component_kind_name(v[i]->type->kind), v[i]->id, component_signal_name(p->signal));
        rc = -1;
    }
    return rc;
}

static int config_load_pipeline(struct config_load *l, const struct cfg_node *key, const struct cfg_node *val)
{
    struct config_pipeline *p = &l->cfg->pipelines[l->cfg->npipelines];
    char what[160], where[160];
    int rc = 0;
    char dummy;

    if (config_pipeline_signal(key->value, &p->signal) != 0) {
        config_diag_error(l->d, key->line, key->col,
                          "invalid pipeline id '%s' (write traces, metrics or logs, optionally /name)", key->value);
        return -1;
    }
    p->id = strdup(key->value);
    if (p->id == NULL)
        return -1;
    l->cfg->npipelines++;
    snprintf(where, sizeof(where), "service.pipelines.%s", key->value);
    if (config_schema_apply(config_pipeline_keys, val, &dummy, where, l->d) != 0)
        return -1;
    snprintf(what, sizeof(what), "pipeline '%s'", key->value);
    rc |= config_resolve_ids(l, OG_KIND_RECEIVER, config_yaml_get(val, "receivers"), what, &p->receivers,
                             &p->nreceivers);
    rc |= config_resolve_ids(l, OG_KIND_PROCESSOR, config_yaml_get(val, "processors"), what, &p->processors,
                             &p->nprocessors);
    rc |= config_resolve_ids(l, OG_KIND_EXPORTER, config_yaml_get(val, "exporters"), what, &p->exporters,
                             &p->nexporters);
    if (rc != 0)
        return -1;
    if (p->nreceivers == 0 || p->nexporters == 0) {
        config_diag_error(l->d, key->line, key->col, "%s needs at least one receiver and one exporter", what);
        return -1;
    }
    rc |= config_check_signals(l, p, p->receivers, p->nreceivers, key);
    rc |= config_check_signals(l, p, p->processors, p->nprocessors, key);
    rc |= config_check_signals(l, p, p->exporters, p->nexporters, key);
    return rc;
}

static int config_load_pipelines(struct config_load *l, const struct cfg_node *map)
{
    int rc = 0;

    if (map == NULL || map->kind == CFG_NULL)
        return 0;
    if (map->kind != CFG_MAP) {
        config_diag_error(l->d, map->line, map->col, "service.pipelines: expected a mapping, found %s",
                          config_yaml_kind_name(map->kind));
        return -1;
    }
    l->cfg->pipelines = calloc(map->n ? map->n : 1, sizeof(struct config_pipeline));
    if (l->cfg->pipelines == NULL)
        return -1;
    for (size_t i = 0; i < map->n; i++)
        if (config_load_pipeline(l, map->keys[i], map->items[i]) != 0)
            rc = -1;
    return rc;
}

static int config_load_service(struct config_load *l, const struct cfg_node *svc)
{
    int rc = 0;

    if (config_schema_apply(config_service_keys, svc, &l->cfg->service, "service", l->d) != 0)
        rc = -1;
    if (svc == NULL || svc->kind != CFG_MAP)
        return rc;
    if (config_resolve_ids(l, OG_KIND_EXTENSION, config_yaml_get(svc, "extensions"), "service.extensions",
                           &l->cfg->extensions, &l->cfg->nextensions) != 0)
        rc = -1;
    if (config_load_pipelines(l, config_yaml_get(svc, "pipelines")) != 0)
        rc = -1;
    return rc;
}

static void config_warn_unused(struct config_load *l)
{
    for (int k = 0; k < OG_KIND_COUNT; k++) {
        struct config_section *s = &l->cfg->sections[k];
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i].used)
                continue;
            if (k == OG_KIND_EXTENSION)
                config_diag_warn(l->d, s->v[i].line, s->v[i].col,
                                 "extension '%s' is defined but not listed in service.extensions", s->v[i].id);
            else
                config_diag_warn(l->d, s->v[i].line, s->v[i].col, "%s '%s' is defined but used by no pipeline",
                                 component_kind_name((enum og_kind)k), s->v[i].id);
        }
    }
}

static int config_load_root(struct config_load *l, const struct cfg_node *root)
{
    int rc = 0;

    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->value;
        size_t j = 0;
        while (config_top_keys[j] != NULL && strcmp(config_top_keys[j], k) != 0)
            j++;
        if (config_top_keys[j] != NULL)
            continue;
        const char *near = suggest_nearest(k, config_top_keys, SIZE_MAX);
        config_diag_error(l->d, root->keys[i]->line, root->keys[i]->col, "unknown top-level key '%s'%s%s%s", k,
                          near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        rc = -1;
    }
    const struct cfg_node *conn = config_yaml_get(root, "connectors");
    if (conn != NULL && conn->kind != CFG_NULL && !(conn->kind == CFG_MAP && conn->n == 0)) {
        config_diag_error(l->d, conn->line, conn->col, "connectors are not supported by otelgate");
        rc = -1;
    }
    for (int k = 0; k < OG_KIND_COUNT; k++)
        if (config_load_section(l, (enum og_kind)k,
                                config_yaml_get(root, component_kind_section((enum og_kind)k))) != 0)
            rc = -1;
    if (config_load_service(l, config_yaml_get(root, "service")) != 0)
        rc = -1;
    if (rc == 0)
        config_warn_unused(l);
    return rc;
}

struct config *config_load_text(const char *path, const char *text, size_t len,
                                const struct og_component_type *const *types, FILE *diag)
{
    struct config_diag d;
    struct config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
        free(cfg);
        fprintf(diag, "%s: out of memory\n", path);
        return NULL;
    }
    config_diag_init(&d, cfg->path, diag);
    struct cfg_node *root = config_yaml_parse(text, len, &d);
    if (root != NULL) {
        struct config_load l = { .cfg = cfg, .types = types, .d = &d };
        config_load_root(&l, root);
        config_yaml_free(root);
    }
    if (d.errors > 0) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Reads a whole config file, refusing one larger than CONFIG_MAX_FILE_BYTES.
 * Returns the malloc'd text or NULL with errno set (EFBIG when too large). */
static char *config_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 8192, n = 0;
    char *buf = NULL;

    if (fd == -1)
        return NULL;
    for (;;) {
        if (n == cap || buf == NULL) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                break;
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            break;
        if (r == 0) {
            close(fd);
            *len = n;
            return buf;
        }
        n += (size_t)r;
        if (n > CONFIG_MAX_FILE_BYTES) {
            errno = EFBIG;
            break;
        }
    }
    int saved = errno;
    close(fd);
    free(buf);
    errno = saved;
    return NULL;
}

struct config *config_load_file(const char *path, const struct og_component_type *const *types, FILE *diag)
{
    size_t len = 0;
    char *text = config_read_file(path, &len);

    if (text == NULL) {
        if (errno == EFBIG)
            fprintf(diag, "%s: file too large (over %u bytes)\n", path, CONFIG_MAX_FILE_BYTES);
        else
            fprintf(diag, "%s: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    struct config *cfg = config_load_text(path, text, len, types, diag);
    free(text);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (int k = 0; k < OG_KIND_COUNT; k++) {
        struct config_section *s = &cfg->sections[k];
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i].type != NULL)
                config_schema_free(s->v[i].type->keys, s->v[i].conf);
            free(s->v[i].conf);
            free(s->v[i].id);
        }
        free(s->v);
    }
    for (size_t i = 0; i < cfg->npipelines; i++) {
        free(cfg->pipelines[i].id);
        free(cfg->pipelines[i].receivers);
        free(cfg->pipelines[i].processors);
        free(cfg->pipelines[i].exporters);
    }
    free(cfg->pipelines);
    free(cfg->extensions);
    config_schema_free(config_service_keys, &cfg->service);
    free(cfg->path);
    free(cfg);
}

static void config_print_ids(const char *name, struct config_component **v, size_t n, FILE *out, int indent)
{
    fprintf(out, "%*s%s: [", indent, "", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", v[i]->id);
    fputs("]\n", out);
}

void config_print(const struct config *cfg, FILE *out)
{
    fprintf(out, "# effective configuration of %s, every default filled in\n", cfg->path);
    for (int k = 0; k < OG_KIND_COUNT; k++) {
        const struct config_section *s = &cfg->sections[k];
        fprintf(out, "%s:%s\n", component_kind_section((enum og_kind)k), s->n ? "" : " {}");
        for (size_t i = 0; i < s->n; i++) {
            fprintf(out, "  %s:%s\n", s->v[i].id, s->v[i].type->keys[0].name ? "" : " {}");
            config_schema_print(s->v[i].type->keys, s->v[i].conf, out, 4);
        }
    }
    fputs("service:\n", out);
    config_print_ids("extensions", cfg->extensions, cfg->nextensions, out, 2);
    fprintf(out, "  pipelines:%s\n", cfg->npipelines ? "" : " {}");
    for (size_t i = 0; i < cfg->npipelines; i++) {
        const struct config_pipeline *p = &cfg->pipelines[i];
        fprintf(out, "    %s:\n", p->id);
        config_print_ids("receivers", p->receivers, p->nreceivers, out, 6);
        config_print_ids("processors", p->processors, p->nprocessors, out, 6);
        config_print_ids("exporters", p->exporters, p->nexporters, out, 6);
    }
    config_schema_print(config_service_keys, &cfg->service, out, 2);
}
