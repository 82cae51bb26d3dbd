// Who may commit offsets for a group. Until the group coordinator exists every
// group is empty, so only a consumer outside the group (Kafka's "simple"
// consumer: an empty member id and member epoch -1) may commit. The coordinator
// replaces this check with its members and epochs (stale, fenced).
#pragma once

#include <cstdint>
#include <string>

#include "sluice/broker/group_errc.h"
#include "sluice/common/error.h"

namespace sluice::broker::group {

inline Status check_commit_member(const std::string& group, const std::string& member_id, int32_t member_epoch) {
  if (member_id.empty() && member_epoch == -1) return {};
  return make_error(GroupErrc::unknown_member_id, "group " + group + " has no member '" + member_id + "' (epoch " +
                                                      std::to_string(member_epoch) +
                                                      "): commit with an empty member id and epoch -1");
}

}  // namespace sluice::broker::group
