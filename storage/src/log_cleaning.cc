#include "log_cleaning.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "sluice/common/log.h"
#include "sluice/storage/batch_filter.h"
#include "sluice/storage/record_batch.h"

#include "file_batch_cursor.h"
#include "log_files.h"

namespace sluice::storage {
namespace {

std::string two_offset_stem(Offset base, Offset end, std::string_view kind) {
  return segment_file_name(base, ".") + segment_file_name(end, "") + std::string(kind);
}

// "<20 digits>.<20 digits>.swap.log" -> (base, end)
std::optional<std::pair<Offset, Offset>> parse_swap_log(std::string_view name) {
  constexpr std::string_view kSuffix = ".swap.log";
  if (name.size() != 41 + kSuffix.size() || !name.ends_with(kSuffix) || name[20] != '.') return std::nullopt;
  int64_t base = 0;
  int64_t end = 0;
  if (std::from_chars(name.data(), name.data() + 20, base).ptr != name.data() + 20) return std::nullopt;
  if (std::from_chars(name.data() + 21, name.data() + 41, end).ptr != name.data() + 41) return std::nullopt;
  return std::pair{Offset(base), Offset(end)};
}

std::optional<Offset> parse_segment_base(std::string_view name) {
  if (name.size() < 21 || name[20] != '.') return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, value);
  if (ec != std::errc() || ptr != name.data() + 20) return std::nullopt;
  const std::string_view suffix = name.substr(20);
  if (suffix != ".log" && suffix != ".index" && suffix != ".timeindex") return std::nullopt;
  return Offset(value);
}

// Reads the whole batch at the cursor into `buf` and checks its CRC.
Result<BatchHeader> read_checked_batch(const Segment& segment, FileBatchCursor& cursor, size_t max_batch_bytes,
                                       Bytes& buf) {
  auto frame = cursor.frame();
  if (!frame) return tl::unexpected(frame.error());
  if (*frame != BatchFrame::whole) {
    return make_error(Errc::corrupt_data,
                      segment.log_file().path() + ": no whole batch at position " + std::to_string(cursor.position()));
  }
  buf.resize(cursor.header().total_size());
  auto n = segment.log_file().read_at(cursor.position(), buf);
  if (!n) return tl::unexpected(n.error());
  if (*n != buf.size()) {
    return make_error(Errc::corrupt_data,
                      segment.log_file().path() + ": short read at position " + std::to_string(cursor.position()));
  }
  auto header = validate_batch_crc(buf, max_batch_bytes);
  if (!header) {
    return make_error(header.error().code, segment.log_file().path() + " at position " +
                                               std::to_string(cursor.position()) + ": " + header.error().message);
  }
  return header;
}

}  // namespace

std::string cleaned_segment_stem(Offset base, Offset end) { return two_offset_stem(base, end, ".cleaned"); }
std::string swap_segment_stem(Offset base, Offset end) { return two_offset_stem(base, end, ".swap"); }

Status finish_interrupted_swaps(FileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return tl::unexpected(names.error());
  std::vector<std::pair<Offset, Offset>> swaps;
  for (const std::string& name : *names) {
    if (name.find(".cleaned.") != std::string::npos) {
      if (auto s = fs.remove(log_file_path(dir, name)); !s) return s;
    } else if (auto swap = parse_swap_log(name)) {
      swaps.push_back(*swap);
    }
  }
  for (auto [base, end] : swaps) {
    for (const std::string& name : *names) {
      auto old = parse_segment_base(name);
      if (old && *old >= base && *old < end) {
        if (auto s = fs.remove(log_file_path(dir, name)); !s) return s;
      }
    }
    const std::string stem = log_file_path(dir, swap_segment_stem(base, end));
    for (const char* suffix : {".index", ".timeindex"}) {
      if (auto s = fs.remove(stem + suffix); !s) return s;  // rebuilt at open
    }
    if (auto s = fs.rename(stem + ".log", log_file_path(dir, segment_file_name(base, ".log"))); !s) return s;
    log::warn("storage", "cleaner_swap_finished", {{"dir", dir}, {"base", base.value()}, {"end", end.value()}});
  }
  // Index files of a swap whose log was renamed already were renamed before it.
  for (const std::string& name : *names) {
    if (name.find(".swap.") != std::string::npos && !parse_swap_log(name)) {
      if (auto s = fs.remove(log_file_path(dir, name)); !s) return s;
    }
  }
  if (swaps.empty()) return {};
  return fs.sync_dir(dir);
}

