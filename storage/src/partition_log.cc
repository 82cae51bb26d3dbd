#include "sluice/storage/partition_log.h"

#include <algorithm>
#include <charconv>

#include "sluice/common/log.h"
#include "sluice/storage/record_batch.h"

#include "segment_salvage.h"

namespace sluice::storage {
namespace {

constexpr std::string_view kCleanShutdownFile = "clean-shutdown";
constexpr std::string_view kRecoveryPointFile = "recovery-point";
constexpr std::string_view kProducerStateFile = "producer-state";

// "00000000000000000042.log" -> 42
std::optional<Offset> parse_segment_name(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, value);
  if (ec != std::errc() || ptr != name.data() + 20 || value < 0) return std::nullopt;
  return Offset(value);
}

// The offsets missing between two consecutive segments: what the first held
// past its good bytes.
DamagedRange hole_between(const Segment& before, const Segment& after) {
  return DamagedRange{before.next_offset(), after.base_offset(), segment_file_name(before.base_offset(), ".log"),
                      before.size()};
}

// The holes between consecutive segments, in a log whose gaps are damage.
std::vector<DamagedRange> holes(const std::vector<std::shared_ptr<Segment>>& list, OffsetGaps gaps) {
  std::vector<DamagedRange> out;
  if (gaps == OffsetGaps::are_legal) return out;
  for (size_t i = 1; i < list.size(); ++i) {
    if (list[i - 1]->next_offset() < list[i]->base_offset()) out.push_back(hole_between(*list[i - 1], *list[i]));
  }
  return out;
}

Error hole_error(const std::string& dir, const DamagedRange& hole) {
  return Error{Errc::corrupt_data, dir + ": offsets [" + std::to_string(hole.first.value()) + ", " +
                                       std::to_string(hole.end.value()) + ") are damaged: recovery found them in " +
                                       hole.segment + " at position " + std::to_string(hole.position) +
                                       " and set the file aside in " + std::string(kQuarantineDir) +
                                       "/; the log continues at offset " + std::to_string(hole.end.value())};
}

}  // namespace

PartitionLog::PartitionLog(FileSystem& fs, std::string dir, LogConfig config, Clock& clock)
    : fs_(fs), dir_(std::move(dir)), config_(config), clock_(clock) {}

PartitionLog::~PartitionLog() {
  // Without close() this is what a crash leaves: no clean-shutdown marker, so the
  // next open runs recovery.
  flusher_.reset();
}

