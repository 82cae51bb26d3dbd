#include "log_loader.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "sluice/common/log.h"

#include "file_batch_cursor.h"
#include "log_cleaning.h"
#include "log_files.h"
#include "segment_salvage.h"

namespace sluice::storage {
namespace {

// "00000000000000000042.log" -> 42
std::optional<Offset> parse_segment_name(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, value);
  if (ec != std::errc() || ptr != name.data() + 20 || value < 0) return std::nullopt;
  return Offset(value);
}

}  // namespace

SegmentOptions segment_options_for(const LogConfig& config) {
  return SegmentOptions{config.index_interval_bytes, config.max_batch_bytes, config.segment_bytes, config.offset_gaps};
}

SegmentOptions LogLoader::segment_options() const { return segment_options_for(config_); }

Result<LoadedLog> LogLoader::load(ProducerStateTable& producers) {
  if (auto s = fs_.create_dirs(dir_); !s) return tl::unexpected(s.error());
  auto bases = list_segments();
  if (!bases) return tl::unexpected(bases.error());
  const bool clean = fs_.exists(log_file_path(dir_, kCleanShutdownFile));
  report_.clean_shutdown = clean;
  const Offset recovery_point = read_recovery_point(fs_, dir_);
  if (auto s = remove_empty_tail(*bases, clean, recovery_point); !s) return tl::unexpected(s.error());
  auto opened = open_segments(*bases, clean, recovery_point);
  if (!opened) return tl::unexpected(opened.error());
  SegmentList& list = *opened;
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
      if (auto s = segment->sync(); !s) return tl::unexpected(s.error());
    }
  }
  if (auto s = fs_.sync_dir(dir_); !s) return tl::unexpected(s.error());
  const Offset active_base = list.back()->base_offset();
  LoadedLog loaded{std::move(list), active_base};
  // On a full disk the log still opens (reads are served): the recovery point on
  // disk stays, which is at or past this one, and segments below the one holding
  // it are synced all the same.
  if (auto s = write_recovery_point(fs_, dir_, loaded.recovery_point); !s) {
    if (s.error().code != Errc::no_space) return tl::unexpected(s.error());
    loaded.recovery_point = recovery_point;
    log::warn("storage", "recovery_point_not_written", {{"dir", dir_}, {"error", s.error().to_string()}});
  }
  if (clean) {
    if (auto s = fs_.remove(log_file_path(dir_, kCleanShutdownFile)); !s) return tl::unexpected(s.error());
    if (auto s = fs_.sync_dir(dir_); !s) return tl::unexpected(s.error());
  }
  if (auto s = load_producer_state(loaded.segments, clean, producers); !s) return tl::unexpected(s.error());
  return loaded;
}

Result<std::vector<Offset>> LogLoader::list_segments() {
  if (auto s = finish_interrupted_swaps(fs_, dir_); !s) return tl::unexpected(s.error());
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
  return bases;
}

// Empty segment files past the recovery point at the end of the log: what a
// power cut leaves of segments created after the last sync. They hold nothing,
// and without them the log ends at its last record instead of after a hole.
Status LogLoader::remove_empty_tail(std::vector<Offset>& bases, bool clean, Offset recovery_point) {
  while (!clean && bases.size() > 1 && bases.back() > recovery_point) {
    auto file = fs_.open(dir_ + "/" + segment_file_name(bases.back(), ".log"), OpenMode::must_exist);
    if (!file) return tl::unexpected(file.error());
    if ((*file)->size() != 0) break;
    file->reset();
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
      if (auto s = fs_.remove(dir_ + "/" + segment_file_name(bases.back(), suffix)); !s) return s;
    }
    log::warn("storage", "empty_segment_removed", {{"dir", dir_}, {"segment", bases.back().value()}});
    ++report_.empty_segments_removed;
    bases.pop_back();
  }
  return {};
}

Result<SegmentList> LogLoader::open_segments(const std::vector<Offset>& bases, bool clean, Offset recovery_point) {
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
      ++report_.segments_quarantined;
      continue;
    }
    // A segment that may hold bytes never synced is checked after a crash.
    const bool past_recovery_point = last || bases[i + 1] > recovery_point;
    auto scan = !clean && past_recovery_point ? Segment::Scan::yes : Segment::Scan::no;
    SegmentRecovery report;
    auto opened = Segment::open(fs_, dir_, base, segment_options(), scan, report);
    if (!opened) return tl::unexpected(opened.error());
    if (scan == Segment::Scan::yes) ++report_.segments_scanned;
    std::shared_ptr<Segment> segment = std::move(*opened);
    size_t first_salvaged = salvaged.size();
    if (report.damaged) {
      if (auto s = handle_damage(*segment, report, last ? LastSegment::yes : LastSegment::no, recovery_point, salvaged);
          !s) {
        return tl::unexpected(s.error());
      }
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
  return list;
}

Status LogLoader::handle_damage(Segment& segment, const SegmentRecovery& report, LastSegment last,
                                Offset recovery_point, std::vector<Offset>& salvaged) {
  const std::string name = segment_file_name(segment.base_offset(), ".log");
  if (last == LastSegment::yes && segment.next_offset() >= recovery_point) {
    // A torn tail: bytes past the last sync that never became whole batches. The
    // only cut recovery makes.
    if (auto s = segment.cut_to_size(); !s) return s;
    report_.bytes_truncated += report.original_bytes - report.valid_bytes;
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
  if (auto s = segment.write_indexes(Segment::Sync::yes); !s) return s;
  ++report_.segments_quarantined;
  log::error("storage", "segment_damaged",
             {{"dir", dir_},
              {"segment", name},
              {"position", report.valid_bytes},
              {"reason", report.reason},
              {"copied_to", *copy},
              {"good_bytes_after", kept_batches_bytes}});
  return {};
}

// After a clean close the snapshot holds the producers; otherwise (or if it
// does not match the log) the batch headers are read again.
Status LogLoader::load_producer_state(const SegmentList& list, bool clean, ProducerStateTable& producers) {
  const std::string snapshot = log_file_path(dir_, kProducerStateFile);
  if (clean && fs_.exists(snapshot)) {
    auto bytes = fs_.read_file(snapshot);
    auto valid_for = bytes ? producers.decode(*bytes) : Result<Offset>(tl::unexpected(bytes.error()));
    if (valid_for && *valid_for == list.back()->next_offset()) return {};
    log::warn("storage", "producer_state_snapshot_ignored",
              {{"dir", dir_}, {"reason", valid_for ? "it does not match the log end" : valid_for.error().to_string()}});
  }
  return rebuild_producer_state(list, clock_.now().value(), producers);
}

Status rebuild_producer_state(const SegmentList& list, int64_t now_ms, ProducerStateTable& producers) {
  producers.clear();
  for (const auto& segment : list) {
    FileBatchCursor walk(segment->log_file(), 0, segment->size());
    while (true) {
      auto frame = walk.frame();
      if (!frame) return tl::unexpected(frame.error());
      if (*frame == BatchFrame::end) break;
      if (*frame == BatchFrame::truncated_header || walk.header().batch_length <= 0) {
        // Recovery has checked every batch up to the segment's size: this cannot
        // happen unless the file changed under us.
        return make_error(Errc::corrupt_data, segment->log_file().path() + ": unreadable batch header at " +
                                                  std::to_string(walk.position()) + " while loading producer state");
      }
      producers.record(walk.header(), now_ms);
      walk.advance();
    }
  }
  return {};
}

}  // namespace sluice::storage
