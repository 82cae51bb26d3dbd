#include "sluice/storage/segment.h"

#include <cstdio>

#include "sluice/common/log.h"
#include "sluice/storage/segment_scanner.h"

#include "file_batch_cursor.h"

namespace sluice::storage {
namespace bf = batch_format;
namespace {

// Index entries a segment can hold: one per index_interval_bytes of the largest
// file it can grow to. A bound, not an allocation (SparseIndex grows in chunks).
size_t index_capacity_for(const SegmentOptions& options) {
  return static_cast<size_t>((options.segment_bytes + options.max_batch_bytes) / options.index_interval_bytes) + 2;
}

}  // namespace

std::string offset_order_violation(Offset base, Offset expected, OffsetGaps gaps) {
  if (base == expected || (gaps == OffsetGaps::are_legal && base > expected)) return {};
  return "batch base offset " + std::to_string(base.value()) +
         (base < expected ? " goes back: expected " : " skips offsets: expected ") + std::to_string(expected.value());
}

std::string segment_file_name(Offset base_offset, std::string_view suffix) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base_offset.value()));
  return std::string(buf) + std::string(suffix);
}

Segment::Segment(FileSystem& fs, std::string dir, Offset base, SegmentOptions options, std::unique_ptr<File> log)
    : fs_(fs),
      dir_(std::move(dir)),
      base_offset_(base),
      stem_(segment_file_name(base, "")),
      options_(options),
      log_(std::move(log)),
      index_(index_capacity_for(options)),
      time_index_(index_capacity_for(options)),
      next_offset_(base.value()) {}

std::string Segment::path(std::string_view suffix) const { return dir_ + "/" + stem_ + std::string(suffix); }

Result<std::unique_ptr<Segment>> Segment::create(FileSystem& fs, const std::string& dir, Offset base_offset,
                                                 const SegmentOptions& options) {
  return create_named(fs, dir, base_offset, options, segment_file_name(base_offset, ""));
}

