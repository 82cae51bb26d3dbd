#include "sluice/broker/log_cleaner.h"

#include <algorithm>
#include <vector>

#include "sluice/broker/topic_table.h"
#include "sluice/common/log.h"

namespace sluice::broker {

LogCleaner::LogCleaner(TopicTable& topics, Clock& clock, LogCleanerSettings settings)
    : topics_(topics), clock_(clock), settings_(settings) {}

LogCleaner::~LogCleaner() { stop(); }

void LogCleaner::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void LogCleaner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogCleaner::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(settings_.backoff_ms), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    clean_due_logs();
    lock.lock();
  }
}

size_t LogCleaner::clean_due_logs() {
  std::lock_guard pass(pass_mu_);
  struct Due {
    std::shared_ptr<Topic> topic;  // keeps the partition alive through a delete
    Partition* partition;
    double ratio;
  };
  std::vector<Due> due;
  const int64_t now_ms = clock_.now().value();
  for (const auto& topic : topics_.list(TopicTable::Internal::include)) {
    for (const auto& partition : topic->partitions) {
      storage::PartitionLog& log = partition->log();
      if (!log.compacts() || failed_.contains(log.dir())) continue;
      const storage::CleanableState state = log.cleanable_state();
      if (state.dirty_bytes == 0) continue;
      const storage::LogConfig config = log.config();
      const bool lagging = config.max_compaction_lag_ms != INT64_MAX && state.oldest_dirty_ms >= 0 &&
                           state.oldest_dirty_ms <= now_ms - config.max_compaction_lag_ms;
      if (state.dirty_ratio() >= config.min_cleanable_dirty_ratio || lagging) {
        due.push_back({topic, partition.get(), state.dirty_ratio()});
      }
    }
  }
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) { return a.ratio > b.ratio; });
  size_t cleaned = 0;
  for (const Due& d : due) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (!map_) map_ = std::make_unique<storage::KeyOffsetMap>(settings_.dedupe_buffer_bytes);
    storage::PartitionLog& log = d.partition->log();
    auto result = log.clean(*map_);
    std::lock_guard lock(mu_);
    if (!result) {
      // A topic deleted under the pass: its log is closed or its files gone.
      if (result.error().code == Errc::closed || topics_.find(d.topic->name) != d.topic) continue;
      failed_.insert(log.dir());
      ++stats_.failed_logs;
      log::error("broker", "log_cleaning_failed",
                 {{"topic", d.topic->name}, {"dir", log.dir()}, {"error", result.error().to_string()}});
      continue;
    }
    if (!result->cleaned) continue;
    ++cleaned;
    ++stats_.passes;
    stats_.bytes_read += result->bytes_before;
    stats_.bytes_written += result->bytes_after;
    stats_.records_dropped += static_cast<uint64_t>(result->records_dropped);
    stats_.last_pass_ms = clock_.now().value();
  }
  return cleaned;
}

std::string render_log_cleaner_metrics(const LogCleanerStats& stats) {
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  };
  std::string out;
  for (const Metric& m : {
           Metric{"sluice_log_cleaner_passes_total", "counter", "Compaction passes that cleaned a log.", stats.passes},
           Metric{"sluice_log_cleaner_bytes_read_total", "counter", "Segment bytes the cleaner rewrote.",
                  stats.bytes_read},
           Metric{"sluice_log_cleaner_bytes_written_total", "counter", "What those bytes became.", stats.bytes_written},
           Metric{"sluice_log_cleaner_records_dropped_total", "counter",
                  "Superseded records and expired tombstones removed.", stats.records_dropped},
           Metric{"sluice_log_cleaner_uncleanable_logs", "gauge",
                  "Logs whose cleaning failed, skipped until the broker restarts.", stats.failed_logs},
       }) {
    out += "# HELP ";
    out += m.name;
    out += " ";
    out += m.help;
    out += "\n# TYPE ";
    out += m.name;
    out += " ";
    out += m.type;
    out += "\n";
    out += m.name;
    out += " ";
    out += std::to_string(m.value);
    out += "\n";
  }
  return out;
}

LogCleanerStats LogCleaner::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace sluice::broker
