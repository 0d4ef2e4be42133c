/* exp_otlp_answer.h: what the upstream's answer bodies say, for both otlp
 * transports: the partial success of an Export*ServiceResponse and the
 * google.rpc.Status of a refusal (message, RetryInfo). A small protobuf
 * reader, bounded by the bytes given, that never allocates; malformed input
 * only stops the reading early. */
#ifndef OG_EXP_OTLP_ANSWER_H
#define OG_EXP_OTLP_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "exp_otlp_conn.h"

/* Fills a->rejected and, when a->message is still "", a->message from an
 * Export{Trace,Metrics,Logs}ServiceResponse (the bare message, no gRPC
 * prefix): partial_success = 1 { int64 rejected_* = 1; string
 * error_message = 2; }. Leaves <a> as it was when the fields are absent. */
void exp_otlp_answer_partial(const uint8_t *msg, size_t len, struct exp_otlp_answer *a);

/* Reads a google.rpc.Status { int32 code = 1; string message = 2; repeated
 * Any details = 3; }: the message into a->message when that is still "";
 * a google.rpc.RetryInfo detail sets a->retry_info and, when its delay is
 * not zero, a->retry_after_ms. The code is not kept: over gRPC grpc-status
 * carries it, over OTLP/HTTP the HTTP status does. */
void exp_otlp_answer_status(const uint8_t *msg, size_t len, struct exp_otlp_answer *a);

/* The same from grpc-status-details-bin: base64 (padding optional) of a google.rpc.Status; too long or not
 * base64: nothing is read. */
#define EXP_OTLP_ANSWER_DETAILS_MAX 2048
void exp_otlp_answer_status_bin(const uint8_t *v, size_t len, struct exp_otlp_answer *a);

/* Copies <len> bytes of upstream text into a->message, cut to fit on a
 * UTF-8 boundary, control characters (line breaks included) turned into
 * spaces and runs of spaces squeezed, so the text is one safe log line. */
void exp_otlp_answer_message(struct exp_otlp_answer *a, const void *text, size_t len);

/* Decodes a grpc-message header value, which is percent-encoded (gRPC over HTTP/2, "Responses"), into <out>
 * (at most <outlen> bytes, not terminated); a '%' not followed by two hex digits stays as it is. Returns the
 * length written. */
size_t exp_otlp_answer_percent_decode(const uint8_t *v, size_t len, char *out, size_t outlen);

#endif
