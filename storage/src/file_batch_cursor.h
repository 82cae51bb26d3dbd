// A BatchCursor over a region of a file: walks the batch headers of
// [position, end) without reading the batches, a chunk of the file at a time
// (small batches share one read; a large batch costs one read of its header).
//
// The chunk lives in the cursor (on the caller's stack): no allocation.
// Thread-safety: used by one thread; the file may be appended to concurrently
// (only bytes below `end`, which the caller took from a published size, are read).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "sluice/common/error.h"
#include "sluice/storage/batch_cursor.h"
#include "sluice/storage/file_system.h"

namespace sluice::storage {

class FileBatchCursor {
 public:
  // Reads `read_ahead` bytes (at most kMaxReadAhead, at least a header) whenever
  // the header at the position is not in the chunk already.
  static constexpr size_t kMaxReadAhead = 4096;
  FileBatchCursor(const File& file, uint64_t position, uint64_t end, size_t read_ahead = kMaxReadAhead)
      : file_(file),
        position_(position),
        end_(end),
        read_ahead_(std::clamp(read_ahead, batch_format::kHeaderSize, kMaxReadAhead)) {}

  // The frame at position(), as BatchCursor::frame() classifies it, with
  // whole/past_end measured against `end`. Fails only on a read error.
  Result<BatchFrame> frame() {
    if (position_ >= end_) return BatchFrame::end;
    const uint64_t left = end_ - position_;
    if (left < batch_format::kHeaderSize) return BatchFrame::truncated_header;
    if (position_ < chunk_position_ || position_ + batch_format::kHeaderSize > chunk_position_ + chunk_size_) {
      auto want = static_cast<size_t>(std::min<uint64_t>(read_ahead_, left));
      auto n = file_.read_at(position_, MutableByteSpan(chunk_.data(), want));
      if (!n) return tl::unexpected(n.error());
      chunk_position_ = position_;
      chunk_size_ = *n;
      if (chunk_size_ < batch_format::kHeaderSize) return BatchFrame::truncated_header;
    }
    header_ = decode_batch_header(chunk_.data() + (position_ - chunk_position_));
    return classify_batch_frame(header_, left);
  }
  const BatchHeader& header() const { return header_; }
  // Steps over the batch frame() decoded. REQUIRES: frame() decoded a header
  // (whole, past_end, or implausible with batch_length >= 0).
  void advance() { position_ += header_.total_size(); }
  // Moves to `position`; the chunk is kept and read again only where it does not cover it.
  void seek(uint64_t position) { position_ = position; }
  uint64_t position() const { return position_; }

 private:
  const File& file_;
  uint64_t position_;
  uint64_t end_;
  size_t read_ahead_;
  uint64_t chunk_position_ = 0;
  size_t chunk_size_ = 0;
  BatchHeader header_;
  std::array<std::byte, kMaxReadAhead> chunk_;  // not zeroed: only [0, chunk_size_) is read
};

}  // namespace sluice::storage
