/* config_schema.h: the key tables every component declares, and the one
 * generic walker that checks a YAML mapping against a table, fills the
 * component's conf struct, applies defaults and prints it back. Errors read
 * the same for every component because one function writes them all. */
#ifndef OG_CONFIG_SCHEMA_H
#define OG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config_diag.h"
#include "config_yaml.h"

enum og_key_type {
    KEY_BOOL,       /* bool */
    KEY_INT,        /* int64_t, within [min, max] */
    KEY_SIZE,       /* uint64_t bytes: "64MiB", "512KiB", plain bytes */
    KEY_DURATION,   /* int64_t milliseconds: "200ms", "5s", "1m", "1h" */
    KEY_STRING,     /* char *, owned by the conf */
    KEY_ENUM,       /* int: index into <values> */
    KEY_ENDPOINT,   /* char *: "host:port", "[v6]:port" or ":port" */
    KEY_STRLIST,    /* struct config_strlist */
    KEY_SECTION,    /* nested mapping: struct at <offset>, keys in <sub> */
    KEY_CUSTOM,     /* known here, parsed and printed by the table's owner */
};

/* Flags of a key. */
#define OG_KEY_REQUIRED  0x1u   /* no default: absent is an error */
#define OG_KEY_AUTO      0x2u   /* KEY_INT also takes "auto", stored as 0 */
#define OG_KEY_PRESENCE  0x4u   /* KEY_SECTION whose struct starts with `bool enabled`:
                                 * true only when the file has the key (even empty),
                                 * as the Collector enables `protocols: {grpc:}` */

struct config_strlist {
    char **v;
    size_t n;
};

struct og_config_key {
    const char *name;                       /* YAML key, Collector spelling */
    enum og_key_type type;
    const char *def;                        /* default as written in YAML; NULL = none */
    size_t offset;                          /* offsetof() into the conf struct */
    int64_t min, max;                       /* inclusive, for INT, SIZE, DURATION */
    unsigned flags;
    const char *const *values;              /* KEY_ENUM: NULL-terminated names */
    const struct og_config_key *sub;        /* KEY_SECTION: its keys, { NULL }-terminated */
    const char *doc;                        /* one line, for the man page test */
};

/* Checks <map> (a mapping, or CFG_NULL / NULL for "all defaults") against
 * <keys>, writing values into <conf> (zeroed by the caller). <where> is the
 * dotted path of the mapping ("extensions.health_check") for messages.
 * Reports unknown keys with the nearest known one, wrong kinds, bad values and
 * missing required keys on <d>, and keeps going to report as many as it can.
 * Returns 0, or -1 when it reported an error. Strings it stored belong to
 * <conf> even on failure: release them with config_schema_free. */
int config_schema_apply(const struct og_config_key *keys, const struct cfg_node *map, void *conf,
                        const char *where, struct config_diag *d);

/* Frees the strings and lists that config_schema_apply stored in <conf>. */
void config_schema_free(const struct og_config_key *keys, void *conf);

/* Writes <conf> back as YAML under <keys>, every key present, at <indent>
 * spaces. */
void config_schema_print(const struct og_config_key *keys, const void *conf, FILE *out, int indent);

/* Returns 0 when <s> is "host:port", "[addr]:port" or ":port" with a port in
 * 1..65535, else -1 with *why set. */
int config_schema_check_endpoint(const char *s, const char **why);

#endif
