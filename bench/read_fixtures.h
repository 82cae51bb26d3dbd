// Pre-written logs shared by the read-side benchmarks. Each is built on first
// use (outside any timing loop), synced so writeback does not disturb the
// measurements, closed and reopened (so indexes come from their files, as after
// a clean restart), and read through once so it sits in the page cache.
// Thread-safety: call from benchmark bodies that run on one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/partition_log.h"
#include "sluice/storage/segment.h"

namespace sluice::bench {

struct ReadFixture {
  std::string dir;
  std::unique_ptr<storage::PartitionLog> log;
  // The log's single segment opened a second time, read-only, to time
  // Segment::position_of on its own. Null for the page-cache log.
  std::unique_ptr<storage::Segment> segment;
  uint64_t bytes = 0;
  int records_per_batch = 0;
  int64_t first_timestamp = 0;
  int64_t last_timestamp = 0;
  Offset end_offset{0};
};

// ~512 MiB of 64 KiB batches (1 KiB records) in one segment. SLUICE_BENCH_LOG_MIB
// overrides the size.
Result<ReadFixture*> page_cache_log();
// ~512 MiB of single-record 1 KiB batches in one segment: with the default 4 KiB
// index interval, one offset-index entry per ~4 batches (~120k entries).
// SLUICE_BENCH_LOG_MIB overrides the size.
Result<ReadFixture*> small_batch_log();

// Closes and deletes both logs (main() calls this before removing the root).
void release_read_fixtures();

}  // namespace sluice::bench
