/* registry.c: every component type, one line each. A new component is one new
 * file plus one line here. */
#include "autoconf.h"

#include <string.h>

#include "registry.h"

extern const struct og_component_type exp_debug_type;
extern const struct og_component_type exp_file_type;
extern const struct og_component_type exp_otlp_type;
extern const struct og_component_type exp_otlp_grpc_type;
extern const struct og_component_type exp_otlp_http_type;
extern const struct og_component_type exp_otlphttp_type;
extern const struct og_component_type ext_health_check_type;
extern const struct og_component_type ext_spool_type;
extern const struct og_component_type proc_batch_type;
extern const struct og_component_type recv_otlp_type;

const struct og_component_type *const registry_types[] = {
    &recv_otlp_type,
    &proc_batch_type,
    &exp_debug_type,
    &exp_file_type,
    &exp_otlp_type,
    &exp_otlp_grpc_type,
    &exp_otlphttp_type,
    &exp_otlp_http_type,
    &ext_health_check_type,
    &ext_spool_type,
    NULL,
};

const struct og_component_type *registry_find(const struct og_component_type *const *table, enum og_kind kind,
                                              const char *name)
{
    for (size_t i = 0; table[i] != NULL; i++)
        if (table[i]->kind == kind && strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}
