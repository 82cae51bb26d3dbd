#include "sluice/client/wire_error.h"

#include "sluice/client/client_errors.h"

#include "sluice.pb.h"

namespace sluice::client {

std::string wire_code_name(int32_t code) {
  if (wire::ErrorCode_IsValid(code)) return wire::ErrorCode_Name(static_cast<wire::ErrorCode>(code));
  return "WIRE_ERROR_" + std::to_string(code);
}

namespace {

Errc closest_errc(int32_t code) {
  switch (code) {
    case wire::UNKNOWN_TOPIC_OR_PARTITION: return Errc::not_found;
    case wire::TOPIC_ALREADY_EXISTS: return Errc::already_exists;
    case wire::OFFSET_OUT_OF_RANGE: return Errc::offset_out_of_range;
    case wire::MESSAGE_TOO_LARGE: return Errc::batch_too_large;
    case wire::CORRUPT_MESSAGE: return Errc::corrupt_data;
    case wire::OUT_OF_ORDER_SEQUENCE_NUMBER: return Errc::out_of_order_sequence;
    case wire::INVALID_PRODUCER_EPOCH: return Errc::producer_fenced;
    case wire::UNSUPPORTED_COMPRESSION_TYPE: return Errc::unsupported_compression;
    case wire::INVALID_RECORD: return Errc::invalid_record;
    case wire::INVALID_REQUEST:
    case wire::INVALID_CONFIG:
    case wire::INVALID_PARTITIONS:
    case wire::INVALID_TOPIC:
    case wire::INVALID_REQUIRED_ACKS: return Errc::invalid_argument;
    case wire::UNSUPPORTED_VERSION:
    case wire::UNSUPPORTED_API: return Errc::unsupported;
    case wire::REQUEST_TIMED_OUT:
    case wire::STORAGE_ERROR:
    case wire::BROKER_SHUTTING_DOWN:
    case wire::UNKNOWN_SERVER_ERROR:
    default: return Errc::io_error;
  }
}

}  // namespace

Error wire_error(int32_t code, std::string_view message) {
  return client_error(closest_errc(code), wire_code_name(code), message);
}

bool is_retriable_wire_code(int32_t code) {
  switch (code) {
    case wire::REQUEST_TIMED_OUT:
    case wire::STORAGE_ERROR:
    case wire::BROKER_SHUTTING_DOWN:
    case wire::UNKNOWN_TOPIC_OR_PARTITION: return true;
    default: return false;
  }
}

}  // namespace sluice::client