SegmentOptions PartitionLog::segment_options() const {
  return SegmentOptions{config_.index_interval_bytes, config_.max_batch_bytes, config_.segment_bytes,
                        config_.offset_gaps};
}

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(FileSystem& fs, std::string dir, LogConfig config,
                                                         Clock& clock) {
  if (config.segment_bytes < batch_format::kHeaderSize || config.index_interval_bytes == 0 ||
      config.max_batch_bytes < batch_format::kHeaderSize) {
    return make_error(Errc::invalid_argument,
                      "log config: segment_bytes and max_batch_bytes must be at least one batch "
                      "header (61 bytes), index_interval_bytes above 0");
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
  if (auto s = fs_.create_dirs(dir_); !s) return s;
  auto names = fs_.list_dir(dir_);
  if (!names) return tl::unexpected(names.error());
  std::vector<Offset> bases;
  for (const std::string& name : *names) {
    if (name.ends_with(".tmp")) {
      (void)fs_.remove(dir_ + "/" + name);  // an interrupted atomic write
    } else if (auto base = parse_segment_name(name)) {
      bases.push_back(*base);
    }
  }
  std::sort(bases.begin(), bases.end());

  const bool clean = fs_.exists(dir_ + "/" + std::string(kCleanShutdownFile));
  recovery_.clean_shutdown = clean;
  Offset recovery_point(0);
  if (auto bytes = fs_.read_file(dir_ + "/" + std::string(kRecoveryPointFile))) {
    int64_t value = 0;
    auto text = as_string_view(*bytes);
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc())
      recovery_point = Offset(value);
  }

  // Empty segment files past the recovery point at the end of the log: what a
  // power cut leaves of segments created after the last sync. They hold nothing,
  // and without them the log ends at its last record instead of after a hole.
  while (!clean && bases.size() > 1 && bases.back() > recovery_point) {
    auto file = fs_.open(dir_ + "/" + segment_file_name(bases.back(), ".log"), OpenMode::must_exist);
    if (!file) return tl::unexpected(file.error());
    if ((*file)->size() != 0) break;
    file->reset();
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
      if (auto s = fs_.remove(dir_ + "/" + segment_file_name(bases.back(), suffix)); !s) return s;
    }
    log::warn("storage", "empty_segment_removed", {{"dir", dir_}, {"segment", bases.back().value()}});
    ++recovery_.empty_segments_removed;
    bases.pop_back();
  }

  SegmentList list;
  std::vector<Offset> salvaged;  // segments written from the good batches after damage
  for (size_t i = 0; i < bases.size(); ++i) {
    const Offset base = bases[i];
    if (std::find(salvaged.begin(), salvaged.end(), base) != salvaged.end()) continue;  // opened already
    const bool last = i + 1 == bases.size();
    const std::string name = segment_file_name(base, ".log");
    if (!list.empty() && base < list.back()->next_offset()) {
      // Offsets would go back. Nothing is deleted: the file is set aside whole.
      std::string reason = "segment " + name + " overlaps the one before it, which ends at offset " +
                           std::to_string(list.back()->next_offset().value());
      auto moved = quarantine_move(fs_, dir_, name, reason, clock_.now().value());
      if (!moved) return tl::unexpected(moved.error());
      for (const char* suffix : {".index", ".timeindex"})
        (void)fs_.remove(dir_ + "/" + segment_file_name(base, suffix));
      log::error("storage", "segment_quarantined",
                 {{"dir", dir_}, {"segment", name}, {"moved_to", *moved}, {"reason", reason}});
      ++recovery_.segments_quarantined;
      continue;
    }
    // A segment that may hold bytes never synced is checked after a crash.
    const bool past_recovery_point = last || bases[i + 1] > recovery_point;
    auto scan = !clean && past_recovery_point ? Segment::Scan::yes : Segment::Scan::no;
    SegmentRecovery report;
    auto opened = Segment::open(fs_, dir_, base, segment_options(), scan, report);
    if (!opened) return tl::unexpected(opened.error());
    if (scan == Segment::Scan::yes) ++recovery_.segments_scanned;
    std::shared_ptr<Segment> segment = std::move(*opened);
    size_t first_salvaged = salvaged.size();
    if (report.damaged) {
      if (auto s = handle_damage(*segment, report, last, recovery_point, salvaged); !s) return s;
    }
    list.push_back(std::move(segment));
    for (size_t j = first_salvaged; j < salvaged.size(); ++j) {
      SegmentRecovery run_report;
      auto run = Segment::open(fs_, dir_, salvaged[j], segment_options(), Segment::Scan::yes, run_report);
      if (!run) return tl::unexpected(run.error());
      if (run_report.damaged) {
        return make_error(Errc::corrupt_data,
                          dir_ + ": a segment written from good batches does not check: " + run_report.reason);
      }
      list.push_back(std::move(*run));
    }
  }
  // Offsets never go back: when damage took the log's end below what was synced,
  // the log continues after it, and the lost offsets are a hole.
  if (list.empty() || list.back()->next_offset() < recovery_point) {
    Offset next_base = list.empty() ? recovery_point : std::max(recovery_point, list.back()->next_offset());
    auto segment = Segment::create(fs_, dir_, next_base, segment_options());
    if (!segment) return tl::unexpected(segment.error());
    list.push_back(std::move(*segment));
  }
  for (const DamagedRange& hole : holes(list, config_.offset_gaps)) {
    log::error("storage", "offsets_missing",
               {{"dir", dir_},
                {"first", hole.first.value()},
                {"end", hole.end.value()},
                {"segment", hole.segment},
                {"position", static_cast<int64_t>(hole.position)}});
  }
  // Make what survived durable before anything builds on it, then drop the
  // clean-shutdown marker so a crash from here on is recovered.
  for (auto& segment : list) {
    if (segment->base_offset() >= recovery_point || segment == list.back()) {
      if (auto s = segment->sync(); !s) return s;
    }
  }
  if (auto s = fs_.sync_dir(dir_); !s) return s;
  log_end_.store(list.back()->next_offset().value());
  durable_end_ = list.back()->next_offset().value();
  // On a full disk the log still opens (reads are served): the recovery point on
  // disk stays, which is at or past this one, and segments below the one holding
  // it are synced all the same.
  if (auto s = write_recovery_point(list.back()->base_offset()); !s) {
    if (s.error().code != Errc::no_space) return s;
    recovery_point_ = recovery_point;
    log::warn("storage", "recovery_point_not_written", {{"dir", dir_}, {"error", s.error().to_string()}});
  }
  if (clean) {
    if (auto s = fs_.remove(dir_ + "/" + std::string(kCleanShutdownFile)); !s) return s;
    if (auto s = fs_.sync_dir(dir_); !s) return s;
  }
  active_created_ms_ = clock_.now().value();
  // After a clean close the snapshot holds the producers; otherwise (or if it
  // does not match the log) the batch headers are read again.
  bool loaded = false;
  if (clean && fs_.exists(dir_ + "/" + std::string(kProducerStateFile))) {
    auto bytes = fs_.read_file(dir_ + "/" + std::string(kProducerStateFile));
    auto valid_for = bytes ? producers_.decode(*bytes) : Result<Offset>(tl::unexpected(bytes.error()));
    loaded = valid_for && *valid_for == list.back()->next_offset();
    if (!loaded) {
      log::warn(
          "storage", "producer_state_snapshot_ignored",
          {{"dir", dir_}, {"reason", valid_for ? "it does not match the log end" : valid_for.error().to_string()}});
    }
  }
  if (!loaded) {
    if (auto s = rebuild_producer_state(list); !s) return s;
  }
  publish(std::move(list));
  return {};
}

