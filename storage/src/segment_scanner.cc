#include "sluice/storage/segment_scanner.h"

#include <algorithm>
#include <string>

namespace sluice::storage {
namespace bf = batch_format;
namespace {
constexpr size_t kChunk = 1 << 20;
}

SegmentScanner::SegmentScanner(const File& file, uint64_t start, uint64_t end, size_t max_batch_bytes)
    : file_(file), position_(start), end_(end), max_batch_bytes_(max_batch_bytes), buffer_start_(start) {}

// Ensures buffer_ holds [position_, position_ + need) if the file has it.
Status SegmentScanner::fill(size_t need) {
  uint64_t have_end = buffer_start_ + buffer_len_;
  if (position_ >= buffer_start_ && position_ + need <= have_end) return {};
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(need, kChunk), end_ - position_));
  if (buffer_.size() < want) buffer_.resize(want);
  auto n = file_.read_at(position_, MutableByteSpan(buffer_.data(), want));
  if (!n) return tl::unexpected(n.error());
  buffer_start_ = position_;
  buffer_len_ = *n;
  return {};
}

Result<std::optional<ScannedBatch>> SegmentScanner::next() {
  if (stopped_ || position_ >= end_) return std::nullopt;
  ScannedBatch out;
  out.position = position_;
  uint64_t left = end_ - position_;
  auto torn = [&](std::error_code code, const std::string& why) -> Result<std::optional<ScannedBatch>> {
    out.status = make_error(code, "at position " + std::to_string(out.position) + ": " + why);
    out.can_skip = false;
    stopped_ = true;
    return out;
  };
  if (left < bf::kHeaderSize) {
    return torn(Errc::truncated, std::to_string(left) + " trailing bytes, less than a batch header");
  }
  if (auto s = fill(bf::kHeaderSize); !s) return tl::unexpected(s.error());
  size_t offset_in_buffer = static_cast<size_t>(position_ - buffer_start_);
  if (buffer_len_ - offset_in_buffer < bf::kHeaderSize) return torn(Errc::truncated, "file shorter than expected");
  auto header = read_batch_header(ByteSpan(buffer_.data() + offset_in_buffer, bf::kHeaderSize));
  out.header = *header;  // cannot fail: enough bytes
  const BatchHeader& h = out.header;
  if (h.magic != bf::kMagicV2) return torn(StorageErrc::wrong_magic, "magic " + std::to_string(h.magic));
  if (h.batch_length < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead) || h.total_size() > max_batch_bytes_) {
    return torn(Errc::corrupt_data, "implausible batch length " + std::to_string(h.batch_length));
  }
  if (h.total_size() > left) {
    return torn(Errc::truncated, "batch of " + std::to_string(h.total_size()) + " bytes, only " + std::to_string(left) +
                                     " left in the segment (torn write)");
  }
  if (auto s = fill(h.total_size()); !s) return tl::unexpected(s.error());
  offset_in_buffer = static_cast<size_t>(position_ - buffer_start_);
  if (buffer_len_ - offset_in_buffer < h.total_size()) return torn(Errc::truncated, "file shorter than expected");
  out.bytes = ByteSpan(buffer_.data() + offset_in_buffer, h.total_size());
  auto valid = validate_batch_crc(out.bytes, max_batch_bytes_);
  if (!valid) {
    out.status =
        make_error(valid.error().code, "at position " + std::to_string(out.position) + ": " + valid.error().message);
  }
  out.can_skip = true;
  position_ += h.total_size();
  return out;
}

}  // namespace sluice::storage
