/* config_yaml.h: the config file as a small tree of maps, sequences and
 * scalars, each node knowing its line and column. Built with libyaml; scalar
 * values already carry their ${env:...} expansion. */
#ifndef OG_CONFIG_YAML_H
#define OG_CONFIG_YAML_H

#include <stddef.h>

#include "config_diag.h"

enum cfg_kind {
    CFG_NULL,       /* "key:" with no value, "~", "null" */
    CFG_SCALAR,
    CFG_MAP,
    CFG_SEQ,
};

struct cfg_node {
    enum cfg_kind kind;
    int line, col;              /* 1-based position of the node's first character */
    char *value;                /* CFG_SCALAR: the expanded text */
    size_t n;                   /* CFG_MAP: pairs; CFG_SEQ: items */
    struct cfg_node **keys;     /* CFG_MAP: n scalar keys, in file order, unique */
    struct cfg_node **items;    /* CFG_MAP: n values; CFG_SEQ: n items */
};

/* Parses <len> bytes of YAML text. Refuses an empty document, tabs in
 * indentation, invalid YAML, duplicate keys, non-scalar keys, unset
 * environment variables and runaway alias expansion, each reported on <d>
 * with its position. Returns the root (a map) owned by the caller, or NULL
 * when anything was reported as an error. */
struct cfg_node *config_yaml_parse(const char *text, size_t len, struct config_diag *d);

/* Frees a tree from config_yaml_parse; NULL is fine. */
void config_yaml_free(struct cfg_node *node);

/* Returns the value under <key> in map <map>, or NULL. */
const struct cfg_node *config_yaml_get(const struct cfg_node *map, const char *key);

/* Sets *line and *col to the position of the value at dotted <path> ("a.b")
 * under mapping <val>, or of the deepest part of it that exists, or of
 * <key> (a component's id) when <val> has none of it. */
void config_yaml_pos(const struct cfg_node *key, const struct cfg_node *val, const char *path, int *line,
                     int *col);

/* "a map", "a list", "a scalar", "empty": for "expected X, found Y" errors. */
const char *config_yaml_kind_name(enum cfg_kind kind);

#endif
