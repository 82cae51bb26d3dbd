// Walks record-batch frames laid back to back (a segment file, a fetch response):
// the one place that reads a batch header's length and steps to the next batch.
//
//   bytes:  [ batch 0          ][ batch 1    ][ batch 2 ...
//           ^ position()         total_size() = kLogOverhead + batch_length
//
// A frame is classified from its 61-byte header alone; neither the CRC nor the
// records are checked (validate_batch_crc does that). Inline, no allocation: the
// cursor is on every read path.
// Thread-safety: a value type, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sluice/common/bytes.h"
#include "sluice/storage/record_batch.h"
#include "sluice/storage/record_batch_format.h"

namespace sluice::storage {

// What lies at a cursor's position.
enum class BatchFrame : uint8_t {
  whole,             // a plausible header, and the whole batch lies within the bytes
  past_end,          // a plausible header, but the batch runs past the end of the bytes
  implausible,       // a header whose magic, length (below a header's) or last offset delta cannot be a batch
  truncated_header,  // fewer than kHeaderSize bytes left, but some
  end,               // no bytes left
};

// Classifies a decoded header given the bytes available from its start.
inline BatchFrame classify_batch_frame(const BatchHeader& h, uint64_t available) {
  constexpr auto kMinLength = static_cast<int32_t>(batch_format::kHeaderSize - batch_format::kLogOverhead);
  if (h.magic != batch_format::kMagicV2 || h.batch_length < kMinLength || h.last_offset_delta < 0) {
    return BatchFrame::implausible;
  }
  return h.total_size() <= available ? BatchFrame::whole : BatchFrame::past_end;
}

class BatchCursor {
 public:
  explicit BatchCursor(ByteSpan bytes) : bytes_(bytes) {}

  // Decodes the frame at position(). header() is set for whole, past_end and
  // implausible; advance() is allowed after whole only.
  BatchFrame frame() {
    const size_t left = bytes_.size() - position_;
    if (left == 0) return BatchFrame::end;
    if (left < batch_format::kHeaderSize) return BatchFrame::truncated_header;
    header_ = decode_batch_header(bytes_.data() + position_);
    return classify_batch_frame(header_, left);
  }
  const BatchHeader& header() const { return header_; }
  // The bytes of the batch at position(). REQUIRES: frame() returned whole.
  ByteSpan batch() const { return bytes_.subspan(position_, header_.total_size()); }
  // Steps over the batch frame() decoded. REQUIRES: frame() returned whole.
  void advance() { position_ += header_.total_size(); }
  size_t position() const { return position_; }

 private:
  ByteSpan bytes_;
  size_t position_ = 0;
  BatchHeader header_;
};

}  // namespace sluice::storage
