// Walks the batches of a segment file in order, reading in large chunks, checking
// each batch's framing and CRC. Used by recovery, index rebuilds and sluice-dump.
// Thread-safety: one thread per scanner; the file may be appended to meanwhile
// (the scanner stops at the end position it was given).
#pragma once

#include <cstdint>
#include <optional>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/record_batch.h"

namespace sluice::storage {

struct ScannedBatch {
  uint64_t position = 0;
  BatchHeader header;  // meaningful when the first 61 bytes could be read
  ByteSpan bytes;      // the whole batch, valid until the next call to next()
  Status status;       // ok, or why this batch is bad
  // True when the batch's length field can be trusted enough to skip to the next
  // batch (CRC or record-level damage); false for a torn or garbled frame.
  bool can_skip = false;
};

class SegmentScanner {
 public:
  // Scans [start, end) of `file`. Batches longer than max_batch_bytes are damage.
  SegmentScanner(const File& file, uint64_t start, uint64_t end, size_t max_batch_bytes);

  // The next batch, or nullopt at `end`. A bad batch is returned with an error
  // status; calling next() again after one that cannot be skipped returns nullopt.
  Result<std::optional<ScannedBatch>> next();

  uint64_t position() const { return position_; }

 private:
  Status fill(size_t need);

  const File& file_;
  uint64_t position_;
  uint64_t end_;
  size_t max_batch_bytes_;
  bool stopped_ = false;
  Bytes buffer_;
  uint64_t buffer_start_ = 0;  // file position of buffer_[0]
  size_t buffer_len_ = 0;
};

}  // namespace sluice::storage
