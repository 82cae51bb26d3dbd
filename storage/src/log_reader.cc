#include "sluice/storage/log_reader.h"

#include <algorithm>

#include "sluice/storage/record_batch.h"

#include "file_batch_cursor.h"

namespace sluice::storage {
namespace {

// Where one read stands while it walks the segments.
struct ReadCursor {
  ReadResult& result;
  const ReadOptions& options;
  size_t max_batch_bytes;
  OffsetGaps gaps;
  Offset bound;       // min(options.upper_bound, the log end the read loaded)
  Offset expected;    // the next batch must start here (or later, where gaps are legal)
  bool full = false;  // stop: the byte limit, the bound, or damage was reached

  // The first batch is returned whole even when it alone is over max_bytes.
  bool first_whole() const { return result.batches == 0 && options.min_one_batch == MinOneBatch::yes; }
  // A batch `h` that brings the read to `bytes_after` bytes may be added: it ends
  // at or before the bound (the writer publishes a segment's size before the log
  // end, and a later read would reject the offset it leads to), and it is the
  // first batch (returned whole even over max_bytes) or fits.
  bool admits(const BatchHeader& h, uint64_t bytes_after) {
    if (h.next_offset() > bound || (!first_whole() && bytes_after > options.max_bytes)) full = true;
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
  const size_t max_bytes = cursor.options.max_bytes;
  uint64_t room = max_bytes > result.bytes ? max_bytes - result.bytes : 0;
  auto want = static_cast<size_t>(std::min<uint64_t>(end - pos, room));
  if (cursor.first_whole()) {
    FileBatchCursor first(segment.log_file(), pos, end, batch_format::kHeaderSize);
    auto frame = first.frame();
    if (!frame) return tl::unexpected(frame.error());
    if (*frame != BatchFrame::end && *frame != BatchFrame::truncated_header) {
      auto total = batch_format::kLogOverhead + static_cast<uint64_t>(std::max(first.header().batch_length, 0));
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
    if (!cursor.admits(*h, result.bytes + used + h->total_size())) break;
    used += h->total_size();
    cursor.add(*h);
  }
  segment.mark_verified(pos, pos + used);
  if (used < *n || result.bytes + used >= max_bytes) cursor.full = true;
  return used;
}

// Walks the batch headers of the verified part of [pos, end) without reading the
// batches themselves; returns the bytes of whole batches found (up to the limit).
Result<uint64_t> locate_verified(const Segment& segment, uint64_t pos, uint64_t end, ReadCursor& cursor) {
  FileBatchCursor walk(segment.log_file(), pos, std::min(end, segment.verified_size()));
  while (!cursor.full) {
    auto frame = walk.frame();
    if (!frame) return tl::unexpected(frame.error());
    if (*frame != BatchFrame::whole) break;  // the rest is read and checked
    const BatchHeader& h = walk.header();
    if (!cursor.admits(h, cursor.result.bytes + (walk.position() - pos) + h.total_size())) break;
    walk.advance();
    cursor.add(h);
  }
  return walk.position() - pos;
}

}  // namespace

Result<ReadResult> LogReader::read(const SegmentList& list, Offset log_end, Offset offset, const ReadOptions& options,
                                   Bytes& out) const {
  ReadResult result;
  result.log_start_offset = list.front()->base_offset();
  result.log_end_offset = log_end;
  result.next_offset = offset;
  if (offset < result.log_start_offset || offset > result.log_end_offset) {
    return make_error(StorageErrc::offset_out_of_range, "offset " + std::to_string(offset.value()) + " is outside [" +
                                                            std::to_string(result.log_start_offset.value()) + ", " +
                                                            std::to_string(result.log_end_offset.value()) + "]");
  }
  size_t first = segment_index_for(list, offset);
  const OffsetGaps gaps = gaps_.load(std::memory_order_relaxed);
  if (gaps == OffsetGaps::are_damage && first + 1 < list.size() && offset >= list[first]->next_offset()) {
    return tl::unexpected(hole_error(dir_, hole_between(*list[first], *list[first + 1])));
  }
  ReadCursor cursor{result, options, max_batch_bytes_, gaps, std::min(options.upper_bound, log_end), offset};
  for (size_t i = first; i < list.size() && !cursor.full; ++i) {
    const std::shared_ptr<Segment>& segment = list[i];
    uint64_t end = segment->size();
    uint64_t pos = 0;
    if (i == first) {
      auto p = segment->locate(offset);
      if (!p) return tl::unexpected(p.error());
      pos = p->position;
      cursor.expected = p->expected_base;
    } else {
      // A read stops in front of a hole; the next one, at its first offset, reports it.
      if (!offset_order_violation(segment->base_offset(), cursor.expected, gaps).empty()) break;
      cursor.expected = segment->base_offset();
    }
    uint64_t region_start = pos;
    if (options.mode == ReadMode::locate && pos < end) {
      auto located = locate_verified(*segment, pos, end, cursor);
      if (!located) return tl::unexpected(located.error());
      pos += *located;
      result.bytes += *located;
    }
    if (!cursor.full && pos < end) {
      // `out` is only grown, never cleared first: growing a vector zero-fills the new
      // part, and a caller that reuses its buffer should not pay for that on every read.
      size_t at = options.mode == ReadMode::copy ? result.bytes : 0;
      auto checked = read_and_check(*segment, pos, end, out, at, cursor);
      if (!checked) return tl::unexpected(checked.error());
      pos += *checked;
      result.bytes += *checked;
    }
    if (pos > region_start) result.regions.push_back(FileRegion{segment, region_start, pos - region_start});
  }
  if (options.mode == ReadMode::copy) out.resize(result.bytes);
  return result;
}

Result<std::optional<TimestampLookup>> LogReader::offset_for_timestamp(const SegmentList& list,
                                                                       int64_t timestamp) const {
  Bytes buffer;
  for (const auto& segment : list) {
    if (segment->max_timestamp() < timestamp) continue;
    auto pos = segment->position_of_timestamp(timestamp);
    if (!pos) return tl::unexpected(pos.error());
    FileBatchCursor walk(segment->log_file(), *pos, segment->size(), batch_format::kHeaderSize);
    while (true) {
      auto frame = walk.frame();
      if (!frame) return tl::unexpected(frame.error());
      if (*frame == BatchFrame::end || *frame == BatchFrame::truncated_header) break;
      size_t total = batch_format::kLogOverhead + static_cast<size_t>(std::max(walk.header().batch_length, 0));
      buffer.resize(total);
      auto n = segment->log_file().read_at(walk.position(), buffer);
      if (!n) return tl::unexpected(n.error());
      auto h = validate_batch_crc(ByteSpan(buffer.data(), *n), max_batch_bytes_);
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
      walk.advance();
    }
  }
  return std::nullopt;
}

}  // namespace sluice::storage
