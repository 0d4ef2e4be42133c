/* config_expand.h: environment variable references in config values, in the Collector's syntax
 * (${env:NAME}, ${env:NAME:-default}, ${NAME}), expanded once at load time from the process environment. */
#ifndef OG_CONFIG_EXPAND_H
#define OG_CONFIG_EXPAND_H

#include <stddef.h>

/* Expands the references in <in> (borrowed, NUL-terminated):
 *   ${env:NAME} and ${NAME}  the variable's value; an unset variable is an error;
 *   ${env:NAME:-default}     the value, or <default> when the variable is unset OR set but empty (as in the
 *                            shell; the Collector uses the default only when unset);
 *   $$                       a literal "$", so "$${env:X}" gives the text "${env:X}";
 *   $ before anything else   a literal "$" ("US$5", a trailing "$").
 * NAME is [A-Za-z_][A-Za-z0-9_]*. A default runs to the first '}', may be empty and may hold any other
 * character, ':' and a lone '$' included; it is inserted as written. Values are inserted verbatim and never
 * expanded again, so a value containing "${...}" stays as it is.
 * Refuses, with the reason written to <err>:
 *   an unset variable without default  "environment variable 'FOO' is not set (write ${env:FOO:-default} to
 *                                       give a default)";
 *   "${" with no later '}'             "unterminated '${' in value";
 *   "${" inside a reference            "nested '${' in value (expansion is not recursive)", since the Collector
 *                                       would expand ${env:A:-${env:B}} inside out and we do not;
 *   a bad NAME                         "invalid environment variable name 'a-b'" ("${}" gives name '');
 *   ${FOO:-x}                          "'${FOO:-...}' needs the env: prefix (write ${env:FOO:-default})";
 *   another provider                   "unsupported config provider 'file' (only env is supported)", for any
 *                                       ${scheme:...} with scheme [A-Za-z][A-Za-z0-9+.-]* other than env;
 *   a NULL <in>                        "no value to expand";
 *   allocation failure                 "out of memory".
 * Names quoted in a reason are cut to 64 bytes and have control characters replaced by '?', so <err> stays
 * one line.
 * Reads the environment with getenv(): do not call it while another thread may call setenv() or putenv().
 * Returns 0 and sets *out to a string the caller owns and frees (a copy of <in> when it holds no reference).
 * Returns -1 and sets *out to NULL, writing the reason into <err>: at most <errlen> bytes, always
 * NUL-terminated; nothing is written when <errlen> is 0. */
int config_expand(const char *in, char **out, char *err, size_t errlen);

#endif
