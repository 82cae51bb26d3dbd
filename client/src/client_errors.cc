#include "sluice/client/client_errors.h"

#include <string>

#include "sluice.pb.h"

namespace sluice::client {
namespace {

struct ClientSideCode {
  ErrorCode code;
  std::string_view name;
};

constexpr ClientSideCode kClientSideCodes[] = {
    {ErrorCode::disconnected, reason::kDisconnected},        {ErrorCode::buffer_full, reason::kBufferFull},
    {ErrorCode::record_too_large, reason::kRecordTooLarge},  {ErrorCode::delivery_timeout, reason::kDeliveryTimeout},
    {ErrorCode::metadata_timeout, reason::kMetadataTimeout}, {ErrorCode::closed, reason::kClosed},
    {ErrorCode::protocol_error, reason::kProtocolError},     {ErrorCode::no_offset, reason::kNoOffset},
};

}  // namespace

std::string error_code_name(ErrorCode code) {
  for (const ClientSideCode& c : kClientSideCodes) {
    if (c.code == code) return std::string(c.name);
  }
  auto value = static_cast<int32_t>(code);
  if (wire::ErrorCode_IsValid(value)) return wire::ErrorCode_Name(static_cast<wire::ErrorCode>(value));
  return "WIRE_ERROR_" + std::to_string(value);
}

// Kafka's retriable codes where the meaning is the same (its protocol error
// table), with two exceptions: CORRUPT_MESSAGE is final here, since the broker
// sends it for damaged stored data that a retry reads again, and
// BROKER_SHUTTING_DOWN, which Kafka does not have, is retriable.
bool is_retriable(ErrorCode code) {
  switch (code) {
    case ErrorCode::unknown_topic_or_partition:  // metadata may be stale; the topic may be on its way
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::request_timed_out:
    case ErrorCode::storage_error:
    case ErrorCode::broker_shutting_down:
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::disconnected: return true;
    case ErrorCode::none:
    case ErrorCode::unknown_server_error:
    case ErrorCode::corrupt_message:
    case ErrorCode::invalid_request:
    case ErrorCode::unsupported_version:
    case ErrorCode::unsupported_api:
    case ErrorCode::message_too_large:
    case ErrorCode::offset_out_of_range:
    case ErrorCode::topic_already_exists:
    case ErrorCode::invalid_config:
    case ErrorCode::invalid_partitions:
    case ErrorCode::invalid_topic:
    case ErrorCode::invalid_required_acks:
    // Sequence gaps are retried by the producer only behind a batch it is retrying (sender.cc).
    case ErrorCode::out_of_order_sequence_number:
    case ErrorCode::invalid_producer_epoch:
    case ErrorCode::unsupported_compression_type:
    case ErrorCode::invalid_record:
    case ErrorCode::unknown_member_id:
    case ErrorCode::stale_member_epoch:
    case ErrorCode::fenced_member_epoch:
    case ErrorCode::invalid_group_id:
    case ErrorCode::offset_metadata_too_large:
    case ErrorCode::group_id_not_found:
    case ErrorCode::non_empty_group:
    case ErrorCode::invalid_session_timeout:
    case ErrorCode::invalid_regular_expression:
    case ErrorCode::unreleased_instance_id:  // the group membership waits it out itself
    case ErrorCode::fenced_instance_id:
    case ErrorCode::invalid_transaction_timeout:
    case ErrorCode::buffer_full:
    case ErrorCode::record_too_large:
    case ErrorCode::delivery_timeout:
    case ErrorCode::metadata_timeout:
    case ErrorCode::closed:
    case ErrorCode::protocol_error:
    case ErrorCode::no_offset: return false;
  }
  return false;  // a code from a newer broker: not known to be transient
}

const std::error_category& client_category() {
  // The category's messages are the codes' wire names: "UNKNOWN_TOPIC_OR_PARTITION".
  class Category final : public std::error_category {
   public:
    const char* name() const noexcept override { return "client"; }
    std::string message(int value) const override { return error_code_name(static_cast<ErrorCode>(value)); }
  };
  static const Category kCategory;
  return kCategory;
}

Error client_error(ErrorCode code, std::string_view details) {
  std::string message = error_code_name(code);
  if (!details.empty()) {
    message += ": ";
    message += details;
  }
  return Error{code, std::move(message)};
}

std::string_view error_reason(const Error& error) {
  std::string_view m = error.message;
  size_t colon = m.find(": ");
  return colon == std::string_view::npos ? m : m.substr(0, colon);
}

}  // namespace sluice::client
