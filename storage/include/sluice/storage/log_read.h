// What a read of a partition log takes (ReadOptions) and returns (ReadResult).
// One options struct per operation, as Redpanda's log_reader_config: a new bound
// (read_committed's last stable offset) is a field, not another parameter.
//
//   offsets:  [log start ........ upper_bound) ...... log end)
//                     ^ read offset            no batch that passes upper_bound is returned
//
// Thread-safety: value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "sluice/common/strong_int.h"

namespace sluice::storage {

class Segment;

// copy: the batches are copied into the caller's buffer (and also returned as
// file regions). locate: bytes checked before are only located (file regions, for
// sendfile); the buffer is scratch for checking the rest.
enum class ReadMode : bool { copy, locate };

// Whether the first batch is returned even when it alone is over max_bytes (Kafka's
// KIP-74: a consumer always progresses).
enum class MinOneBatch : bool { no, yes };

struct ReadOptions {
  size_t max_bytes = 1 << 20;
  // Exclusive: a batch is returned only if it ends at or before this offset. The
  // log end bounds every read as well; the default is no bound beyond it (today's
  // high watermark on one node). read_committed will pass the last stable offset.
  Offset upper_bound{std::numeric_limits<int64_t>::max()};
  ReadMode mode = ReadMode::copy;
  MinOneBatch min_one_batch = MinOneBatch::yes;
};

// Where bytes returned by a read lie in the segment files, so they can be sent
// without copying them (sendfile). Holding the segment keeps its file open even
// after retention removes it.
struct FileRegion {
  std::shared_ptr<const Segment> segment;
  uint64_t position = 0;
  uint64_t size = 0;
};

struct ReadResult {
  size_t bytes = 0;  // whole batches copied to the front of the caller's buffer
  size_t batches = 0;
  int64_t records = 0;              // in those batches
  std::vector<FileRegion> regions;  // the same bytes, in order, as file ranges
  Offset next_offset;               // where the next read should start
  Offset log_start_offset;
  Offset log_end_offset;
};

struct TimestampLookup {
  Offset offset;          // first record with timestamp >= the target
  int64_t timestamp = 0;  // that record's timestamp
};

}  // namespace sluice::storage
