#include "sluice/client/wire_error.h"

#include "sluice/client/client_errors.h"

#include "sluice.pb.h"

namespace sluice::client {

// ErrorCode keeps the wire's numbers; a wire code added to sluice.proto needs its
// ErrorCode (and a decision in is_retriable()).
#define SLUICE_CHECK_WIRE_CODE(name, wire_name) \
  static_assert(static_cast<int32_t>(ErrorCode::name) == wire::wire_name, #name " is not wire::" #wire_name);
SLUICE_CHECK_WIRE_CODE(none, NONE)
SLUICE_CHECK_WIRE_CODE(unknown_server_error, UNKNOWN_SERVER_ERROR)
SLUICE_CHECK_WIRE_CODE(corrupt_message, CORRUPT_MESSAGE)
SLUICE_CHECK_WIRE_CODE(unknown_topic_or_partition, UNKNOWN_TOPIC_OR_PARTITION)
SLUICE_CHECK_WIRE_CODE(invalid_request, INVALID_REQUEST)
SLUICE_CHECK_WIRE_CODE(unsupported_version, UNSUPPORTED_VERSION)
SLUICE_CHECK_WIRE_CODE(unsupported_api, UNSUPPORTED_API)
SLUICE_CHECK_WIRE_CODE(message_too_large, MESSAGE_TOO_LARGE)
SLUICE_CHECK_WIRE_CODE(offset_out_of_range, OFFSET_OUT_OF_RANGE)
SLUICE_CHECK_WIRE_CODE(topic_already_exists, TOPIC_ALREADY_EXISTS)
SLUICE_CHECK_WIRE_CODE(invalid_config, INVALID_CONFIG)
SLUICE_CHECK_WIRE_CODE(invalid_partitions, INVALID_PARTITIONS)
SLUICE_CHECK_WIRE_CODE(invalid_topic, INVALID_TOPIC)
SLUICE_CHECK_WIRE_CODE(request_timed_out, REQUEST_TIMED_OUT)
SLUICE_CHECK_WIRE_CODE(storage_error, STORAGE_ERROR)
SLUICE_CHECK_WIRE_CODE(broker_shutting_down, BROKER_SHUTTING_DOWN)
SLUICE_CHECK_WIRE_CODE(invalid_required_acks, INVALID_REQUIRED_ACKS)
SLUICE_CHECK_WIRE_CODE(out_of_order_sequence_number, OUT_OF_ORDER_SEQUENCE_NUMBER)
SLUICE_CHECK_WIRE_CODE(invalid_producer_epoch, INVALID_PRODUCER_EPOCH)
SLUICE_CHECK_WIRE_CODE(unsupported_compression_type, UNSUPPORTED_COMPRESSION_TYPE)
SLUICE_CHECK_WIRE_CODE(invalid_record, INVALID_RECORD)
SLUICE_CHECK_WIRE_CODE(not_leader_or_follower, NOT_LEADER_OR_FOLLOWER)
SLUICE_CHECK_WIRE_CODE(unknown_member_id, UNKNOWN_MEMBER_ID)
SLUICE_CHECK_WIRE_CODE(stale_member_epoch, STALE_MEMBER_EPOCH)
SLUICE_CHECK_WIRE_CODE(fenced_member_epoch, FENCED_MEMBER_EPOCH)
SLUICE_CHECK_WIRE_CODE(invalid_group_id, INVALID_GROUP_ID)
SLUICE_CHECK_WIRE_CODE(offset_metadata_too_large, OFFSET_METADATA_TOO_LARGE)
SLUICE_CHECK_WIRE_CODE(group_id_not_found, GROUP_ID_NOT_FOUND)
SLUICE_CHECK_WIRE_CODE(non_empty_group, NON_EMPTY_GROUP)
SLUICE_CHECK_WIRE_CODE(coordinator_load_in_progress, COORDINATOR_LOAD_IN_PROGRESS)
SLUICE_CHECK_WIRE_CODE(invalid_session_timeout, INVALID_SESSION_TIMEOUT)
SLUICE_CHECK_WIRE_CODE(invalid_regular_expression, INVALID_REGULAR_EXPRESSION)
SLUICE_CHECK_WIRE_CODE(unreleased_instance_id, UNRELEASED_INSTANCE_ID)
SLUICE_CHECK_WIRE_CODE(fenced_instance_id, FENCED_INSTANCE_ID)
SLUICE_CHECK_WIRE_CODE(invalid_transaction_timeout, INVALID_TRANSACTION_TIMEOUT)
#undef SLUICE_CHECK_WIRE_CODE
static_assert(wire::ErrorCode_MAX == static_cast<int32_t>(ErrorCode::invalid_transaction_timeout),
              "a wire code without its client::ErrorCode");

std::string wire_code_name(int32_t code) { return error_code_name(static_cast<ErrorCode>(code)); }

Error wire_error(int32_t code, std::string_view message) { return client_error(static_cast<ErrorCode>(code), message); }

bool is_retriable_wire_code(int32_t code) { return is_retriable(static_cast<ErrorCode>(code)); }

}  // namespace sluice::client
