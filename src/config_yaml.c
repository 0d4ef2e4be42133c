/* config_yaml.c: libyaml's document API turned into our own tree. The copy is
 * worth it: the tree is small, lives only while the config loads, and lets
 * the loader check duplicates and expand variables with positions at hand. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_expand.h"
#include "config_yaml.h"

/* Aliases let a tiny file expand to a huge tree ("billion laughs"); no real
 * gateway config comes near these. */
#define CONFIG_YAML_MAX_NODES 100000
#define CONFIG_YAML_MAX_DEPTH 64

struct config_yaml_build {
    yaml_document_t *doc;
    struct config_diag *d;
    size_t nodes;
    bool failed;
};

const char *config_yaml_kind_name(enum cfg_kind kind)
{
    switch (kind) {
    case CFG_NULL: return "nothing";
    case CFG_SCALAR: return "a scalar";
    case CFG_MAP: return "a mapping";
    case CFG_SEQ: return "a list";
    }
    return "?";
}

void config_yaml_free(struct cfg_node *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys != NULL)
            config_yaml_free(node->keys[i]);
        config_yaml_free(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node->value);
    free(node);
}

const struct cfg_node *config_yaml_get(const struct cfg_node *map, const char *key)
{
    if (map == NULL || map->kind != CFG_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

void config_yaml_pos(const struct cfg_node *key, const struct cfg_node *val, const char *path, int *line,
                     int *col)
{
    const struct cfg_node *at = key;
    char part[64];

    while (val != NULL && val->kind == CFG_MAP && *path != '\0') {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(part))
            break;
        memcpy(part, path, n);
        part[n] = '\0';
        val = config_yaml_get(val, part);
        if (val == NULL)
            break;
        at = val;
        path += n + (path[n] == '.');
    }
    *line = at->line;
    *col = at->col;
}

static bool config_yaml_is_null(const yaml_node_t *yn)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

    if (yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp((const char *)yn->data.scalar.value, nulls[i]) == 0)
            return true;
    return false;
}

static struct cfg_node *config_yaml_convert(struct config_yaml_build *b, yaml_node_t *yn, int depth,
                                            bool is_key);

static struct cfg_node *config_yaml_new(struct config_yaml_build *b, const yaml_node_t *yn)
{
    if (++b->nodes > CONFIG_YAML_MAX_NODES) {
        if (!b->failed)
            config_diag_error(b->d, 0, 0, "configuration too large (over %d nodes; runaway YAML aliases?)",
                              CONFIG_YAML_MAX_NODES);
        b->failed = true;
        return NULL;
    }
    struct cfg_node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        b->failed = true;
        return NULL;
    }
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    return n;
}

static int config_yaml_scalar(struct config_yaml_build *b, struct cfg_node *n, yaml_node_t *yn, bool is_key)
{
    char err[256];
    const char *raw = (const char *)yn->data.scalar.value;

    if (!is_key && config_yaml_is_null(yn)) {
        n->kind = CFG_NULL;
        return 0;
    }
    n->kind = CFG_SCALAR;
    if (is_key) {
        n->value = strdup(raw);
        return n->value == NULL ? -1 : 0;
    }
    if (config_expand(raw, &n->value, err, sizeof(err)) != 0) {
        config_diag_error(b->d, n->line, n->col, "%s", err);
        return -1;
    }
    return 0;
}

static int config_yaml_mapping(struct config_yaml_build *b, struct cfg_node *n, yaml_node_t *yn, int depth)
{
    size_t count = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);

    n->kind = CFG_MAP;
    n->keys = calloc(count ? count : 1, sizeof(*n->keys));
    n->items = calloc(count ? count : 1, sizeof(*n->items));
    if (n->keys == NULL || n->items == NULL)
        return -1;
    for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(b->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(b->doc, p->value);
        if (kn->type != YAML_SCALAR_NODE) {
            config_diag_error(b->d, (int)kn->start_mark.line + 1, (int)kn->start_mark.column + 1,
                              "mapping keys must be plain strings");
            return -1;
        }
        struct cfg_node *k = config_yaml_convert(b, kn, depth + 1, true);
        if (k == NULL)
            return -1;
        if (config_yaml_get(n, k->value) != NULL) {
            config_diag_error(b->d, k->line, k->col, "duplicate key '%s'", k->value);
            config_yaml_free(k);
            return -1;
        }
        struct cfg_node *v = config_yaml_convert(b, vn, depth + 1, false);
        if (v == NULL) {
            config_yaml_free(k);
            return -1;
        }
        n->keys[n->n] = k;
        n->items[n->n++] = v;
    }
    return 0;
}

