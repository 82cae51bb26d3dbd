// How the client reports errors. Every failure is a sluice::Error whose message
// starts with a stable reason token, "<REASON>: details":
//
//   - a wire error from the broker carries the wire code's name, e.g.
//     {Errc::not_found, "UNKNOWN_TOPIC_OR_PARTITION: no partition orders-7"};
//   - a failure on the client side carries one of the tokens below, e.g.
//     {Errc::io_error, "DISCONNECTED: connection to 127.0.0.1:7400 lost: End of file"}.
//
// The Errc is the closest internal code (see wire_error.cc for the table);
// match on error_reason() when you need the exact cause.
// Thread-safety: plain functions.
#pragma once

#include <string_view>

#include "sluice/common/error.h"

namespace sluice::client {

namespace reason {
// The connection failed or was lost before the response arrived (retriable).
inline constexpr std::string_view kDisconnected = "DISCONNECTED";
// No response within request_timeout_ms; the connection is closed (retriable).
inline constexpr std::string_view kRequestTimedOut = "REQUEST_TIMED_OUT";
// The producer's buffer_memory is used up and the record could not wait.
inline constexpr std::string_view kBufferFull = "BUFFER_FULL";
// A record is larger than max_request_bytes or buffer_memory.
inline constexpr std::string_view kRecordTooLarge = "RECORD_TOO_LARGE";
// A batch was not acknowledged within delivery_timeout_ms.
inline constexpr std::string_view kDeliveryTimeout = "DELIVERY_TIMEOUT";
// Metadata for a topic could not be fetched in time.
inline constexpr std::string_view kMetadataTimeout = "METADATA_TIMEOUT";
// The client was closed.
inline constexpr std::string_view kClosed = "CLOSED";
// The broker sent something that breaks the protocol.
inline constexpr std::string_view kProtocolError = "PROTOCOL_ERROR";
// Consumer: no position and auto_offset_reset=none, or OFFSET_OUT_OF_RANGE with none.
inline constexpr std::string_view kNoOffset = "NO_OFFSET";
}  // namespace reason

// Builds {code, "<reason>: <details>"}.
Error client_error(Errc code, std::string_view reason, std::string_view details);

// The token before the first ": " in the message, or the whole message if it has none.
std::string_view error_reason(const Error& error);

// True for failures that may go away when the same request is sent again:
// disconnects, timeouts and the broker's transient codes.
bool is_retriable(const Error& error);

}  // namespace sluice::client
