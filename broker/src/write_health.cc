#include "write_health.h"

#include <sys/statvfs.h>

namespace sluice::broker {

void WriteHealth::record(const Status& append) {
  if (append) {
    if (failing_.load(std::memory_order_relaxed)) failing_.store(false, std::memory_order_relaxed);
    return;
  }
  std::error_code code = append.error().code;
  if (code != Errc::no_space && code != Errc::io_error) return;  // the request's fault, not the disk's
  std::lock_guard lock(mu_);
  last_error_ = append.error().to_string();
  failing_.store(true, std::memory_order_relaxed);
}

std::optional<std::string> WriteHealth::problem() const {
  struct statvfs fs {};
  if (::statvfs(data_dir_.c_str(), &fs) == 0) {
    uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < kMinFreeBytes) {
      return "no space: " + std::to_string(free_bytes) + " bytes free in " + data_dir_;
    }
  }
  if (failing_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(mu_);
    return "the last append failed: " + last_error_;
  }
  return std::nullopt;
}

}  // namespace sluice::broker
