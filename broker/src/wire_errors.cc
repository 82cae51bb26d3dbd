#include "wire_errors.h"

namespace sluice::broker {

wire::ErrorCode to_wire_code(Errc code) {
  switch (code) {
    case Errc::ok: return wire::NONE;
    case Errc::crc_mismatch:
    case Errc::wrong_magic:
    case Errc::truncated:
    case Errc::corrupt_data:
    case Errc::record_count_mismatch:
    case Errc::offset_delta_not_monotonic:
    case Errc::compression_error: return wire::CORRUPT_MESSAGE;
    case Errc::batch_too_large: return wire::MESSAGE_TOO_LARGE;
    case Errc::offset_out_of_range: return wire::OFFSET_OUT_OF_RANGE;
    case Errc::unknown_topic_or_partition: return wire::UNKNOWN_TOPIC_OR_PARTITION;
    case Errc::not_found: return wire::STORAGE_ERROR;  // a file missing under the broker
    case Errc::already_exists: return wire::TOPIC_ALREADY_EXISTS;
    case Errc::invalid_argument: return wire::INVALID_REQUEST;
    case Errc::unsupported: return wire::UNSUPPORTED_VERSION;
    case Errc::io_error:
    case Errc::no_space: return wire::STORAGE_ERROR;
    case Errc::closed: return wire::NOT_LEADER_OR_FOLLOWER;
    case Errc::not_batch_boundary: return wire::INVALID_REQUEST;
    case Errc::out_of_order_sequence: return wire::OUT_OF_ORDER_SEQUENCE_NUMBER;
    case Errc::producer_fenced: return wire::INVALID_PRODUCER_EPOCH;
    case Errc::unsupported_compression: return wire::UNSUPPORTED_COMPRESSION_TYPE;
    case Errc::invalid_record: return wire::INVALID_RECORD;
  }
  return wire::UNKNOWN_SERVER_ERROR;
}

}  // namespace sluice::broker
