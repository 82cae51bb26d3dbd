#include "segment_salvage.h"

#include <algorithm>

#include "sluice/storage/record_batch.h"
#include "sluice/storage/segment.h"
#include "sluice/storage/segment_scanner.h"

namespace sluice::storage {
namespace bf = batch_format;
namespace {

constexpr size_t kCopyChunk = 1 << 20;
constexpr size_t kSearchWindow = 1 << 20;

// Appends [position, position + size) of `from` to `to`, a chunk at a time.
Status copy_range(const File& from, uint64_t position, uint64_t size, File& to) {
  Bytes chunk(static_cast<size_t>(std::min<uint64_t>(size, kCopyChunk)));
  while (size > 0) {
    auto want = static_cast<size_t>(std::min<uint64_t>(size, chunk.size()));
    auto n = from.read_at(position, MutableByteSpan(chunk.data(), want));
    if (!n) return tl::unexpected(n.error());
    if (*n != want) return make_error(Errc::io_error, from.path() + ": short read while copying");
    if (auto s = to.append(ByteSpan(chunk.data(), want)); !s) return s;
    position += want;
    size -= want;
  }
  return {};
}

// Writes a copy of [position, position + size) of `from` to `path`, synced.
Status write_copy(FileSystem& fs, const File& from, uint64_t position, uint64_t size, const std::string& path) {
  auto to = fs.open(path, OpenMode::create_or_open);
  if (!to) return tl::unexpected(to.error());
  if (auto s = (*to)->truncate(0); !s) return s;
  if (auto s = copy_range(from, position, size, **to); !s) return s;
  return (*to)->sync();
}

// The position of the first batch at or after `from` whose framing and CRC check
// and whose base offset is at least `expected`, or file.size() if there is none.
Result<uint64_t> find_next_batch(const File& file, uint64_t from, Offset expected, size_t max_batch_bytes) {
  const uint64_t end = file.size();
  Bytes window;
  Bytes batch;
  for (uint64_t start = from; start < end; start += kSearchWindow) {
    auto len = static_cast<size_t>(std::min<uint64_t>(end - start, kSearchWindow + bf::kHeaderSize));
    window.resize(len);
    auto n = file.read_at(start, window);
    if (!n) return tl::unexpected(n.error());
    for (size_t i = 0; i < std::min(*n, kSearchWindow) && i + bf::kHeaderSize <= *n; ++i) {
      if (window[i + bf::kMagic] != std::byte{bf::kMagicV2}) continue;
      auto h = read_batch_header(ByteSpan(window.data() + i, bf::kHeaderSize));
      if (!h || h->batch_length < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead) ||
          h->total_size() > max_batch_bytes || start + i + h->total_size() > end || h->base_offset < expected) {
        continue;
      }
      ByteSpan bytes;
      if (i + h->total_size() <= *n) {
        bytes = ByteSpan(window.data() + i, h->total_size());
      } else {
        batch.resize(h->total_size());
        auto got = file.read_at(start + i, batch);
        if (!got) return tl::unexpected(got.error());
        bytes = ByteSpan(batch.data(), *got);
      }
      if (validate_batch_crc(bytes, max_batch_bytes)) return start + i;
    }
  }
  return end;
}

Result<std::string> quarantine_path(FileSystem& fs, const std::string& dir, const std::string& file_name,
                                    const std::string& reason, int64_t now_ms) {
  const std::string folder = dir + "/" + std::string(kQuarantineDir);
  if (auto s = fs.create_dirs(folder); !s) return tl::unexpected(s.error());
  std::string path = folder + "/" + file_name + "." + std::to_string(now_ms);
  std::string note = reason + "\n";
  if (auto s = fs.write_file_atomic(path + ".txt", as_bytes(note)); !s) return tl::unexpected(s.error());
  return path;
}

}  // namespace

Result<std::vector<GoodRun>> find_good_runs(const File& file, uint64_t from, Offset expected, OffsetGaps gaps,
                                            size_t max_batch_bytes) {
  std::vector<GoodRun> runs;
  const uint64_t end = file.size();
  uint64_t position = from;
  // Right after damage the offsets of the damaged bytes are unknown: the next good
  // batch may start anywhere at or past `expected`.
  bool after_damage = true;
  Offset expected_before_run = expected;
  while (position < end) {
    SegmentScanner scanner(file, position, end, max_batch_bytes);
    position = end;
    while (true) {
      auto next = scanner.next();
      if (!next) return tl::unexpected(next.error());
      if (!*next) break;
      const ScannedBatch& b = **next;
      const BatchHeader& h = b.header;
      // The batch at `from` is the one the caller's scan rejected.
      bool good = b.position != from && b.status &&
                  offset_order_violation(h.base_offset, expected, after_damage ? OffsetGaps::are_legal : gaps).empty();
      if (!good && b.status && !after_damage && !runs.empty() && runs.back().size == runs.back().size_of_first &&
          h.base_offset >= expected_before_run && h.base_offset < runs.back().base) {
        // A run of one batch after damage, followed by a batch that goes back: that
        // one batch had a damaged (too high) base offset. Drop it; this batch starts
        // the run instead.
        runs.pop_back();
        expected = expected_before_run;
        after_damage = true;
        good = true;
      }
      if (good) {
        if (after_damage) {
          expected_before_run = expected;
          runs.push_back(GoodRun{b.position, 0, h.base_offset, h.base_offset, h.total_size()});
        }
        runs.back().size += h.total_size();
        runs.back().next = h.next_offset();
        expected = h.next_offset();
        after_damage = false;
        continue;
      }
      after_damage = true;
      if (b.can_skip) continue;  // the length can be trusted: the scanner moved past it
      auto found = find_next_batch(file, b.position + 1, expected, max_batch_bytes);
      if (!found) return tl::unexpected(found.error());
      position = *found;
      break;
    }
  }
  return runs;
}

Result<std::string> quarantine_copy(FileSystem& fs, const std::string& dir, const std::string& file_name,
                                    const std::string& reason, int64_t now_ms) {
  auto path = quarantine_path(fs, dir, file_name, reason, now_ms);
  if (!path) return path;
  auto from = fs.open(dir + "/" + file_name, OpenMode::must_exist);
  if (!from) return tl::unexpected(from.error());
  if (auto s = write_copy(fs, **from, 0, (*from)->size(), *path); !s) return tl::unexpected(s.error());
  if (auto s = fs.sync_dir(dir + "/" + std::string(kQuarantineDir)); !s) return tl::unexpected(s.error());
  return path;
}

Result<std::string> quarantine_move(FileSystem& fs, const std::string& dir, const std::string& file_name,
                                    const std::string& reason, int64_t now_ms) {
  auto path = quarantine_path(fs, dir, file_name, reason, now_ms);
  if (!path) return path;
  if (auto s = fs.rename(dir + "/" + file_name, *path); !s) return tl::unexpected(s.error());
  if (auto s = fs.sync_dir(dir + "/" + std::string(kQuarantineDir)); !s) return tl::unexpected(s.error());
  if (auto s = fs.sync_dir(dir); !s) return tl::unexpected(s.error());
  return path;
}

Status write_run_as_segment(FileSystem& fs, const File& from, const std::string& dir, const GoodRun& run) {
  std::string path = dir + "/" + segment_file_name(run.base, ".log");
  if (auto s = write_copy(fs, from, run.position, run.size, path + ".tmp"); !s) return s;
  if (auto s = fs.rename(path + ".tmp", path); !s) return s;
  return fs.sync_dir(dir);
}

}  // namespace sluice::storage