Result<std::unique_ptr<Segment>> Segment::create_named(FileSystem& fs, const std::string& dir, Offset base_offset,
                                                       const SegmentOptions& options, std::string stem) {
  std::string log_path = dir + "/" + stem + ".log";
  auto file = fs.open(log_path, OpenMode::create_or_open);
  if (!file) return tl::unexpected(file.error());
  if ((*file)->size() != 0) {
    if (auto s = (*file)->truncate(0); !s) return tl::unexpected(s.error());
  }
  std::unique_ptr<Segment> segment(new Segment(fs, dir, base_offset, options, std::move(*file)));
  segment->stem_ = std::move(stem);
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::open(FileSystem& fs, const std::string& dir, Offset base_offset,
                                               const SegmentOptions& options, Scan scan, SegmentRecovery& report) {
  auto file = fs.open(dir + "/" + segment_file_name(base_offset, ".log"), OpenMode::must_exist);
  if (!file) return tl::unexpected(file.error());
  std::unique_ptr<Segment> segment(new Segment(fs, dir, base_offset, options, std::move(*file)));
  report = SegmentRecovery{};
  if (scan == Scan::yes || !segment->load_indexes()) {
    if (auto s = segment->rebuild(&report); !s) return tl::unexpected(s.error());
  } else {
    report.original_bytes = report.valid_bytes = segment->size();
  }
  return segment;
}

// Loads `.index` and `.timeindex` and finds the segment's end by scanning the
// batch headers after the last index entry. False when either index is missing,
// damaged, or disagrees with the log; the caller then rebuilds.
bool Segment::load_indexes() {
  uint64_t file_size = log_->size();
  auto index_bytes = fs_.read_file(path(".index"));
  auto time_bytes = fs_.read_file(path(".timeindex"));
  if (!index_bytes || !time_bytes) return false;
  size_t capacity = index_.capacity();
  auto index =
      OffsetIndex::parse(*index_bytes, capacity, [&](const OffsetIndexEntry& e) { return e.position < file_size; });
  auto time_index = TimeIndex::parse(*time_bytes, capacity, [](const TimeIndexEntry&) { return true; });
  if (!index || !time_index) return false;
  // Both indexes gain an entry for the same batches, so they must pair up.
  if (index->size() != time_index->size()) return false;
  for (size_t i = 0; i < index->size(); ++i) {
    if (index->at(i).relative_offset != time_index->at(i).relative_offset) return false;
  }
  // Positions must increase with offsets.
  for (size_t i = 1; i < index->size(); ++i) {
    if (index->at(i).position <= index->at(i - 1).position) return false;
  }
  // Walk the headers from the last indexed batch to the end of the file to learn
  // the next offset and max timestamp; any framing problem means "rebuild".
  uint64_t start = index->size() > 0 ? index->at(index->size() - 1).position : 0;
  int64_t max_ts = time_index->size() > 0 ? time_index->at(time_index->size() - 1).timestamp : -1;
  Offset next = index->size() > 0 ? base_offset_ + index->at(index->size() - 1).relative_offset : base_offset_;
  FileBatchCursor walk(*log_, start, file_size);
  while (true) {
    auto frame = walk.frame();
    if (!frame) return false;
    if (*frame == BatchFrame::end) break;
    if (*frame != BatchFrame::whole) return false;
    const BatchHeader& h = walk.header();
    // The entry's batch must start at the entry's offset exactly; later ones keep order.
    OffsetGaps gaps = walk.position() == start ? OffsetGaps::are_damage : options_.offset_gaps;
    if (!offset_order_violation(h.base_offset, next, gaps).empty()) return false;
    max_ts = std::max(max_ts, h.max_timestamp);
    next = h.next_offset();
    walk.advance();
  }
  index_ = std::move(*index);
  time_index_ = std::move(*time_index);
  bytes_since_index_entry_ = file_size - start;
  size_.store(file_size, std::memory_order_release);
  next_offset_.store(next.value(), std::memory_order_release);
  max_timestamp_.store(file_size == 0 ? -1 : max_ts, std::memory_order_release);
  return true;
}

Status Segment::rebuild(SegmentRecovery* report) {
  index_.clear();
  time_index_.clear();
  bytes_since_index_entry_ = 0;
  max_timestamp_.store(-1);
  next_offset_.store(base_offset_.value());
  uint64_t file_size = log_->size();
  SegmentScanner scanner(*log_, 0, file_size, options_.max_batch_bytes);
  uint64_t valid = 0;
  std::string reason;
  while (true) {
    auto batch = scanner.next();
    if (!batch) return tl::unexpected(batch.error());
    if (!*batch) break;
    const ScannedBatch& b = **batch;
    if (!b.status) {
      reason = b.status.error().to_string();
      break;
    }
    const BatchHeader& h = b.header;
    if (auto order = offset_order_violation(h.base_offset, next_offset(), options_.offset_gaps); !order.empty()) {
      reason = "at position " + std::to_string(b.position) + ": " + order;
      break;
    }
    if (h.last_offset() - base_offset_ > int64_t{UINT32_MAX}) {
      reason = "at position " + std::to_string(b.position) + ": batch offset " + std::to_string(h.base_offset.value()) +
               " too far past the segment's base for its index";
      break;
    }
    index_batch(h, b.position);
    valid = b.position + h.total_size();
    size_.store(valid, std::memory_order_release);
  }
  verified_.store(valid, std::memory_order_release);  // the scanner checked every CRC
  if (report) {
    report->original_bytes = file_size;
    report->valid_bytes = valid;
    report->damaged = valid < file_size;
    report->reason = reason;
  } else if (valid < file_size) {
    return make_error(Errc::corrupt_data, log_->path() + ": " + reason);
  }
  return {};
}

void Segment::index_batch(const BatchHeader& h, uint64_t position) {
  if (bytes_since_index_entry_ >= options_.index_interval_bytes) {
    auto rel = static_cast<uint32_t>(h.base_offset - base_offset_);
    index_.append({rel, static_cast<uint32_t>(position)});
    time_index_.append({max_timestamp_.load(std::memory_order_relaxed), rel});
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += h.total_size();
  if (h.max_timestamp > max_timestamp_.load(std::memory_order_relaxed)) {
    max_timestamp_.store(h.max_timestamp, std::memory_order_release);
  }
  next_offset_.store(h.next_offset().value(), std::memory_order_release);
}

Status Segment::append(ByteSpan batch, const BatchHeader& header) {
  uint64_t position = size();
  if (auto s = log_->append(batch); !s) {
    // A partial write may have reached the file; cut it so the file stays whole batches.
    (void)log_->truncate(position);
    return s;
  }
  index_batch(header, position);
  size_.store(position + batch.size(), std::memory_order_release);
  mark_verified(position, position + batch.size());
  return {};
}

void Segment::mark_verified(uint64_t from, uint64_t to) const {
  uint64_t current = verified_.load(std::memory_order_acquire);
  while (current >= from && current < to && !verified_.compare_exchange_weak(current, to)) {
  }
}

Result<BatchPosition> Segment::locate(Offset offset) const {
  const uint64_t end = size();
  auto key = static_cast<uint32_t>(std::clamp<int64_t>(offset - base_offset_, 0, UINT32_MAX));
  std::optional<OffsetIndexEntry> entry = index_.floor(key);
  BatchPosition at =
      entry ? BatchPosition{entry->position, base_offset_ + entry->relative_offset} : BatchPosition{0, base_offset_};
  // A batch an index entry points at has the entry's offset exactly; the first
  // batch of the segment starts at its base (later, in a compacted log).
  OffsetGaps gaps = entry ? OffsetGaps::are_damage : options_.offset_gaps;
  bool from_entry = entry.has_value();
  FileBatchCursor walk(*log_, at.position, end);
  while (at.position < end) {
    walk.seek(at.position);
    auto frame = walk.frame();
    if (!frame) return tl::unexpected(frame.error());
    const bool plausible = *frame == BatchFrame::whole || *frame == BatchFrame::past_end;
    const BatchHeader& h = walk.header();
    auto order = plausible ? offset_order_violation(h.base_offset, at.expected_base, gaps) : std::string();
    if (from_entry && (!order.empty() || !plausible)) {
      // A damaged index entry (a walk from it would skip or repeat records): start
      // from the entry before it instead, and in the end from the segment's start.
      if (!index_mismatch_logged_.exchange(true, std::memory_order_relaxed)) {
        log::warn("storage", "index_entry_mismatch",
                  {{"segment", log_->path()},
                   {"relative_offset", int64_t{entry->relative_offset}},
                   {"position", int64_t{entry->position}}});
      }
      entry = entry->relative_offset == 0 ? std::nullopt : index_.floor(entry->relative_offset - 1);
      at = entry ? BatchPosition{entry->position, base_offset_ + entry->relative_offset}
                 : BatchPosition{0, base_offset_};
      gaps = entry ? OffsetGaps::are_damage : options_.offset_gaps;
      from_entry = entry.has_value();
      continue;
    }
    if (!order.empty() || !plausible) {
      return make_error(Errc::corrupt_data, log_->path() + ": at position " + std::to_string(at.position) + ": " +
                                                (order.empty() ? "implausible batch header" : order));
    }
    from_entry = false;
    if (h.last_offset() >= offset) return at;
    at.position += h.total_size();
    at.expected_base = h.next_offset();
    gaps = options_.offset_gaps;
  }
  return BatchPosition{end, at.expected_base};
}

Result<uint64_t> Segment::position_of(Offset offset) const {
  auto at = locate(offset);
  if (!at) return tl::unexpected(at.error());
  return at->position;
}

Result<uint64_t> Segment::position_of_timestamp(int64_t timestamp) const {
  uint64_t end = size();
  uint64_t pos = 0;
  if (auto e = time_index_.lower(timestamp)) {
    if (auto p = index_.floor(e->relative_offset)) pos = p->position;
  }
  FileBatchCursor walk(*log_, pos, end);
  while (true) {
    auto frame = walk.frame();
    if (!frame) return tl::unexpected(frame.error());
    if (*frame == BatchFrame::end) return end;
    if (*frame == BatchFrame::truncated_header || *frame == BatchFrame::implausible) {
      return make_error(Errc::corrupt_data,
                        log_->path() + ": unreadable batch header at position " + std::to_string(walk.position()));
    }
    if (walk.header().max_timestamp >= timestamp) return walk.position();
    walk.advance();
  }
}

Status Segment::truncate_to(Offset offset) {
  auto pos = position_of(offset);
  if (!pos) return tl::unexpected(pos.error());
  FileBatchCursor at(*log_, *pos, size(), bf::kHeaderSize);
  auto frame = at.frame();
  if (!frame) return tl::unexpected(frame.error());
  if (*frame != BatchFrame::end && *frame != BatchFrame::truncated_header) {
    Offset batch_base = at.header().base_offset;
    if (batch_base < offset) {
      return make_error(StorageErrc::not_batch_boundary, "offset " + std::to_string(offset.value()) +
                                                             " is inside the batch starting at " +
                                                             std::to_string(batch_base.value()));
    }
  }
  // Publish the shorter end first so readers stop before the bytes go away.
  size_.store(std::min(size(), *pos), std::memory_order_release);
  verified_.store(std::min(verified_size(), *pos), std::memory_order_release);
  if (auto s = log_->truncate(*pos); !s) return s;
  // Rebuild in-memory state for what is left; cheap next to the rarity of truncation.
  return rebuild(nullptr);
}

Status Segment::write_indexes(Sync sync) {
  for (auto [suffix, bytes] :
       {std::pair{".index", index_.serialize()}, std::pair{".timeindex", time_index_.serialize()}}) {
    if (sync == Sync::yes) {
      if (auto s = fs_.write_file_atomic(path(suffix), bytes); !s) return s;
    } else {
      auto file = fs_.open(path(suffix), OpenMode::create_or_open);
      if (!file) return tl::unexpected(file.error());
      if (auto s = (*file)->truncate(0); !s) return s;
      if (auto s = (*file)->append(bytes); !s) return s;
    }
  }
  return {};
}

Status Segment::rename_files(std::string stem) {
  for (const char* suffix : {".index", ".timeindex", ".log"}) {
    const std::string from = path(suffix);
    if (std::string_view(suffix) != ".log" && !fs_.exists(from)) continue;
    if (auto s = fs_.rename(from, dir_ + "/" + stem + suffix); !s) return s;
  }
  stem_ = std::move(stem);
  return {};
}

Status Segment::remove_files() {
  for (const char* suffix : {".log", ".index", ".timeindex"}) {
    if (auto s = fs_.remove(path(suffix)); !s) return s;
  }
  return {};
}

}  // namespace sluice::storage
