#include "sluice/storage/log_config.h"

namespace sluice::storage {

std::string_view durability_name(Durability d) {
  switch (d) {
    case Durability::fsync: return "fsync";
    case Durability::interval: return "interval";
    case Durability::none: return "none";
  }
  return "unknown";
}

std::optional<Durability> parse_durability(std::string_view name) {
  if (name == "fsync") return Durability::fsync;
  if (name == "interval") return Durability::interval;
  if (name == "none") return Durability::none;
  return std::nullopt;
}

std::string_view cleanup_policy_name(CleanupPolicy policy) {
  switch (policy) {
    case CleanupPolicy::delete_segments: return "delete";
    case CleanupPolicy::compact: return "compact";
    case CleanupPolicy::compact_and_delete: return "compact,delete";
  }
  return "unknown";
}

std::optional<CleanupPolicy> parse_cleanup_policy(std::string_view name) {
  if (name == "delete") return CleanupPolicy::delete_segments;
  if (name == "compact") return CleanupPolicy::compact;
  if (name == "compact,delete" || name == "delete,compact") return CleanupPolicy::compact_and_delete;
  return std::nullopt;
}

}  // namespace sluice::storage
