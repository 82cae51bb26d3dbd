#include "sluice/broker/log_cleaner.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <vector>

#include "sluice/broker/topic_table.h"
#include "sluice/common/log.h"

namespace sluice::broker {

struct LogCleaner::Due {
  std::shared_ptr<Topic> topic;  // keeps the partition alive through a delete
  Partition* partition;
  double ratio;
};

LogCleaner::LogCleaner(TopicTable& topics, Clock& clock, LogCleanerSettings settings)
    : topics_(topics),
      clock_(clock),
      settings_(settings),
      throttle_(settings.io_max_bytes_per_second),
      maps_(static_cast<size_t>(std::max(settings.threads, 1))) {}

LogCleaner::~LogCleaner() { stop(); }

void LogCleaner::start() {
  if (!threads_.empty()) return;
  for (size_t worker = 0; worker < maps_.size(); ++worker) threads_.emplace_back([this, worker] { run(worker); });
}

void LogCleaner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  throttle_.stop();
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void LogCleaner::run(size_t worker) {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(settings_.backoff_ms), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    // Each due log at most once a round: a log that stays due (its pass could
    // not move first_dirty) waits for the next round instead of spinning.
    std::set<std::string> cleaned_this_round;
    while (clean_dirtiest(worker, cleaned_this_round)) {
    }
    lock.lock();
  }
}

bool LogCleaner::clean_dirtiest(size_t worker, std::set<std::string>& skip) {
  std::optional<Due> chosen;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    const int64_t now_ms = clock_.now().value();
    for (const auto& topic : topics_.list(TopicTable::Internal::include)) {
      for (const auto& partition : topic->partitions) {
        storage::PartitionLog& log = partition->log();
        if (!log.compacts() || failed_.contains(log.dir()) || in_progress_.contains(log.dir()) ||
            skip.contains(log.dir())) {
          continue;
        }
        const storage::CleanableState state = log.cleanable_state();
        if (state.dirty_bytes == 0) continue;
        const storage::LogConfig config = log.config();
        const bool lagging = config.max_compaction_lag_ms != INT64_MAX && state.oldest_dirty_ms >= 0 &&
                             state.oldest_dirty_ms <= now_ms - config.max_compaction_lag_ms;
        if (state.dirty_ratio() < config.min_cleanable_dirty_ratio && !lagging) continue;
        if (!chosen || state.dirty_ratio() > chosen->ratio) chosen = Due{topic, partition.get(), state.dirty_ratio()};
      }
    }
    if (!chosen) return false;
    in_progress_.insert(chosen->partition->log().dir());
  }
  storage::PartitionLog& log = chosen->partition->log();
  skip.insert(log.dir());
  if (!maps_[worker])
    maps_[worker] = std::make_unique<storage::KeyOffsetMap>(settings_.dedupe_buffer_bytes / maps_.size());
  auto result = log.clean(*maps_[worker], &throttle_);
  std::lock_guard lock(mu_);
  in_progress_.erase(log.dir());
  stats_.throttled_seconds = std::chrono::duration<double>(throttle_.time_paused()).count();
  if (!result) {
    // A topic deleted under the pass: its log is closed or its files gone.
    if (result.error().code == Errc::closed || topics_.find(chosen->topic->name) != chosen->topic) return true;
    failed_.insert(log.dir());
    ++stats_.failed_logs;
    log::error("broker", "log_cleaning_failed",
               {{"topic", chosen->topic->name}, {"dir", log.dir()}, {"error", result.error().to_string()}});
    return true;
  }
  if (!result->cleaned) return true;
  ++stats_.passes;
  stats_.bytes_read += result->bytes_before;
  stats_.bytes_written += result->bytes_after;
  stats_.records_dropped += static_cast<uint64_t>(result->records_dropped);
  return true;
}

std::string render_log_cleaner_metrics(const LogCleanerStats& stats) {
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    std::string value;
  };
  std::ostringstream throttled;
  throttled << stats.throttled_seconds;
  std::string out;
  for (const Metric& m : {
           Metric{"sluice_log_cleaner_passes_total", "counter", "Compaction passes that cleaned a log.",
                  std::to_string(stats.passes)},
           Metric{"sluice_log_cleaner_bytes_read_total", "counter", "Segment bytes the cleaner rewrote.",
                  std::to_string(stats.bytes_read)},
           Metric{"sluice_log_cleaner_bytes_written_total", "counter", "What those bytes became.",
                  std::to_string(stats.bytes_written)},
           Metric{"sluice_log_cleaner_records_dropped_total", "counter",
                  "Superseded records and expired tombstones removed.", std::to_string(stats.records_dropped)},
           Metric{"sluice_log_cleaner_uncleanable_logs", "gauge",
                  "Logs whose cleaning failed, skipped until the broker restarts.", std::to_string(stats.failed_logs)},
           Metric{"sluice_log_cleaner_throttled_seconds_total", "counter",
                  "Time log.cleaner.io.max.bytes.per.second held the cleaner back.", throttled.str()},
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
    out += m.value;
    out += "\n";
  }
  return out;
}

LogCleanerStats LogCleaner::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace sluice::broker
