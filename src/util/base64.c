/* base64.c: base64 decoding shared by the OTLP/JSON codec (bytesValue) and
 * otelgen (grpc-status-details-bin). */
#include "autoconf.h"

#include "util/base64.h"

int base64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

long base64_decode(const char *s, size_t n, uint8_t *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    long len = 0;

    for (size_t i = 0; i < n; i++) {
        int d = base64_digit((unsigned char)s[i]);
        if (d < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    return len;
}