Status PartitionLog::handle_damage(Segment& segment, const SegmentRecovery& report, bool last, Offset recovery_point,
                                   std::vector<Offset>& salvaged) {
  const std::string name = segment_file_name(segment.base_offset(), ".log");
  if (last && segment.next_offset() >= recovery_point) {
    // A torn tail: bytes past the last sync that never became whole batches. The
    // only cut recovery makes.
    if (auto s = segment.cut_to_size(); !s) return s;
    recovery_.bytes_truncated += report.original_bytes - report.valid_bytes;
    log::warn("storage", "log_truncated",
              {{"dir", dir_},
               {"segment", segment.base_offset().value()},
               {"valid_bytes", report.valid_bytes},
               {"reason", report.reason}});
    return {};
  }
  // Synced bytes that do not check: corruption. The file is copied aside before
  // anything changes; every good batch after the damage is kept in a segment of
  // its own, so the damaged offsets become a hole between segments.
  std::string reason = "damaged at position " + std::to_string(report.valid_bytes) + ": " + report.reason;
  auto copy = quarantine_copy(fs_, dir_, name, reason, clock_.now().value());
  if (!copy) return tl::unexpected(copy.error());
  auto runs = find_good_runs(segment.log_file(), report.valid_bytes, segment.next_offset(), config_.offset_gaps,
                             config_.max_batch_bytes);
  if (!runs) return tl::unexpected(runs.error());
  int64_t kept_batches_bytes = 0;
  for (const GoodRun& run : *runs) {
    if (run.base <= segment.base_offset()) continue;  // would replace this very file; the copy has it
    if (auto s = write_run_as_segment(fs_, segment.log_file(), dir_, run); !s) return s;
    salvaged.push_back(run.base);
    kept_batches_bytes += static_cast<int64_t>(run.size);
  }
  if (auto s = segment.cut_to_size(); !s) return s;
  if (auto s = segment.sync(); !s) return s;
  if (auto s = segment.write_indexes(true); !s) return s;
  ++recovery_.segments_quarantined;
  log::error("storage", "segment_damaged",
             {{"dir", dir_},
              {"segment", name},
              {"position", report.valid_bytes},
              {"reason", report.reason},
              {"copied_to", *copy},
              {"good_bytes_after", kept_batches_bytes}});
  return {};
}

