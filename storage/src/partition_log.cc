#include "sluice/storage/partition_log.h"

#include <algorithm>

#include "sluice/common/log.h"
#include "sluice/storage/record_batch.h"

#include "log_cleaning.h"
#include "log_files.h"
#include "log_loader.h"

namespace sluice::storage {

PartitionLog::PartitionLog(FileSystem& fs, std::string dir, LogConfig config, Clock& clock)
    : fs_(fs),
      dir_(std::move(dir)),
      config_(config),
      clock_(clock),
      checkpoint_(std::make_unique<CleanerCheckpoint>()),
      reader_(dir_, config_.max_batch_bytes, config_.offset_gaps),
      durability_(dir_, log_end_, segments_) {}

PartitionLog::~PartitionLog() {
  // Without close() this is what a crash leaves: no clean-shutdown marker, so the
  // next open runs recovery.
  flusher_.reset();
}

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(FileSystem& fs, std::string dir, LogConfig config,
                                                         Clock& clock) {
  if (config.segment_bytes < batch_format::kHeaderSize || config.index_interval_bytes == 0 ||
      config.max_batch_bytes < batch_format::kHeaderSize) {
    return make_error(Errc::invalid_argument,
                      "log config: segment_bytes and max_batch_bytes must be at least one batch "
                      "header (61 bytes), index_interval_bytes above 0");
  }
  if (storage::compacts(config.cleanup_policy) || fs.exists(log_file_path(dir, kCleanerCheckpointFile))) {
    config.offset_gaps = OffsetGaps::are_legal;
  }
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, std::move(dir), config, clock));
  if (auto s = log->load(); !s) return tl::unexpected(s.error());
  if (config.durability == Durability::interval) {
    log->flusher_ =
        IntervalFlusher::shared().add(std::chrono::milliseconds(config.flush_interval_ms), [raw = log.get()] {
          if (auto s = raw->flush(); !s && s.error().code != Errc::closed) {
            log::error("storage", "interval_flush_failed", {{"dir", raw->dir()}, {"error", s.error().to_string()}});
          }
        });
  }
  return log;
}

Status PartitionLog::load() {
  auto loaded = LogLoader(fs_, dir_, config_, clock_, recovery_).load(producers_);
  if (!loaded) return tl::unexpected(loaded.error());
  const Offset end = loaded->segments.back()->next_offset();
  log_end_.store(end.value());
  durability_.reset(end);
  recovery_point_ = loaded->recovery_point;
  *checkpoint_ = CleanerCheckpoint::read(fs_, dir_);
  checkpoint_->truncate(end);
  compacts_.store(storage::compacts(config_.cleanup_policy), std::memory_order_relaxed);
  // Written before the first pass changes anything: a log that may hold a
  // cleaner's gaps keeps legal gaps at every later open, whatever its policy.
  if (storage::compacts(config_.cleanup_policy) && !fs_.exists(log_file_path(dir_, kCleanerCheckpointFile))) {
    if (auto s = checkpoint_->write(fs_, dir_); !s) return s;
  }
  active_created_ms_ = clock_.now().value();
  segments_.publish(std::move(loaded->segments));
  return {};
}

Status PartitionLog::write_recovery_point(Offset offset) {
  recovery_point_ = offset;
  return storage::write_recovery_point(fs_, dir_, offset);
}

Result<AppendResult> PartitionLog::append(MutableByteSpan batch, AwaitDurable await_durable) {
  auto header = validate_batch_crc(batch, config_.max_batch_bytes);
  if (!header) return tl::unexpected(header.error());
  return append_validated(batch, *header, await_durable);
}

