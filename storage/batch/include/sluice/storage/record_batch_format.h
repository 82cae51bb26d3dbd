// Byte layout of a record batch: Kafka's RecordBatch v2 (magic 2). All integers are
// big-endian. See storage/FORMAT.md for the full grammar.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::storage::batch_format {

inline constexpr size_t kBaseOffset = 0;             // int64
inline constexpr size_t kBatchLength = 8;            // int32: bytes after this field
inline constexpr size_t kPartitionLeaderEpoch = 12;  // int32
inline constexpr size_t kMagic = 16;                 // int8, always 2
inline constexpr size_t kCrc = 17;                   // uint32 CRC-32C of [kAttributes, end)
inline constexpr size_t kAttributes = 21;            // int16
inline constexpr size_t kLastOffsetDelta = 23;       // int32
inline constexpr size_t kBaseTimestamp = 27;         // int64
inline constexpr size_t kMaxTimestamp = 35;          // int64
inline constexpr size_t kProducerId = 43;            // int64
inline constexpr size_t kProducerEpoch = 51;         // int16
inline constexpr size_t kBaseSequence = 53;          // int32
inline constexpr size_t kRecordCount = 57;           // int32
inline constexpr size_t kRecords = 61;               // records, compressed or not

inline constexpr size_t kHeaderSize = kRecords;  // 61 bytes
// Bytes needed to learn a batch's total size: base offset + batch length.
inline constexpr size_t kLogOverhead = 12;
inline constexpr int8_t kMagicV2 = 2;

// Attribute bits.
inline constexpr int16_t kCompressionMask = 0x07;   // 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
inline constexpr int16_t kTimestampTypeBit = 0x08;  // 0 create time, 1 log-append time
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;
inline constexpr int16_t kDeleteHorizonBit = 0x40;

inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;

}  // namespace sluice::storage::batch_format
