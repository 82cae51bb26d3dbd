// The small files of a partition directory beside its segments (storage/FORMAT.md):
// `recovery-point`, `clean-shutdown` and `producer-state`.
// Thread-safety: free functions; the caller serialises writes to one directory.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/file_system.h"

namespace sluice::storage {

inline constexpr std::string_view kCleanShutdownFile = "clean-shutdown";
inline constexpr std::string_view kRecoveryPointFile = "recovery-point";
inline constexpr std::string_view kProducerStateFile = "producer-state";

inline std::string log_file_path(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

// The offset below which every segment was synced; 0 when the file is missing or unreadable.
inline Offset read_recovery_point(FileSystem& fs, const std::string& dir) {
  auto bytes = fs.read_file(log_file_path(dir, kRecoveryPointFile));
  if (!bytes) return Offset(0);
  int64_t value = 0;
  auto text = as_string_view(*bytes);
  if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) return Offset(0);
  return Offset(value);
}

// Replaces the recovery point atomically.
inline Status write_recovery_point(FileSystem& fs, const std::string& dir, Offset offset) {
  std::string text = std::to_string(offset.value()) + "\n";
  return fs.write_file_atomic(log_file_path(dir, kRecoveryPointFile), as_bytes(text));
}

}  // namespace sluice::storage