Offset CleanerCheckpoint::tombstone_horizon(int64_t now_ms, int64_t delete_retention_ms) const {
  Offset horizon{0};
  for (const Pass& pass : passes) {
    if (pass.time_ms <= now_ms - delete_retention_ms) horizon = std::max(horizon, pass.end);
  }
  return horizon;
}

void CleanerCheckpoint::record_pass(Offset end, int64_t now_ms) {
  first_dirty = end;
  if (!passes.empty() && passes.back().end >= end) {
    // A pass that found nothing new to map: the offsets below it were clean before.
    return;
  }
  passes.push_back(Pass{end, now_ms});
  if (passes.size() > kMaxPasses) {
    passes[1].time_ms = std::max(passes[0].time_ms, passes[1].time_ms);
    passes.erase(passes.begin());
  }
}

void CleanerCheckpoint::truncate(Offset end) {
  first_dirty = std::min(first_dirty, end);
  while (!passes.empty() && passes.back().end > end) {
    const int64_t time = passes.back().time_ms;
    passes.pop_back();
    // What was below `end` became clean no later than that pass.
    if (passes.empty() || passes.back().end < end) passes.push_back(Pass{end, time});
  }
}

std::string CleanerCheckpoint::encode() const {
  std::string text = "sluice-cleaner-checkpoint 1\nfirst_dirty " + std::to_string(first_dirty.value()) + "\n";
  for (const Pass& pass : passes) {
    text += "pass " + std::to_string(pass.end.value()) + " " + std::to_string(pass.time_ms) + "\n";
  }
  return text;
}

CleanerCheckpoint CleanerCheckpoint::read(FileSystem& fs, const std::string& dir) {
  auto bytes = fs.read_file(dir + "/" + std::string(kCleanerCheckpointFile));
  if (!bytes) return {};
  std::istringstream in{std::string(as_string_view(*bytes))};
  std::string magic;
  int version = 0;
  std::string word;
  int64_t first_dirty = 0;
  if (!(in >> magic >> version >> word >> first_dirty) || magic != "sluice-cleaner-checkpoint" || version != 1 ||
      word != "first_dirty" || first_dirty < 0) {
    log::warn("storage", "cleaner_checkpoint_unreadable", {{"dir", dir}});
    return {};
  }
  CleanerCheckpoint checkpoint;
  checkpoint.first_dirty = Offset(first_dirty);
  int64_t end = 0;
  int64_t time = 0;
  while (in >> word >> end >> time) {
    if (word != "pass" || (!checkpoint.passes.empty() && checkpoint.passes.back().end >= Offset(end))) {
      log::warn("storage", "cleaner_checkpoint_unreadable", {{"dir", dir}});
      return {};
    }
    checkpoint.passes.push_back(Pass{Offset(end), time});
  }
  return checkpoint;
}

Status CleanerCheckpoint::write(FileSystem& fs, const std::string& dir) const {
  const std::string text = encode();
  return fs.write_file_atomic(dir + "/" + std::string(kCleanerCheckpointFile), as_bytes(text));
}

Result<Offset> build_key_map(const SegmentList& list, Offset first_dirty, Offset end, size_t max_batch_bytes,
                             KeyOffsetMap& map, IoThrottle* throttle) {
  Bytes buf;
  Bytes scratch;
  for (size_t i = segment_index_for(list, first_dirty); i < list.size(); ++i) {
    const Segment& segment = *list[i];
    if (segment.base_offset() >= end) break;
    uint64_t position = 0;
    if (segment.base_offset() < first_dirty) {
      auto located = segment.position_of(first_dirty);
      if (!located) return tl::unexpected(located.error());
      position = *located;
    }
    FileBatchCursor cursor(segment.log_file(), position, segment.size());
    while (cursor.position() < segment.size()) {
      auto header = read_checked_batch(segment, cursor, max_batch_bytes, buf);
      if (!header) return tl::unexpected(header.error());
      if (throttle) throttle->record(header->total_size());
      if (header->base_offset >= end) return end;
      if (map.size() + static_cast<size_t>(std::max(header->record_count, 0)) > map.max_entries()) {
        if (map.size() == 0) {
          return make_error(Errc::invalid_argument, "cleaner: a batch of " + std::to_string(header->record_count) +
                                                        " records does not fit a key map of " +
                                                        std::to_string(map.max_entries()) +
                                                        " entries (raise log.cleaner.dedupe.buffer.size)");
        }
        return header->base_offset;
      }
      if (!header->is_control()) {
        auto reader = RecordReader::open(buf, 64u << 20, &scratch);
        if (!reader) return tl::unexpected(reader.error());
        Record record;
        for (;;) {
          auto more = reader->next(record);
          if (!more) return tl::unexpected(more.error());
          if (!*more) break;
          if (record.key) map.put(*record.key, record.offset.value());
        }
      }
      cursor.advance();
    }
  }
  return end;
}

