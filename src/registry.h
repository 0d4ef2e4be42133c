/* registry.h: the table of component types this build knows. */
#ifndef OG_REGISTRY_H
#define OG_REGISTRY_H

#include "component.h"

/* The daemon's table, NULL-terminated. */
extern const struct og_component_type *const registry_types[];

/* Returns the type called <name> of <kind> in <table>, or NULL. */
const struct og_component_type *registry_find(const struct og_component_type *const *table, enum og_kind kind,
                                              const char *name);

#endif