Result<AppendResult> PartitionLog::append_validated(MutableByteSpan batch, BatchHeader header,
                                                    AwaitDurable await_durable) {
  batch = batch.first(header.total_size());
  AppendResult result;
  {
    std::lock_guard lock(writer_mu_);
    if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
    auto duplicate = producers_.check(header);
    if (!duplicate) return make_error(duplicate.error().code, dir_ + ": " + duplicate.error().message);
    if (*duplicate) {
      // Acknowledged like the first time, once that first write is durable.
      const ProducerBatchInfo& first = **duplicate;
      result = AppendResult{first.first_offset, first.last_offset, first.max_timestamp, true};
    } else {
      Offset base = log_end_offset();
      stamp_base_offset(batch, base);
      header.base_offset = base;
      const int64_t now_ms = clock_.now().value();
      auto list = segments_.snapshot();
      const auto& active = list->back();
      bool too_big = active->size() + batch.size() > config_.segment_bytes;
      bool too_old = now_ms - active_created_ms_ >= config_.segment_ms;
      bool offsets_overflow = header.last_offset() - active->base_offset() > int64_t{UINT32_MAX};
      if (!active->empty() && (too_big || too_old || offsets_overflow)) {
        if (auto s = roll_locked(base); !s) return tl::unexpected(s.error());
        list = segments_.snapshot();
      }
      if (auto s = list->back()->append(batch, header); !s) return tl::unexpected(s.error());
      producers_.record(header, now_ms);
      log_end_.store(header.next_offset().value(), std::memory_order_release);
      appends_.fetch_add(1, std::memory_order_relaxed);
      result = AppendResult{header.base_offset, header.last_offset(), header.max_timestamp};
    }
  }
  if (config_.durability == Durability::fsync && await_durable == AwaitDurable::yes) {
    if (auto s = wait_durable(result.last_offset + 1); !s) return tl::unexpected(s.error());
  }
  return result;
}

Status PartitionLog::roll() {
  std::lock_guard lock(writer_mu_);
  if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
  if (segments_.snapshot()->back()->empty()) return {};
  return roll_locked(log_end_offset());
}

Status PartitionLog::roll_locked(Offset next_base) {
  const std::shared_ptr<Segment> old = segments_.snapshot()->back();
  bool durable = config_.durability != Durability::none;
  if (durable) {
    // Sync the finished segment before the new one exists, so the group commit
    // only ever has to sync the active segment.
    if (auto s = old->sync(); !s) return s;
    durability_.synced_to(old->next_offset());
  }
  if (auto s = old->write_indexes(durable ? Segment::Sync::yes : Segment::Sync::no); !s) return s;
  old->release_reserve();
  auto segment = Segment::create(fs_, dir_, next_base, segment_options_for(config_));
  if (!segment) return tl::unexpected(segment.error());
  if (durable) {
    if (auto s = fs_.sync_dir(dir_); !s) return s;
    if (auto s = write_recovery_point(next_base); !s) return s;
  }
  segments_.push_back(std::move(*segment));
  active_created_ms_ = clock_.now().value();
  return {};
}

Status PartitionLog::wait_durable(Offset next_offset) { return durability_.wait_durable(next_offset); }

Status PartitionLog::flush() { return wait_durable(log_end_offset()); }

Result<ReadResult> PartitionLog::read(Offset offset, const ReadOptions& options, Bytes& out) const {
  auto list = segments_.snapshot();
  return reader_.read(*list, log_end_offset(), offset, options, out);
}

Result<std::optional<TimestampLookup>> PartitionLog::offset_for_timestamp(int64_t timestamp) const {
  return reader_.offset_for_timestamp(*segments_.snapshot(), timestamp);
}

Status PartitionLog::truncate_to(Offset offset) {
  std::lock_guard lock(writer_mu_);
  if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
  Offset start = segments_.log_start_offset();
  Offset end = log_end_offset();
  if (offset < start || offset > end) {
    return make_error(StorageErrc::offset_out_of_range, "cannot truncate to " + std::to_string(offset.value()) +
                                                            ": log holds [" + std::to_string(start.value()) + ", " +
                                                            std::to_string(end.value()) + ")");
  }
  if (offset == end) return {};
  auto list = segments_.truncated_at(offset, log_end_);
  if (!list) return tl::unexpected(list.error());
  offset = log_end_offset();
  ++truncations_;
  checkpoint_->truncate(offset);
  // Only a log that has a checkpoint keeps one: its presence makes offset gaps legal at open.
  if (fs_.exists(log_file_path(dir_, kCleanerCheckpointFile))) {
    if (auto s = checkpoint_->write(fs_, dir_); !s) return s;
  }
  if (auto s = rebuild_producer_state(*list, clock_.now().value(), producers_); !s) return s;
  durability_.truncated_to(offset);
  // Never raise the recovery point here: segments below the truncated one may be unsynced.
  if (auto s = write_recovery_point(std::min({recovery_point_, list->back()->base_offset(), offset})); !s) return s;
  segments_.publish(std::move(*list));
  log::info("storage", "log_truncated_by_request", {{"dir", dir_}, {"offset", offset.value()}});
  return {};
}

