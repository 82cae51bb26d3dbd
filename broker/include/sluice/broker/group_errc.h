// The group coordinator's error codes: requests about consumer groups and their
// committed offsets that the broker refuses. Mapped to the wire with every other
// code in broker/src/wire_errors.cc.
// Thread-safety: plain values; the category is an immutable singleton.
#pragma once

#include <string_view>
#include <system_error>

#include "sluice/common/error.h"

namespace sluice::broker {

enum class GroupErrc {
  unknown_member_id = 1,         // a member id the group does not have
  stale_member_epoch,            // a member epoch older than the member's current one (a commit after a move)
  fenced_member_epoch,           // a member epoch the coordinator has fenced
  invalid_group_id,              // a group id that is empty or longer than 255 characters
  offset_metadata_too_large,     // a commit's metadata longer than offset.metadata.max.bytes
  group_id_not_found,            // a group the coordinator does not know
  non_empty_group,               // an operation that needs an empty group (delete, alter offsets)
  coordinator_load_in_progress,  // the coordinator is still loading groups from __consumer_offsets
  invalid_session_timeout,       // a member's session timeout outside group.min/max.session.timeout.ms
  invalid_regular_expression,    // a subscription pattern that is not a valid regular expression
  fenced_instance_id,            // a member whose instance id a newer member took over
};

}  // namespace sluice::broker

template <>
struct std::is_error_code_enum<sluice::broker::GroupErrc> : std::true_type {};

namespace sluice::broker {

std::string_view group_errc_name(GroupErrc code);
const std::error_category& group_category();
inline std::error_code make_error_code(GroupErrc code) { return {static_cast<int>(code), group_category()}; }

}  // namespace sluice::broker
