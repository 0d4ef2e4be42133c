/* version.c: versions as the libraries report them at run time, which is what
 * matters when a distribution upgrades one under us. */
#include "autoconf.h"

#include <event2/event.h>
#include <lmdb.h>
#include <nghttp2/nghttp2.h>
#if defined(OG_TLS_BORINGSSL) || defined(OG_TLS_OPENSSL)
#include <openssl/crypto.h>
#endif
#include <protobuf-c/protobuf-c.h>
#include <yaml.h>
#include <zlib.h>

#include "version.h"

static const char *version_tls(void)
{
#if defined(OG_TLS_BORINGSSL)
    return "BoringSSL (Debian android-libboringssl)";
#elif defined(OG_TLS_OPENSSL)
    return OpenSSL_version(OPENSSL_VERSION);
#else
    return "none";
#endif
}

void version_print(FILE *out)
{
    fprintf(out, "otelgate %s\n", PACKAGE_VERSION);
    fprintf(out, "libevent %s\n", event_get_version());
    fprintf(out, "nghttp2 %s\n", nghttp2_version(0)->version_str);
    fprintf(out, "protobuf-c %s\n", protobuf_c_version());
    fprintf(out, "lmdb %s\n", mdb_version(NULL, NULL, NULL));
    fprintf(out, "libyaml %s\n", yaml_get_version_string());
    fprintf(out, "zlib %s\n", zlibVersion());
#if defined(OG_TLS_BORINGSSL)
    /* BoringSSL has no release numbers; its compatibility string says what it is. */
    fprintf(out, "tls %s: %s\n", version_tls(), OpenSSL_version(OPENSSL_VERSION));
#else
    fprintf(out, "tls %s\n", version_tls());
#endif
}