Result<size_t> PartitionLog::apply_retention() {
  std::lock_guard lock(writer_mu_);
  if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
  int64_t now = clock_.now().value();
  producers_.expire(now - config_.producer_id_expiration_ms);
  if (config_.cleanup_policy == CleanupPolicy::compact) return size_t{0};  // compaction alone removes records
  auto removed = segments_.apply_retention(now, config_.retention_ms, config_.retention_bytes);
  if (removed && *removed > 0) {
    log::info("storage", "retention_removed_segments",
              {{"dir", dir_},
               {"segments", static_cast<int64_t>(*removed)},
               {"log_start_offset", segments_.log_start_offset().value()}});
  }
  return removed;
}

Status PartitionLog::close() {
  flusher_.reset();
  if (auto s = flush(); !s) return s;
  std::lock_guard lock(writer_mu_);
  if (closed_) return {};
  closed_ = true;
  auto list = segments_.snapshot();
  // A clean stop on a full disk needs no new blocks: index files that cannot be
  // written stay as they were (the next open checks them against the log and
  // rebuilds what does not match), the old recovery point stays (it is below the
  // log end, so still true), and a snapshot that cannot be written is removed.
  // Only the empty clean-shutdown marker must be created.
  for (const auto& segment : *list) {
    if (auto s = segment->sync(); !s) return s;
    if (auto s = segment->write_indexes(Segment::Sync::yes); !s && s.error().code != Errc::no_space) return s;
  }
  if (auto s = write_recovery_point(log_end_offset()); !s && s.error().code != Errc::no_space) return s;
  // Always written, also empty: a snapshot left from an earlier close must not
  // be taken for this log's if it happens to end at the same offset.
  const std::string snapshot = log_file_path(dir_, kProducerStateFile);
  if (auto s = fs_.write_file_atomic(snapshot, producers_.encode(log_end_offset())); !s) {
    if (s.error().code != Errc::no_space) return s;
    if (auto removed = fs_.remove(snapshot); !removed) return removed;
  }
  return fs_.write_file_atomic(log_file_path(dir_, kCleanShutdownFile), {});
}

LogConfig PartitionLog::config() const {
  std::lock_guard lock(writer_mu_);
  return config_;
}

Status PartitionLog::set_config(const LogConfig& config) {
  if (config.index_interval_bytes != config_.index_interval_bytes ||
      config.max_batch_bytes != config_.max_batch_bytes || config.durability != config_.durability ||
      config.flush_interval_ms != config_.flush_interval_ms) {
    return make_error(Errc::invalid_argument,
                      "log config: " + dir_ +
                          ": index_interval_bytes, max_batch_bytes, durability and flush_interval_ms "
                          "cannot change while the log is open");
  }
  if (config.segment_bytes < batch_format::kHeaderSize) {
    return make_error(Errc::invalid_argument, "log config: segment_bytes must be at least one batch header (61 bytes)");
  }
  std::lock_guard lock(writer_mu_);
  if (storage::compacts(config.cleanup_policy) && config_.offset_gaps == OffsetGaps::are_damage) {
    // A delete log starts compacting. Its segments hold no gaps a cleaner made, so
    // only the segments the cleaner writes from now on (made with the new options)
    // and reads across them need legal gaps. The checkpoint is written first: with
    // it every later open treats gaps as legal, so a crash after the first swap
    // cannot make the cleaner's gaps look like damage.
    if (!fs_.exists(log_file_path(dir_, kCleanerCheckpointFile))) {
      if (auto s = checkpoint_->write(fs_, dir_); !s) return s;
    }
    config_.offset_gaps = OffsetGaps::are_legal;
    reader_.allow_gaps();
  }
  config_.segment_bytes = config.segment_bytes;
  config_.segment_ms = config.segment_ms;
  config_.retention_ms = config.retention_ms;
  config_.retention_bytes = config.retention_bytes;
  config_.producer_id_expiration_ms = config.producer_id_expiration_ms;
  config_.cleanup_policy = config.cleanup_policy;
  compacts_.store(storage::compacts(config.cleanup_policy), std::memory_order_relaxed);
  config_.delete_retention_ms = config.delete_retention_ms;
  config_.min_compaction_lag_ms = config.min_compaction_lag_ms;
  config_.max_compaction_lag_ms = config.max_compaction_lag_ms;
  config_.min_cleanable_dirty_ratio = config.min_cleanable_dirty_ratio;
  return {};
}

