// The broker's log cleaner (Kafka's LogCleaner): one background thread that, every
// backoff interval, compacts the partition logs that are due, dirtiest first. A log
// is due when its cleanup policy compacts and its dirty ratio reaches
// min.cleanable.dirty.ratio, or its oldest dirty data is older than
// max.compaction.lag.ms. The pass itself is storage::PartitionLog::clean.
// A log whose pass fails (a segment that does not check, an I/O error) is marked
// uncleanable and skipped until the broker restarts, as Kafka does; the others go on.
// Thread-safety: start/stop from the owner; clean_due_logs and stats from any thread
// (passes serialise on an internal lock).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "sluice/common/clock.h"
#include "sluice/storage/key_offset_map.h"

namespace sluice::broker {

class TopicTable;

struct LogCleanerSettings {
  int64_t backoff_ms = 15'000;              // log.cleaner.backoff.ms
  size_t dedupe_buffer_bytes = 128u << 20;  // log.cleaner.dedupe.buffer.size
};

struct LogCleanerStats {
  uint64_t passes = 0;           // logs cleaned
  uint64_t bytes_read = 0;       // segment bytes rewritten
  uint64_t bytes_written = 0;    // what they became
  uint64_t records_dropped = 0;  // superseded records and expired tombstones
  uint64_t failed_logs = 0;      // marked uncleanable
  int64_t last_pass_ms = -1;     // wall clock at the end of the last pass; -1 before one
};

// The stats in Prometheus text format (sluice_log_cleaner_*).
std::string render_log_cleaner_metrics(const LogCleanerStats& stats);

class LogCleaner {
 public:
  LogCleaner(TopicTable& topics, Clock& clock, LogCleanerSettings settings);
  ~LogCleaner();
  void start();
  void stop();
  // Cleans every log that is due now, dirtiest first; returns how many were cleaned.
  size_t clean_due_logs();
  LogCleanerStats stats() const;

 private:
  void run();

  TopicTable& topics_;
  Clock& clock_;
  const LogCleanerSettings settings_;
  std::mutex pass_mu_;                          // one round at a time; guards map_ and failed_
  std::unique_ptr<storage::KeyOffsetMap> map_;  // allocated at the first due log
  std::set<std::string> failed_;                // log directories
  mutable std::mutex mu_;                       // guards stats_, stopping_
  std::condition_variable wake_;
  LogCleanerStats stats_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::broker
