// Turns the record bytes of one partition in a fetch response into
// ConsumerRecords whose keys and values point into those bytes.
//
//   records := batch* partial-batch?
//
// The broker sends whole batches, so the first one may start below the fetch
// offset: records below it are skipped. The last batch may be cut short by the
// byte limits and is ignored (the next fetch starts at it). Control batches
// (transaction markers) yield no records but move the next offset past them.
// Compressed (zstd) batches are decompressed by the storage codec.
// Thread-safety: plain function.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/consumer/consumer_record.h"

namespace sluice::consumer {

struct DecodedRecords {
  std::vector<ConsumerRecord> records;
  // Where the next fetch starts: after the last whole batch, or fetch_offset if none.
  int64_t next_offset = 0;
};

// Errors: CORRUPT_MESSAGE when the first whole batch fails its CRC or does not
// decode (a later bad batch just ends the result early; the next fetch reports
// it), MESSAGE_TOO_LARGE when the bytes hold only part of one batch.
// `bytes_owner` keeps `bytes` alive; every record shares it (or, for a
// compressed batch, the decompressed records).
// Whether decode_batches checks each batch's CRC (ConsumerConfig::check_crcs).
enum class CheckCrcs : bool { no, yes };

Result<DecodedRecords> decode_batches(const TopicPartition& tp, ByteSpan bytes, int64_t fetch_offset,
                                      CheckCrcs check_crcs, const std::shared_ptr<const void>& bytes_owner);

// Where the next fetch starts, judged from the batch headers alone: what
// decode_batches returns as next_offset when every whole batch is intact.
int64_t next_offset_after(ByteSpan bytes, int64_t fetch_offset);

}  // namespace sluice::consumer
