/* ext_spool.h: what exporters ask of the spool extension. */
#ifndef OG_EXT_SPOOL_H
#define OG_EXT_SPOOL_H

#include "component.h"

struct spool;

/* The spool a started spool extension opened; NULL when <c> is another type. */
struct spool *ext_spool_of(const struct component *c);

#endif
