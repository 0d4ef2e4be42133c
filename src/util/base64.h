/* base64.h: base64 decoding, either alphabet (standard "+/" and URL-safe
 * "-_"), as protobuf JSON parsers and gRPC binary headers accept. */
#ifndef OG_BASE64_H
#define OG_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* The 6-bit value of one base64 digit, or -1. */
int base64_digit(unsigned char c);

/* Decodes <n> base64 digits (padding already stripped) into <out>, which
 * holds at least n * 3 / 4 bytes. Returns the bytes written, or -1 at the
 * first character that is not a digit (<out> then holds a partial result). */
long base64_decode(const char *s, size_t n, uint8_t *out);

#endif
