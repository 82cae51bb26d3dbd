#include "wire_errors.h"

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/group_errc.h"
#include "sluice/storage/storage_errc.h"

namespace sluice::broker {
namespace {

using storage::StorageErrc;

wire::ErrorCode common_to_wire(Errc code) {
  switch (code) {
    case Errc::ok: return wire::NONE;
    case Errc::truncated:
    case Errc::corrupt_data: return wire::CORRUPT_MESSAGE;
    case Errc::not_found: return wire::STORAGE_ERROR;  // a file missing under the broker
    case Errc::already_exists: return wire::TOPIC_ALREADY_EXISTS;
    case Errc::invalid_argument: return wire::INVALID_REQUEST;
    case Errc::unsupported: return wire::UNSUPPORTED_VERSION;
    case Errc::io_error:
    case Errc::no_space: return wire::STORAGE_ERROR;
    case Errc::closed: return wire::NOT_LEADER_OR_FOLLOWER;
  }
  return wire::UNKNOWN_SERVER_ERROR;
}

wire::ErrorCode storage_to_wire(StorageErrc code) {
  switch (code) {
    case StorageErrc::crc_mismatch:
    case StorageErrc::wrong_magic:
    case StorageErrc::record_count_mismatch:
    case StorageErrc::offset_delta_not_monotonic:
    case StorageErrc::compression_error: return wire::CORRUPT_MESSAGE;
    case StorageErrc::batch_too_large: return wire::MESSAGE_TOO_LARGE;
    case StorageErrc::offset_out_of_range: return wire::OFFSET_OUT_OF_RANGE;
    case StorageErrc::not_batch_boundary: return wire::INVALID_REQUEST;
    case StorageErrc::out_of_order_sequence: return wire::OUT_OF_ORDER_SEQUENCE_NUMBER;
    case StorageErrc::producer_fenced: return wire::INVALID_PRODUCER_EPOCH;
    case StorageErrc::unsupported_compression: return wire::UNSUPPORTED_COMPRESSION_TYPE;
    case StorageErrc::invalid_record: return wire::INVALID_RECORD;
  }
  return wire::UNKNOWN_SERVER_ERROR;
}

wire::ErrorCode broker_to_wire(BrokerErrc code) {
  switch (code) {
    case BrokerErrc::unknown_topic_or_partition: return wire::UNKNOWN_TOPIC_OR_PARTITION;
    case BrokerErrc::invalid_topic: return wire::INVALID_TOPIC;
    case BrokerErrc::invalid_partitions: return wire::INVALID_PARTITIONS;
    case BrokerErrc::invalid_config: return wire::INVALID_CONFIG;
    case BrokerErrc::invalid_transaction_timeout: return wire::INVALID_TRANSACTION_TIMEOUT;
  }
  return wire::UNKNOWN_SERVER_ERROR;
}

wire::ErrorCode group_to_wire(GroupErrc code) {
  switch (code) {
    case GroupErrc::unknown_member_id: return wire::UNKNOWN_MEMBER_ID;
    case GroupErrc::stale_member_epoch: return wire::STALE_MEMBER_EPOCH;
    case GroupErrc::fenced_member_epoch: return wire::FENCED_MEMBER_EPOCH;
    case GroupErrc::invalid_group_id: return wire::INVALID_GROUP_ID;
    case GroupErrc::offset_metadata_too_large: return wire::OFFSET_METADATA_TOO_LARGE;
    case GroupErrc::group_id_not_found: return wire::GROUP_ID_NOT_FOUND;
    case GroupErrc::non_empty_group: return wire::NON_EMPTY_GROUP;
    case GroupErrc::coordinator_load_in_progress: return wire::COORDINATOR_LOAD_IN_PROGRESS;
    case GroupErrc::invalid_session_timeout: return wire::INVALID_SESSION_TIMEOUT;
    case GroupErrc::invalid_regular_expression: return wire::INVALID_REGULAR_EXPRESSION;
    case GroupErrc::fenced_instance_id: return wire::FENCED_INSTANCE_ID;
  }
  return wire::UNKNOWN_SERVER_ERROR;
}

}  // namespace

wire::ErrorCode to_wire_code(std::error_code code) {
  const std::error_category& category = code.category();
  if (category == common_category()) return common_to_wire(static_cast<Errc>(code.value()));
  if (category == storage::storage_category()) return storage_to_wire(static_cast<StorageErrc>(code.value()));
  if (category == broker_category()) return broker_to_wire(static_cast<BrokerErrc>(code.value()));
  if (category == group_category()) return group_to_wire(static_cast<GroupErrc>(code.value()));
  return wire::UNKNOWN_SERVER_ERROR;
}

}  // namespace sluice::broker
