// The broker's log cleaner (Kafka's LogCleaner): log.cleaner.threads background
// threads, each of which, every backoff interval, compacts the partition logs that
// are due, dirtiest first, one log at a time and never a log another thread is
// cleaning. A log is due when its cleanup policy compacts and its dirty ratio
// reaches min.cleanable.dirty.ratio, or its oldest dirty data is older than
// max.compaction.lag.ms. The pass itself is storage::PartitionLog::clean. Each
// thread has its share of the dedupe buffer as its key map; all share one I/O
// throttle (log.cleaner.io.max.bytes.per.second).
// A log whose pass fails (a segment that does not check, an I/O error) is marked
// uncleanable and skipped until the broker restarts, as Kafka does; the others go on.
// Thread-safety: start/stop from the owner; stats from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/common/clock.h"
#include "sluice/storage/io_throttle.h"
#include "sluice/storage/key_offset_map.h"

namespace sluice::broker {

class TopicTable;

struct LogCleanerSettings {
  int64_t backoff_ms = 15'000;              // log.cleaner.backoff.ms
  size_t dedupe_buffer_bytes = 128u << 20;  // log.cleaner.dedupe.buffer.size, split among the threads
  double io_max_bytes_per_second = std::numeric_limits<double>::infinity();  // log.cleaner.io.max.bytes.per.second
  int threads = 1;                                                           // log.cleaner.threads
};

struct LogCleanerStats {
  uint64_t passes = 0;           // logs cleaned
  uint64_t bytes_read = 0;       // segment bytes rewritten
  uint64_t bytes_written = 0;    // what they became
  uint64_t records_dropped = 0;  // superseded records and expired tombstones
  uint64_t failed_logs = 0;      // marked uncleanable
  double throttled_seconds = 0;  // time the throttle held the cleaner back
};

// The stats in Prometheus text format (sluice_log_cleaner_*).
std::string render_log_cleaner_metrics(const LogCleanerStats& stats);

class LogCleaner {
 public:
  LogCleaner(TopicTable& topics, Clock& clock, LogCleanerSettings settings);
  ~LogCleaner();
  void start();
  void stop();
  LogCleanerStats stats() const;

 private:
  struct Due;
  void run(size_t worker);
  // Cleans the dirtiest due log that no thread is cleaning and that is not in
  // `skip`; adds it to `skip`. False when there is none (or the cleaner stops).
  bool clean_dirtiest(size_t worker, std::set<std::string>& skip);

  TopicTable& topics_;
  Clock& clock_;
  const LogCleanerSettings settings_;
  storage::IoThrottle throttle_;
  std::vector<std::unique_ptr<storage::KeyOffsetMap>> maps_;  // one per thread, allocated at its first due log
  mutable std::mutex mu_;                                     // guards everything below
  std::set<std::string> failed_;                              // log directories
  std::set<std::string> in_progress_;                         // log directories being cleaned
  std::condition_variable wake_;
  LogCleanerStats stats_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::broker