static int config_yaml_sequence(struct config_yaml_build *b, struct cfg_node *n, yaml_node_t *yn, int depth)
{
    size_t count = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);

    n->kind = CFG_SEQ;
    n->items = calloc(count ? count : 1, sizeof(*n->items));
    if (n->items == NULL)
        return -1;
    for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++) {
        struct cfg_node *v = config_yaml_convert(b, yaml_document_get_node(b->doc, *it), depth + 1, false);
        if (v == NULL)
            return -1;
        n->items[n->n++] = v;
    }
    return 0;
}

static struct cfg_node *config_yaml_convert(struct config_yaml_build *b, yaml_node_t *yn, int depth,
                                            bool is_key)
{
    struct cfg_node *n;
    int rc = -1;

    if (depth > CONFIG_YAML_MAX_DEPTH) {
        config_diag_error(b->d, (int)yn->start_mark.line + 1, (int)yn->start_mark.column + 1,
                          "nesting deeper than %d levels", CONFIG_YAML_MAX_DEPTH);
        b->failed = true;
        return NULL;
    }
    n = config_yaml_new(b, yn);
    if (n == NULL)
        return NULL;
    switch (yn->type) {
    case YAML_SCALAR_NODE: rc = config_yaml_scalar(b, n, yn, is_key); break;
    case YAML_MAPPING_NODE: rc = config_yaml_mapping(b, n, yn, depth); break;
    case YAML_SEQUENCE_NODE: rc = config_yaml_sequence(b, n, yn, depth); break;
    case YAML_NO_NODE: n->kind = CFG_NULL; rc = 0; break;
    }
    if (rc != 0) {
        b->failed = true;
        config_yaml_free(n);
        return NULL;
    }
    return n;
}

/* libyaml's own message for a tab is "found character that cannot start any
 * token"; say what is actually wrong instead. */
static int config_yaml_check_tabs(const char *text, size_t len, struct config_diag *d)
{
    int line = 1, col = 1;
    bool indent = true;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            line++;
            col = 1;
            indent = true;
            continue;
        }
        if (indent && c == '\t') {
            config_diag_error(d, line, col, "tab character in indentation (YAML indents with spaces only)");
            return -1;
        }
        if (c != ' ' && c != '-')
            indent = false;
        col++;
    }
    return 0;
}

static void config_yaml_report_parser(const yaml_parser_t *p, struct config_diag *d)
{
    const yaml_mark_t *m = &p->problem_mark;

    if (p->error == YAML_MEMORY_ERROR) {
        config_diag_error(d, 0, 0, "out of memory while parsing");
        return;
    }
    if (p->context != NULL)
        config_diag_error(d, (int)m->line + 1, (int)m->column + 1, "not valid YAML: %s %s", p->problem,
                          p->context);
    else
        config_diag_error(d, (int)m->line + 1, (int)m->column + 1, "not valid YAML: %s",
                          p->problem ? p->problem : "unknown error");
}

/* A second document would be silently ignored: refuse it. */
static int config_yaml_more_documents(yaml_parser_t *parser, struct config_diag *d)
{
    yaml_document_t doc;
    int rc = 0;

    if (!yaml_parser_load(parser, &doc)) {
        config_yaml_report_parser(parser, d);
        return -1;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (top != NULL) {
        config_diag_error(d, (int)top->start_mark.line + 1, (int)top->start_mark.column + 1,
                          "a second YAML document: otelgate reads one configuration per file");
        rc = -1;
    }
    yaml_document_delete(&doc);
    return rc;
}

struct cfg_node *config_yaml_parse(const char *text, size_t len, struct config_diag *d)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct cfg_node *root = NULL;

    if (config_yaml_check_tabs(text, len, d) != 0)
        return NULL;
    if (!yaml_parser_initialize(&parser)) {
        config_diag_error(d, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        config_yaml_report_parser(&parser, d);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (top == NULL) {
        config_diag_error(d, 0, 0, "configuration is empty");
    } else if (top->type != YAML_MAPPING_NODE) {
        config_diag_error(d, (int)top->start_mark.line + 1, (int)top->start_mark.column + 1,
                          "the top level must be a mapping of sections (receivers, exporters, service, ...)");
    } else {
        struct config_yaml_build b = { .doc = &doc, .d = d };
        root = config_yaml_convert(&b, top, 0, false);
    }
    yaml_document_delete(&doc);
    if (root != NULL && config_yaml_more_documents(&parser, d) != 0) {
        config_yaml_free(root);
        root = NULL;
    }
    yaml_parser_delete(&parser);
    return root;
}
