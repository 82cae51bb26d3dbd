// Shared helpers for the storage micro-benchmarks: where logs live on disk, how
// test batches are built, and error handling that aborts a benchmark cleanly.
//
// Every log is created under one per-process root directory, on the same disk as
// the build tree by default (SLUICE_BENCH_DIR overrides it); main() creates the
// root before any benchmark runs and removes it when they are done.
// Thread-safety: bench_root() and make_batch() may be called from any thread once
// init_bench_root() has returned.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/partition_log.h"

namespace sluice::bench {

inline constexpr size_t kKiB = 1024;
inline constexpr size_t kMiB = 1024 * kKiB;

// Creates the per-process root directory and records it (and its file-system type)
// in the benchmark context. Returns false, after printing why, if it cannot.
bool init_bench_root();
// Removes the root directory and everything in it.
void remove_bench_root();
// A fresh, empty directory under the root, named after `name` and a sequence number.
std::string fresh_dir(const std::string& name);
// Removes a directory made by fresh_dir.
void remove_dir(const std::string& dir);

// One uncompressed batch of `records` records, each with a null key and a
// `value_bytes`-byte value, timestamps starting at `timestamp` (+1 ms per record).
Bytes make_batch(int records, size_t value_bytes, int64_t timestamp);
// How many `value_bytes` records fit in a batch of at most `max_batch_bytes` (at least 1).
int records_fitting(size_t max_batch_bytes, size_t value_bytes);
// As many `value_bytes` records as fit in `max_batch_bytes` (header included).
Bytes make_batch_up_to(size_t max_batch_bytes, size_t value_bytes, int64_t timestamp);

// A batch of exactly `exact_bytes`: records of `value_bytes` plus one smaller
// filler record sized to land on the target.
Bytes make_batch_of_size(size_t exact_bytes, size_t value_bytes, int64_t timestamp);

// Opens a log with posix_file_system() and the system clock.
Result<std::unique_ptr<storage::PartitionLog>> open_log(const std::string& dir, storage::LogConfig config);

// Appends batches of `records` records of `value_bytes` bytes until the log holds
// at least `total_bytes`. Timestamps rise by 1 ms per record across batches,
// starting at `first_timestamp`. Returns the bytes appended.
Result<uint64_t> fill_log(storage::PartitionLog& log, uint64_t total_bytes, int records, size_t value_bytes,
                          int64_t first_timestamp);

// Marks the benchmark as failed with the error's text.
void skip_with_error(benchmark::State& state, const std::string& what, const Error& error);

}  // namespace sluice::bench