CleanableState PartitionLog::cleanable_state_locked(const SegmentList& list, int64_t now_ms) const {
  CleanableState state;
  state.first_dirty = std::max(checkpoint_->first_dirty, list.front()->base_offset());
  state.cleanable_end = list.back()->base_offset();
  // Nothing from the segment of the oldest open transaction on: its records may
  // still be aborted, and the cleaner must not decide between them before the marker.
  if (auto unstable = producers_.first_unstable_offset()) {
    state.cleanable_end = std::min(state.cleanable_end, list[segment_index_for(list, *unstable)]->base_offset());
  }
  for (const CleanerCheckpoint::Pass& pass : checkpoint_->passes)
    state.last_clean_ms = std::max(state.last_clean_ms, pass.time_ms);
  for (const auto& segment : list) {
    if (segment == list.back() || segment->base_offset() >= state.cleanable_end) break;
    if (segment->next_offset() <= state.first_dirty) {
      state.clean_bytes += segment->size();
      continue;
    }
    if (config_.min_compaction_lag_ms > 0 && segment->max_timestamp() > now_ms - config_.min_compaction_lag_ms) {
      state.cleanable_end = std::max(state.first_dirty, segment->base_offset());
      break;
    }
    if (state.oldest_dirty_ms < 0) state.oldest_dirty_ms = segment->max_timestamp();
    state.dirty_bytes += segment->size();
  }
  return state;
}

Offset PartitionLog::last_stable_offset() const {
  std::lock_guard lock(writer_mu_);
  return producers_.first_unstable_offset().value_or(log_end_offset());
}

std::vector<ProducerStateTable::OpenTransaction> PartitionLog::open_transactions() const {
  std::lock_guard lock(writer_mu_);
  return producers_.open_transactions();
}

CleanableState PartitionLog::cleanable_state() const {
  std::lock_guard lock(writer_mu_);
  return cleanable_state_locked(*segments_.snapshot(), clock_.now().value());
}

