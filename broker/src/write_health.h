// Whether the broker can take writes, for /healthz: a full disk (or a failing
// one) leaves reads served but refuses every write, and health must say so.
//
// Two signals: the free space of the data directory's file system (statvfs, read
// at each check), and the last append's outcome (an I/O error or a full disk
// since the last append that succeeded).
//
// Thread-safety: every method is thread-safe; record() costs one relaxed load
// while appends succeed.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "sluice/common/error.h"

namespace sluice::broker {

class WriteHealth {
 public:
  // Below this much free space the broker reports it cannot take writes: less
  // than one default batch.
  static constexpr uint64_t kMinFreeBytes = 1u << 20;

  explicit WriteHealth(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // The outcome of one append.
  void record(const Status& append);

  // Why writes cannot be taken now, or nullopt when they can.
  std::optional<std::string> problem() const;

 private:
  const std::string data_dir_;
  std::atomic<bool> failing_{false};
  mutable std::mutex mu_;
  std::string last_error_;  // under mu_, while failing_
};

}  // namespace sluice::broker
