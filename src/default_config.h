/* default_config.h: etc/otelgate.yaml, compiled in at build time
 * (default_config.c is generated from it by build-aux/embed.sh). */
#ifndef OG_DEFAULT_CONFIG_H
#define OG_DEFAULT_CONFIG_H

#include <stddef.h>

extern const char default_config_text[];
extern const size_t default_config_len;

#endif