// REQUIRES: writer_mu_ held, or the log not yet published (open).
Status PartitionLog::rebuild_producer_state(const SegmentList& list) {
  producers_.clear();
  const int64_t now = clock_.now().value();
  std::byte buffer[batch_format::kHeaderSize];
  for (const auto& segment : list) {
    const File& file = segment->log_file();
    const uint64_t end = segment->size();
    uint64_t position = 0;
    while (position < end) {
      auto n = file.read_at(position, MutableByteSpan(buffer));
      if (!n) return tl::unexpected(n.error());
      auto header = read_batch_header(ByteSpan(buffer, *n));
      if (!header || header->total_size() <= batch_format::kLogOverhead) {
        // Recovery has checked every batch up to `end`: this cannot happen unless
        // the file changed under us.
        return make_error(Errc::corrupt_data, segment->log_file().path() + ": unreadable batch header at " +
                                                  std::to_string(position) + " while loading producer state");
      }
      producers_.record(*header, now);
      position += header->total_size();
    }
  }
  return {};
}

Status PartitionLog::write_recovery_point(Offset offset) {
  recovery_point_ = offset;
  std::string text = std::to_string(offset.value()) + "\n";
  return fs_.write_file_atomic(dir_ + "/" + std::string(kRecoveryPointFile), as_bytes(text));
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
      auto list = segments();
      const auto& active = list->back();
      bool too_big = active->size() + batch.size() > config_.segment_bytes;
      bool too_old = now_ms - active_created_ms_ >= config_.segment_ms;
      bool offsets_overflow = header.last_offset() - active->base_offset() > int64_t{UINT32_MAX};
      if (!active->empty() && (too_big || too_old || offsets_overflow)) {
        if (auto s = roll_locked(base); !s) return tl::unexpected(s.error());
        list = segments();
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
  if (segments()->back()->empty()) return {};
  return roll_locked(log_end_offset());
}

// REQUIRES: writer_mu_ held.
Status PartitionLog::roll_locked(Offset next_base) {
  auto list = *segments();
  const auto& old = list.back();
  bool durable = config_.durability != Durability::none;
  if (durable) {
    // Sync the finished segment before the new one exists, so the group commit
    // only ever has to sync the active segment.
    if (auto s = old->sync(); !s) return s;
    {
      std::lock_guard lock(sync_mu_);
      durable_end_ = std::max(durable_end_, old->next_offset().value());
    }
  }
  if (auto s = old->write_indexes(durable); !s) return s;
  old->release_reserve();
  auto segment = Segment::create(fs_, dir_, next_base, segment_options());
  if (!segment) return tl::unexpected(segment.error());
  if (durable) {
    if (auto s = fs_.sync_dir(dir_); !s) return s;
    if (auto s = write_recovery_point(next_base); !s) return s;
  }
  list.push_back(std::move(*segment));
  publish(std::move(list));
  active_created_ms_ = clock_.now().value();
  return {};
}

Status PartitionLog::wait_durable(Offset next_offset) {
  std::unique_lock lock(sync_mu_);
  // A truncation may pull the log end below `next_offset`; then the wait ends once
  // everything up to the new end is synced, instead of syncing forever.
  auto goal = [&] { return std::min(next_offset.value(), log_end_.load(std::memory_order_acquire)); };
  while (durable_end_ < goal()) {
    if (sync_running_) {
      sync_cv_.wait(lock);
      continue;
    }
    sync_running_ = true;
    int64_t synced_from = durable_end_;
    uint64_t truncations = truncations_;
    lock.unlock();
    // Everything below `target` was written before we read it; syncing every
    // segment that may hold offsets >= synced_from covers it.
    int64_t target = log_end_.load(std::memory_order_acquire);
    auto list = segments();
    Status status;
    for (const auto& segment : *list) {
      if (segment->next_offset().value() > synced_from) {
        status = segment->sync();
        if (!status) break;
      }
    }
    lock.lock();
    sync_running_ = false;
    ++syncs_;
    if (!status) {
      sync_cv_.notify_all();
      // The page cache may have dropped the failed pages; nothing can be promised.
      log::error("storage", "fsync_failed", {{"dir", dir_}, {"error", status.error().to_string()}});
      return status;
    }
    if (truncations == truncations_) durable_end_ = std::max(durable_end_, target);
    sync_cv_.notify_all();
  }
  return {};
}

Status PartitionLog::flush() { return wait_durable(log_end_offset()); }

namespace {

// Where one read stands while it walks the segments.
struct ReadCursor {
  ReadResult& result;
  size_t max_bytes;
  size_t max_batch_bytes;
  OffsetGaps gaps;
  Offset expected;    // the next batch must start here (or later, where gaps are legal)
  bool full = false;  // stop: the byte limit, the log end, or damage was reached

  // A batch that starts at `base` and brings the read to `bytes_after` bytes may
  // be added: it is below the log end the read loaded (the writer publishes a
  // segment's size before the log end, and a later read would reject the offset
  // it leads to), and it is the first batch (returned whole even over max_bytes)
  // or fits.
  bool admits(Offset base, uint64_t bytes_after) {
    if (base >= result.log_end_offset || (result.batches > 0 && bytes_after > max_bytes)) full = true;
    return !full;
  }
  void add(const BatchHeader& h) {
    result.next_offset = h.next_offset();
    expected = h.next_offset();
    ++result.batches;
    result.records += h.record_count;
  }
};

// Reads [pos, end) of `segment` (up to the byte limit) into out[at...] and checks
// every batch's CRC; returns the bytes of whole, good batches, and marks them
// verified in the segment.
Result<uint64_t> read_and_check(const Segment& segment, uint64_t pos, uint64_t end, Bytes& out, size_t at,
                                ReadCursor& cursor) {
  ReadResult& result = cursor.result;
  uint64_t room = cursor.max_bytes > result.bytes ? cursor.max_bytes - result.bytes : 0;
  auto want = static_cast<size_t>(std::min<uint64_t>(end - pos, room));
  if (result.bytes == 0) {
    // The first batch is returned whole even when it alone is over max_bytes.
    std::byte length[batch_format::kLogOverhead];
    auto n = segment.log_file().read_at(pos, length);
    if (!n) return tl::unexpected(n.error());
    if (*n == sizeof(length)) {
      auto total = batch_format::kLogOverhead + static_cast<uint64_t>(std::max(load_be<int32_t>(length + 8), 0));
      want = static_cast<size_t>(std::max<uint64_t>(want, std::min<uint64_t>(total, end - pos)));
    }
  }
  if (want == 0) {
    cursor.full = true;
    return 0;
  }
  if (out.size() < at + want) out.resize(at + want);
  auto n = segment.log_file().read_at(pos, MutableByteSpan(out.data() + at, want));
  if (!n) return tl::unexpected(n.error());
  size_t used = 0;
  while (used < *n) {
    ByteSpan rest(out.data() + at + used, *n - used);
    auto h = validate_batch_crc(rest, cursor.max_batch_bytes);
    // The CRC does not cover the base offset: a damaged one shows as offsets out of order.
    if (h) {
      if (auto order = offset_order_violation(h->base_offset, cursor.expected, cursor.gaps); !order.empty()) {
        h = make_error(Errc::corrupt_data, "at position " + std::to_string(pos + used) + ": " + order);
      }
    }
    if (!h) {
      if (h.error().code != Errc::truncated && result.batches == 0) {
        return make_error(Errc::corrupt_data, segment.log_file().path() + ": " + h.error().to_string());
      }
      // The buffer ends inside this batch, or it is damaged: serve what was good;
      // the next read reports the damage.
      cursor.full = true;
      break;
    }
    if (!cursor.admits(h->base_offset, result.bytes + used + h->total_size())) break;
    used += h->total_size();
    cursor.add(*h);
  }
  segment.mark_verified(pos, pos + used);
  if (used < *n || result.bytes + used >= cursor.max_bytes) cursor.full = true;
  return used;
}

// Walks the batch headers of the verified part of [pos, end) without reading the
// batches themselves; returns the bytes of whole batches found (up to the limit).
Result<uint64_t> locate_verified(const Segment& segment, uint64_t pos, uint64_t end, ReadCursor& cursor) {
  // Headers are read a few KiB at a time: small batches share one read, and a
  // large batch costs one read of its header.
  constexpr size_t kChunk = 4096;
  std::byte chunk[kChunk];
  uint64_t chunk_pos = 0;
  size_t chunk_len = 0;
  uint64_t verified = std::min(end, segment.verified_size());
  uint64_t start = pos;
  while (pos < verified && !cursor.full) {
    if (pos < chunk_pos || pos + batch_format::kHeaderSize > chunk_pos + chunk_len) {
      auto n = segment.log_file().read_at(pos, MutableByteSpan(chunk, std::min<uint64_t>(kChunk, end - pos)));
      if (!n) return tl::unexpected(n.error());
      chunk_pos = pos;
      chunk_len = *n;
      if (chunk_len < batch_format::kHeaderSize) break;  // cannot happen below a published size
    }
    auto h = read_batch_header(ByteSpan(chunk + (pos - chunk_pos), batch_format::kHeaderSize));
    if (!h || pos + h->total_size() > verified) break;  // the rest is read and checked
    if (!cursor.admits(h->base_offset, cursor.result.bytes + (pos - start) + h->total_size())) break;
    pos += h->total_size();
    cursor.add(*h);
  }
  return pos - start;
}

}  // namespace

Result<ReadResult> PartitionLog::read(Offset offset, size_t max_bytes, Bytes& out, ReadMode mode) const {
  auto list = segments();
  ReadResult result;
  result.log_start_offset = list->front()->base_offset();
  result.log_end_offset = log_end_offset();
  result.next_offset = offset;
  if (offset < result.log_start_offset || offset > result.log_end_offset) {
    return make_error(Errc::offset_out_of_range, "offset " + std::to_string(offset.value()) + " is outside [" +
                                                     std::to_string(result.log_start_offset.value()) + ", " +
                                                     std::to_string(result.log_end_offset.value()) + "]");
  }
  auto it = std::upper_bound(list->begin(), list->end(), offset,
                             [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base_offset(); });
  size_t first = static_cast<size_t>(std::max<ptrdiff_t>(it - list->begin() - 1, 0));
  if (config_.offset_gaps == OffsetGaps::are_damage && first + 1 < list->size() &&
      offset >= (*list)[first]->next_offset()) {
    return tl::unexpected(hole_error(dir_, hole_between(*(*list)[first], *(*list)[first + 1])));
  }
  ReadCursor cursor{result, max_bytes, config_.max_batch_bytes, config_.offset_gaps, offset};
  for (size_t i = first; i < list->size() && !cursor.full; ++i) {
    const std::shared_ptr<Segment>& segment = (*list)[i];
    uint64_t end = segment->size();
    uint64_t pos = 0;
    if (i == first) {
      auto p = segment->locate(offset);
      if (!p) return tl::unexpected(p.error());
      pos = p->position;
      cursor.expected = p->expected_base;
    } else {
      // A read stops in front of a hole; the next one, at its first offset, reports it.
      if (!offset_order_violation(segment->base_offset(), cursor.expected, config_.offset_gaps).empty()) break;
      cursor.expected = segment->base_offset();
    }
    uint64_t region_start = pos;
    if (mode == ReadMode::locate && pos < end) {
      auto located = locate_verified(*segment, pos, end, cursor);
      if (!located) return tl::unexpected(located.error());
      pos += *located;
      result.bytes += *located;
    }
    if (!cursor.full && pos < end) {
      // `out` is only grown, never cleared first: growing a vector zero-fills the new
      // part, and a caller that reuses its buffer should not pay for that on every read.
      size_t at = mode == ReadMode::copy ? result.bytes : 0;
      auto checked = read_and_check(*segment, pos, end, out, at, cursor);
      if (!checked) return tl::unexpected(checked.error());
      pos += *checked;
      result.bytes += *checked;
    }
    if (pos > region_start) result.regions.push_back(FileRegion{segment, region_start, pos - region_start});
  }
  if (mode == ReadMode::copy) out.resize(result.bytes);
  return result;
}

Result<std::optional<TimestampLookup>> PartitionLog::offset_for_timestamp(int64_t timestamp) const {
  auto list = segments();
  Bytes buffer;
  for (const auto& segment : *list) {
    if (segment->max_timestamp() < timestamp) continue;
    auto pos = segment->position_of_timestamp(timestamp);
    if (!pos) return tl::unexpected(pos.error());
    uint64_t end = segment->size();
    while (*pos < end) {
      std::byte length[batch_format::kLogOverhead];
      auto n = segment->log_file().read_at(*pos, length);
      if (!n) return tl::unexpected(n.error());
      if (*n != sizeof(length)) break;
      size_t total = batch_format::kLogOverhead + static_cast<size_t>(std::max(load_be<int32_t>(length + 8), 0));
      buffer.resize(total);
      n = segment->log_file().read_at(*pos, buffer);
      if (!n) return tl::unexpected(n.error());
      auto h = validate_batch_crc(ByteSpan(buffer.data(), *n), config_.max_batch_bytes);
      if (!h) return make_error(Errc::corrupt_data, segment->log_file().path() + ": " + h.error().to_string());
      if (h->max_timestamp >= timestamp) {
        auto reader = RecordReader::open(buffer);
        if (!reader) return tl::unexpected(reader.error());
        Record record;
        while (true) {
          auto more = reader->next(record);
          if (!more) return tl::unexpected(more.error());
          if (!*more) break;
          if (record.timestamp >= timestamp) return TimestampLookup{record.offset, record.timestamp};
        }
      }
      *pos += total;
    }
  }
  return std::nullopt;
}

Status PartitionLog::truncate_to(Offset offset) {
  std::lock_guard lock(writer_mu_);
  if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
  auto list = *segments();
  Offset start = list.front()->base_offset();
  Offset end = log_end_offset();
  if (offset < start || offset > end) {
    return make_error(Errc::offset_out_of_range, "cannot truncate to " + std::to_string(offset.value()) +
                                                     ": log holds [" + std::to_string(start.value()) + ", " +
                                                     std::to_string(end.value()) + ")");
  }
  if (offset == end) return {};
  auto it = std::upper_bound(list.begin(), list.end(), offset,
                             [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base_offset(); });
  size_t keep = static_cast<size_t>(it - list.begin() - 1);
  // Checks the boundary before anything changes.
  if (auto s = list[keep]->truncate_to(offset); !s) return s;
  // Inside a hole (or a compacted log's gap) the log ends after the last batch kept.
  offset = list[keep]->next_offset();
  log_end_.store(offset.value(), std::memory_order_release);
  for (size_t i = keep + 1; i < list.size(); ++i) {
    if (auto s = list[i]->remove_files(); !s) return s;
  }
  list.resize(keep + 1);
  if (auto s = rebuild_producer_state(list); !s) return s;
  {
    std::lock_guard sync_lock(sync_mu_);
    durable_end_ = std::min(durable_end_, offset.value());
    ++truncations_;
  }
  // Never raise the recovery point here: segments below the truncated one may be unsynced.
  if (auto s = write_recovery_point(std::min({recovery_point_, list.back()->base_offset(), offset})); !s) return s;
  publish(std::move(list));
  log::info("storage", "log_truncated_by_request", {{"dir", dir_}, {"offset", offset.value()}});
  return {};
}

Result<size_t> PartitionLog::apply_retention() {
  std::lock_guard lock(writer_mu_);
  if (closed_) return make_error(Errc::closed, "log " + dir_ + " is closed");
  auto list = *segments();
  uint64_t total = 0;
  for (const auto& s : list) total += s->size();
  int64_t now = clock_.now().value();
  producers_.expire(now - config_.producer_id_expiration_ms);
  size_t removed = 0;
  while (list.size() > 1) {
    const Segment& oldest = *list.front();
    bool expired = config_.retention_ms >= 0 && now - oldest.max_timestamp() > config_.retention_ms;
    bool over_size =
        config_.retention_bytes >= 0 && static_cast<int64_t>(total - oldest.size()) >= config_.retention_bytes;
    if (!expired && !over_size) break;
    if (auto s = list.front()->remove_files(); !s) return tl::unexpected(s.error());
    total -= oldest.size();
    list.erase(list.begin());
    ++removed;
  }
  if (removed > 0) {
    Offset start = list.front()->base_offset();
    publish(std::move(list));
    log::info("storage", "retention_removed_segments",
              {{"dir", dir_}, {"segments", static_cast<int64_t>(removed)}, {"log_start_offset", start.value()}});
  }
  return removed;
}

Status PartitionLog::close() {
  flusher_.reset();
  if (auto s = flush(); !s) return s;
  std::lock_guard lock(writer_mu_);
  if (closed_) return {};
  closed_ = true;
  auto list = segments();
  // A clean stop on a full disk needs no new blocks: index files that cannot be
  // written stay as they were (the next open checks them against the log and
  // rebuilds what does not match), the old recovery point stays (it is below the
  // log end, so still true), and a snapshot that cannot be written is removed.
  // Only the empty clean-shutdown marker must be created.
  for (const auto& segment : *list) {
    if (auto s = segment->sync(); !s) return s;
    if (auto s = segment->write_indexes(true); !s && s.error().code != Errc::no_space) return s;
  }
  if (auto s = write_recovery_point(log_end_offset()); !s && s.error().code != Errc::no_space) return s;
  // Always written, also empty: a snapshot left from an earlier close must not
  // be taken for this log's if it happens to end at the same offset.
  const std::string snapshot = dir_ + "/" + std::string(kProducerStateFile);
  if (auto s = fs_.write_file_atomic(snapshot, producers_.encode(log_end_offset())); !s) {
    if (s.error().code != Errc::no_space) return s;
    if (auto removed = fs_.remove(snapshot); !removed) return removed;
  }
  return fs_.write_file_atomic(dir_ + "/" + std::string(kCleanShutdownFile), {});
}

Offset PartitionLog::log_start_offset() const { return segments()->front()->base_offset(); }

std::vector<DamagedRange> PartitionLog::damaged_ranges() const { return holes(*segments(), config_.offset_gaps); }

size_t PartitionLog::index_memory_bytes() const {
  size_t total = 0;
  for (const auto& s : *segments()) total += s->index_memory_bytes();
  return total;
}

Offset PartitionLog::durable_end_offset() const {
  std::lock_guard lock(sync_mu_);
  return Offset(durable_end_);
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : *segments()) total += s->size();
  return total;
}

size_t PartitionLog::segment_count() const { return segments()->size(); }

LogStats PartitionLog::stats() const {
  std::lock_guard lock(sync_mu_);
  return LogStats{appends_.load(std::memory_order_relaxed), syncs_};
}

}  // namespace sluice::storage