Result<CleanResult> PartitionLog::clean(KeyOffsetMap& map, IoThrottle* throttle) {
  std::lock_guard pass(cleaner_mu_);
  CleanResult result;
  std::shared_ptr<const SegmentList> list;
  CleanRules rules;
  std::unordered_map<int64_t, int64_t> newest_batches;
  uint64_t truncations = 0;
  {
    std::lock_guard lock(writer_mu_);
    if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
    if (!storage::compacts(config_.cleanup_policy)) {
      return make_error(Errc::invalid_argument, dir_ + ": cleanup.policy is delete: nothing to compact");
    }
    list = segments_.snapshot();
    const int64_t now_ms = clock_.now().value();
    CleanableState state = cleanable_state_locked(*list, now_ms);
    result.first_dirty = state.first_dirty;
    result.end = state.cleanable_end;
    rules.tombstone_horizon = checkpoint_->tombstone_horizon(now_ms, config_.delete_retention_ms);
    newest_batches = producers_.newest_batches();
    truncations = truncations_;
  }
  if (result.first_dirty >= result.end) return result;
  map.clear();
  auto mapped_end = build_key_map(*list, result.first_dirty, result.end, config_.max_batch_bytes, map, throttle);
  if (!mapped_end) return tl::unexpected(mapped_end.error());
  result.end = *mapped_end;
  rules.map = &map;
  rules.newest_batches = &newest_batches;
  rules.throttle = throttle;

  // Groups of consecutive segments from the log start to the map's end, each
  // small enough to be one segment.
  const LogConfig config = this->config();
  const SegmentOptions options = segment_options_for(config);
  const uint64_t segment_bytes = config.segment_bytes;
  size_t i = 0;
  while (i < list->size() - 1 && (*list)[i]->base_offset() < result.end) {
    SegmentList group{(*list)[i]};
    uint64_t bytes = (*list)[i]->size();
    for (++i; i < list->size() - 1 && (*list)[i]->base_offset() < result.end; ++i) {
      const Segment& next = *(*list)[i];
      if (bytes + next.size() > segment_bytes ||
          next.next_offset() - group.front()->base_offset() > int64_t{UINT32_MAX}) {
        break;
      }
      bytes += next.size();
      group.push_back((*list)[i]);
    }
    auto cleaned = write_cleaned_group(fs_, dir_, group, options, config_.max_batch_bytes, rules);
    if (!cleaned) return tl::unexpected(cleaned.error());
    const uint64_t after = cleaned->segment->size();
    auto swapped = swap_in(*cleaned, group, truncations);
    if (!swapped) return tl::unexpected(swapped.error());
    if (!*swapped) return result;  // the log changed under the pass; the next one starts over
    ++result.groups;
    result.bytes_before += cleaned->bytes_before;
    result.bytes_after += after;
    result.records_dropped += cleaned->records_dropped;
    result.tombstones_dropped += cleaned->tombstones_dropped;
  }
  std::lock_guard lock(writer_mu_);
  if (closed_ || truncations != truncations_) return result;
  checkpoint_->record_pass(result.end, clock_.now().value());
  if (auto s = checkpoint_->write(fs_, dir_); !s) return tl::unexpected(s.error());
  result.cleaned = true;
  log::info("storage", "log_cleaned",
            {{"dir", dir_},
             {"first_dirty", result.first_dirty.value()},
             {"end", result.end.value()},
             {"bytes_before", result.bytes_before},
             {"bytes_after", result.bytes_after},
             {"records_dropped", result.records_dropped},
             {"tombstones_dropped", result.tombstones_dropped}});
  return result;
}

Result<bool> PartitionLog::swap_in(CleanedGroup& cleaned, const SegmentList& group, uint64_t truncations) {
  std::lock_guard lock(writer_mu_);
  auto list = segments_.snapshot();
  auto first = std::find(list->begin(), list->end(), group.front());
  const bool intact = !closed_ && truncations == truncations_ &&
                      static_cast<size_t>(list->end() - first) > group.size() &&
                      std::equal(group.begin(), group.end(), first);
  if (!intact) {
    if (auto s = cleaned.segment->remove_files(); !s) return tl::unexpected(s.error());
    return false;
  }
  Segment& segment = *cleaned.segment;
  const Offset base = segment.base_offset();
  if (auto s = segment.rename_files(swap_segment_stem(base, cleaned.end)); !s) return tl::unexpected(s.error());
  if (auto s = fs_.sync_dir(dir_); !s) return tl::unexpected(s.error());
  // Committed: recovery finishes from here (finish_interrupted_swaps).
  for (const auto& old : group) {
    if (auto s = old->remove_files(); !s) return tl::unexpected(s.error());
  }
  if (auto s = segment.rename_files(segment_file_name(base, "")); !s) return tl::unexpected(s.error());
  if (auto s = fs_.sync_dir(dir_); !s) return tl::unexpected(s.error());
  SegmentList next(list->begin(), first);
  next.push_back(std::move(cleaned.segment));
  next.insert(next.end(), first + static_cast<std::ptrdiff_t>(group.size()), list->end());
  segments_.publish(std::move(next));
  return true;
}

Offset PartitionLog::log_start_offset() const { return segments_.log_start_offset(); }

std::vector<DamagedRange> PartitionLog::damaged_ranges() const {
  return holes(*segments_.snapshot(), config().offset_gaps);
}

size_t PartitionLog::index_memory_bytes() const { return segments_.index_memory_bytes(); }

Offset PartitionLog::durable_end_offset() const { return durability_.durable_end(); }

uint64_t PartitionLog::size_bytes() const { return segments_.size_bytes(); }

size_t PartitionLog::segment_count() const { return segments_.count(); }

LogStats PartitionLog::stats() const { return LogStats{appends_.load(std::memory_order_relaxed), durability_.syncs()}; }

}  // namespace sluice::storage
