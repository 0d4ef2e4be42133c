/* config.h: the loaded configuration: components by kind, pipelines, and the
 * service section, every default filled in. Read-only once loaded; the
 * running gateway borrows from it. */
#ifndef OG_CONFIG_H
#define OG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "component.h"
#include "config_schema.h"

/* The biggest config file we read: a real one is a few KiB. */
#define CONFIG_MAX_FILE_BYTES (4u << 20)

struct config_component {
    char *id;                               /* "otlp" or "otlp/edge" */
    const struct og_component_type *type;
    void *conf;                             /* type->conf_size bytes, filled by the schema */
    int line, col;                          /* where the id was defined */
    bool used;                              /* named by a pipeline or service.extensions */
};

struct config_section {
    struct config_component *v;
    size_t n;
};

struct config_pipeline {
    char *id;                               /* "traces" or "traces/edge" */
    enum og_signal signal;
    struct config_component **receivers, **processors, **exporters;
    size_t nreceivers, nprocessors, nexporters;
};

struct service_conf {
    int64_t workers;                        /* 0 = auto: one per online core */
    int64_t shutdown_timeout_ms;
    int64_t shutdown_grace_ms;
    int log_level;                          /* enum log_level */
};

struct config {
    char *path;                             /* as given, or the embedded default's name */
    struct config_section sections[OG_KIND_COUNT];
    struct config_component **extensions;   /* service.extensions, in start order */
    size_t nextensions;
    struct config_pipeline *pipelines;
    size_t npipelines;
    struct service_conf service;
};

/* Name printed in messages about the configuration compiled into the binary. */
#define CONFIG_EMBEDDED_NAME "<embedded etc/otelgate.yaml>"

/* Loads and checks <len> bytes of YAML named <path> against the component
 * types in <types>. Every problem is reported on <diag> as one line; warnings
 * (a component nobody uses) do not fail the load. Returns the config (owned:
 * config_free) or NULL when an error was reported. */
struct config *config_load_text(const char *path, const char *text, size_t len,
                                const struct og_component_type *const *types, FILE *diag);

/* Reads <path> and loads it as above. A missing, unreadable, oversized or
 * non-regular file is reported on <diag>. */
struct config *config_load_file(const char *path, const struct og_component_type *const *types, FILE *diag);

void config_free(struct config *cfg);

/* Writes the effective configuration, every default filled in, as YAML that
 * loads back to the same configuration. */
void config_print(const struct config *cfg, FILE *out);

#endif