Result<CleanedGroup> write_cleaned_group(FileSystem& fs, const std::string& dir, const SegmentList& group,
                                         const SegmentOptions& options, size_t max_batch_bytes,
                                         const CleanRules& rules) {
  CleanedGroup out;
  const Offset base = group.front()->base_offset();
  out.end = group.back()->next_offset();
  auto created = Segment::create_named(fs, dir, base, options, cleaned_segment_stem(base, out.end));
  if (!created) return tl::unexpected(created.error());
  out.segment = std::move(*created);
  // A pass that fails here leaves no .cleaned files behind (the next open would
  // delete them, but a broker may run for months before it opens the log again).
  struct RemoveUnlessKept {
    Segment* segment;
    ~RemoveUnlessKept() {
      if (segment) (void)segment->remove_files();
    }
  } written{out.segment.get()};
  Bytes buf;
  Bytes scratch;
  FilterOptions filter_options{.scratch = &scratch};
  int64_t tombstones = 0;
  auto keep = [&](const Record& record) {
    if (!record.key) return true;  // only a log compacted after it held keyless records
    if (auto latest = rules.map->get(*record.key); latest && *latest > record.offset.value()) return false;
    if (!record.value && record.offset < rules.tombstone_horizon) {
      ++tombstones;
      return false;
    }
    return true;
  };
  for (const auto& segment : group) {
    out.bytes_before += segment->size();
    FileBatchCursor cursor(segment->log_file(), 0, segment->size());
    while (cursor.position() < segment->size()) {
      auto header = read_checked_batch(*segment, cursor, max_batch_bytes, buf);
      if (!header) return tl::unexpected(header.error());
      cursor.advance();
      if (rules.throttle) rules.throttle->record(header->total_size());
      if (header->is_control()) {
        if (auto s = out.segment->append(buf, *header); !s) return tl::unexpected(s.error());
        if (rules.throttle) rules.throttle->record(header->total_size());
        continue;
      }
      auto filtered = filter_batch(buf, keep, filter_options);
      if (!filtered) return tl::unexpected(filtered.error());
      out.records_dropped += filtered->dropped;
      if (filtered->outcome == FilteredBatch::Outcome::unchanged) {
        if (auto s = out.segment->append(buf, *header); !s) return tl::unexpected(s.error());
        if (rules.throttle) rules.throttle->record(header->total_size());
        continue;
      }
      if (filtered->outcome == FilteredBatch::Outcome::emptied) {
        auto newest = rules.newest_batches->find(header->producer_id);
        const bool carries_producer = header->producer_id != batch_format::kNoProducerId &&
                                      newest != rules.newest_batches->end() &&
                                      newest->second == header->last_offset().value();
        if (!carries_producer) continue;
      }
      auto rewritten = read_batch_header(filtered->bytes);
      if (!rewritten) return tl::unexpected(rewritten.error());
      if (auto s = out.segment->append(filtered->bytes, *rewritten); !s) return tl::unexpected(s.error());
      if (rules.throttle) rules.throttle->record(rewritten->total_size());
    }
  }
  out.tombstones_dropped = tombstones;
  if (auto s = out.segment->sync(); !s) return tl::unexpected(s.error());
  if (auto s = out.segment->write_indexes(Segment::Sync::yes); !s) return tl::unexpected(s.error());
  out.segment->release_reserve();
  written.segment = nullptr;
  return out;
}

}  // namespace sluice::storage
