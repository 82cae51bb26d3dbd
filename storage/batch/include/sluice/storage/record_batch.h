// Record batches: decoding and validating Kafka RecordBatch v2 bytes, and iterating
// their records. The batch is the unit of storage and transfer: the broker stores
// the producer's bytes as they are, rewriting only base offset and leader epoch
// (which the CRC does not cover).
// Thread-safety: value types; a RecordReader is used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/record_batch_format.h"
#include "sluice/storage/storage_errc.h"

namespace sluice::storage {

enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

enum class ControlType : int16_t { abort = 0, commit = 1 };

// The fixed 61-byte header, decoded.
struct BatchHeader {
  Offset base_offset;
  int32_t batch_length = 0;  // bytes after the length field
  int32_t partition_leader_epoch = -1;
  int8_t magic = batch_format::kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = batch_format::kNoProducerId;
  int16_t producer_epoch = batch_format::kNoProducerEpoch;
  int32_t base_sequence = batch_format::kNoSequence;
  int32_t record_count = 0;

  size_t total_size() const { return batch_format::kLogOverhead + static_cast<size_t>(batch_length); }
  Offset last_offset() const { return base_offset + last_offset_delta; }
  Offset next_offset() const { return base_offset + (int64_t{last_offset_delta} + 1); }
  Compression compression() const { return static_cast<Compression>(attributes & batch_format::kCompressionMask); }
  bool is_transactional() const { return attributes & batch_format::kTransactionalBit; }
  bool is_control() const { return attributes & batch_format::kControlBit; }
  bool log_append_time() const { return attributes & batch_format::kTimestampTypeBit; }
};

// Decodes the header fields, without any check. REQUIRES: kHeaderSize readable bytes at `p`.
inline BatchHeader decode_batch_header(const std::byte* p) {
  namespace bf = batch_format;
  BatchHeader h;
  h.base_offset = Offset(load_be<int64_t>(p + bf::kBaseOffset));
  h.batch_length = load_be<int32_t>(p + bf::kBatchLength);
  h.partition_leader_epoch = load_be<int32_t>(p + bf::kPartitionLeaderEpoch);
  h.magic = load_be<int8_t>(p + bf::kMagic);
  h.crc = load_be<uint32_t>(p + bf::kCrc);
  h.attributes = load_be<int16_t>(p + bf::kAttributes);
  h.last_offset_delta = load_be<int32_t>(p + bf::kLastOffsetDelta);
  h.base_timestamp = load_be<int64_t>(p + bf::kBaseTimestamp);
  h.max_timestamp = load_be<int64_t>(p + bf::kMaxTimestamp);
  h.producer_id = load_be<int64_t>(p + bf::kProducerId);
  h.producer_epoch = load_be<int16_t>(p + bf::kProducerEpoch);
  h.base_sequence = load_be<int32_t>(p + bf::kBaseSequence);
  h.record_count = load_be<int32_t>(p + bf::kRecordCount);
  return h;
}

// Reads the header fields without any check beyond "enough bytes for a header".
Result<BatchHeader> read_batch_header(ByteSpan bytes);

struct ValidationOptions {
  size_t max_batch_bytes = 1 << 20;
  // Decode every record (decompressing if needed) to check count and offset deltas.
  // Recovery and reads never need it: the batch passed it when it was appended.
  bool check_records = true;
  // Cap on a decompressed records section, against decompression bombs.
  size_t max_uncompressed_bytes = 64u << 20;
  // A batch a producer sent, which must be one a consumer can read: refuses codecs
  // other than none and zstd (unsupported_compression), control batches (only the
  // broker writes markers), transactional batches (no transaction coordinator yet),
  // and a batch without records or whose record count is not last_offset_delta + 1
  // (invalid_record). With check_records, the record deltas are then exactly
  // 0..record_count-1.
  bool from_client = false;
  // With check_records: a record without a key is invalid_record (a compacted
  // topic's records are kept by key, as Kafka refuses keyless ones there).
  bool require_keys = false;
  // Holds a compressed batch's records while they are checked. Reused across calls,
  // it grows only for a batch that decompresses larger than every one before; its
  // size is that high-water mark, not the last batch's. Null: a buffer per call.
  Bytes* scratch = nullptr;
};

// Checks one batch at the start of `bytes`: magic, length within the buffer and the
// size limit, CRC, (with from_client) what a client may write, and (with
// check_records) record count and offset deltas.
// Returns the header on success; trailing bytes after the batch are ignored.
Result<BatchHeader> validate_batch(ByteSpan bytes, const ValidationOptions& options = {});

// Checks only the framing: magic, lengths, non-negative counts, and offsets whose
// next_offset() cannot overflow. Not the CRC, not the records.
Result<BatchHeader> validate_batch_framing(ByteSpan bytes, size_t max_batch_bytes);

// Checks framing and CRC (no record decode): what recovery and reads need.
Result<BatchHeader> validate_batch_crc(ByteSpan bytes, size_t max_batch_bytes);

// Overwrites base offset in the batch bytes; the CRC stays valid.
void stamp_base_offset(MutableByteSpan batch, Offset base_offset);

struct RecordHeader {
  std::string_view key;
  std::optional<ByteSpan> value;  // nullopt is a null header value
};

// A decoded record. Spans point into the batch (or into the RecordReader's
// decompression buffer) and live as long as those bytes.
struct Record {
  Offset offset;
  int64_t timestamp = 0;
  int8_t attributes = 0;
  std::optional<ByteSpan> key;    // nullopt is a null key
  std::optional<ByteSpan> value;  // nullopt is a null value (a tombstone)
  std::vector<RecordHeader> headers;
  // The whole encoded record, length prefix included, as the batch holds it: its offset
  // and timestamp are deltas from the batch's bases, so the bytes move to a batch with
  // the same bases unchanged (compaction's filter_batch).
  ByteSpan encoded;
};

// Iterates the records of one batch. REQUIRES: the batch passed validate_batch_crc
// (or is otherwise known to be structurally sound); record-level damage is still
// reported as an error, never undefined behaviour.
class RecordReader {
 public:
  // A compressed batch is decompressed into `scratch` when given (the records'
  // spans then point into it; see ValidationOptions::scratch), else into a buffer
  // the reader owns.
  static Result<RecordReader> open(ByteSpan batch, size_t max_uncompressed_bytes = 64u << 20, Bytes* scratch = nullptr);

  // Fills `out` with the next record; returns false at the end of the batch.
  Result<bool> next(Record& out);
  const BatchHeader& header() const { return header_; }
  int32_t records_read() const { return read_; }
  // Hands over the decompressed records of a compressed batch (empty for an
  // uncompressed one or one decompressed into a caller's scratch), which the spans
  // from next() point into. Moving a vector keeps its buffer, so those spans stay
  // valid in the returned vector.
  Bytes release_decompressed() { return std::move(decompressed_); }

 private:
  RecordReader(BatchHeader header, ByteSpan records, Bytes decompressed = {});

  BatchHeader header_;
  Bytes decompressed_;
  ByteSpan records_;
  size_t pos_ = 0;
  int32_t read_ = 0;
  int64_t previous_delta_ = -1;
};

// Decodes every record of a batch into `out` (cleared first). The records' spans
// point into `batch` or into `scratch`.
Status decode_records(ByteSpan batch, std::vector<Record>& out, Bytes& scratch);

struct ControlRecord {
  ControlType type;
  int32_t coordinator_epoch = 0;
};
// Parses the key and value of a record in a control batch.
Result<ControlRecord> parse_control_record(const Record& record);

}  // namespace sluice::storage
