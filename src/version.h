/* version.h: what --version prints. */
#ifndef OG_VERSION_H
#define OG_VERSION_H

#include <stdio.h>

/* Prints otelgate's version and the run-time versions of every library it is
 * linked with, one "name version" per line. */
void version_print(FILE *out);

#endif
