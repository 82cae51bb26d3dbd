#include "sluice/broker/group_errc.h"

namespace sluice::broker {

std::string_view group_errc_name(GroupErrc code) {
  switch (code) {
    case GroupErrc::unknown_member_id: return "unknown_member_id";
    case GroupErrc::stale_member_epoch: return "stale_member_epoch";
    case GroupErrc::fenced_member_epoch: return "fenced_member_epoch";
    case GroupErrc::invalid_group_id: return "invalid_group_id";
    case GroupErrc::offset_metadata_too_large: return "offset_metadata_too_large";
    case GroupErrc::group_id_not_found: return "group_id_not_found";
    case GroupErrc::non_empty_group: return "non_empty_group";
    case GroupErrc::coordinator_load_in_progress: return "coordinator_load_in_progress";
    case GroupErrc::invalid_session_timeout: return "invalid_session_timeout";
    case GroupErrc::invalid_regular_expression: return "invalid_regular_expression";
    case GroupErrc::fenced_instance_id: return "fenced_instance_id";
  }
  return "unknown";
}

const std::error_category& group_category() {
  static const NamedErrorCategory kCategory("group",
                                            [](int value) { return group_errc_name(static_cast<GroupErrc>(value)); });
  return kCategory;
}

}  // namespace sluice::broker
