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

}  // namespace sluice::storage
