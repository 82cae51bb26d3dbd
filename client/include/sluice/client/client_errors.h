// How the client reports errors. Every failure the client makes is a
// sluice::Error whose code is a client::ErrorCode (the client's error category)
// and whose message starts with that code's name, "<NAME>: details":
//
//   - a wire error from the broker carries the wire code itself, e.g.
//     {ErrorCode::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION: no partition orders-7"};
//   - a failure on the client side carries one of the client-side codes, e.g.
//     {ErrorCode::disconnected, "DISCONNECTED: connection to 127.0.0.1:7400 lost: End of file"}.
//
// Invalid arguments and configs are reported with the common codes
// (Errc::invalid_argument), for which error_code() is ErrorCode::none.
// Decide on the code (`error.code == ErrorCode::...`, error_code(), retries:
// is_retriable()); the name in the message is for people and logs.
// Thread-safety: plain functions; the category is an immutable singleton.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "sluice/common/error.h"

namespace sluice::client {

// The client's error codes. Wire codes keep their numbers (sluice.proto's
// ErrorCode, checked in wire_error.cc), so a code the broker sent is carried as
// is, even one this client does not know; client-side failures have negative
// codes, which the wire never uses.
enum class ErrorCode : int32_t {
  none = 0,  // also: an error this client did not classify (an internal one)
  // From the broker (sluice.proto's ErrorCode).
  unknown_server_error = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_request = 4,
  unsupported_version = 5,
  unsupported_api = 6,
  message_too_large = 7,
  offset_out_of_range = 8,
  topic_already_exists = 9,
  invalid_config = 10,
  invalid_partitions = 11,
  invalid_topic = 12,
  request_timed_out = 13,  // also the client's own request timeout
  storage_error = 14,
  broker_shutting_down = 15,
  invalid_required_acks = 16,
  out_of_order_sequence_number = 17,
  invalid_producer_epoch = 18,
  unsupported_compression_type = 19,
  invalid_record = 20,
  not_leader_or_follower = 21,
  unknown_member_id = 22,
  stale_member_epoch = 23,
  fenced_member_epoch = 24,
  invalid_group_id = 25,
  offset_metadata_too_large = 26,
  group_id_not_found = 27,
  non_empty_group = 28,
  coordinator_load_in_progress = 29,
  invalid_session_timeout = 30,
  invalid_regular_expression = 31,
  unreleased_instance_id = 32,
  fenced_instance_id = 33,
  invalid_transaction_timeout = 34,
  // On the client side (the reason tokens below).
  disconnected = -1,
  buffer_full = -2,
  record_too_large = -3,
  delivery_timeout = -4,
  metadata_timeout = -5,
  closed = -6,
  protocol_error = -7,
  no_offset = -8,
};

}  // namespace sluice::client

template <>
struct std::is_error_code_enum<sluice::client::ErrorCode> : std::true_type {};

namespace sluice::client {

// "UNKNOWN_TOPIC_OR_PARTITION", "DISCONNECTED", or "WIRE_ERROR_<n>" for a code
// this client does not know.
std::string error_code_name(ErrorCode code);

const std::error_category& client_category();
inline std::error_code make_error_code(ErrorCode code) { return {static_cast<int>(code), client_category()}; }

// The code an error carries; ErrorCode::none for an error of another category
// (an invalid argument, or an internal error the client did not classify).
inline ErrorCode error_code(const Error& error) {
  return error.code.category() == client_category() ? static_cast<ErrorCode>(error.code.value()) : ErrorCode::none;
}

// True for codes whose failure may go away when the same request is sent again:
// disconnects, timeouts and the broker's transient conditions.
bool is_retriable(ErrorCode code);
inline bool is_retriable(const Error& error) { return is_retriable(error_code(error)); }

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

// Builds {code, "<NAME>: <details>"}.
Error client_error(ErrorCode code, std::string_view details);

// The token before the first ": " in the message, or the whole message if it has none.
std::string_view error_reason(const Error& error);

}  // namespace sluice::client
